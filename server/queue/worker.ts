/**
 * The worker loop of spec §3.4 / ComfyUI's `prompt_worker`: pop → `status` → reset interrupt →
 * execute → record history (`status`) → `executing {node: null}` to the client → `/free` flags.
 * A failing prompt never stops the loop and never touches the other queued prompts.
 */
import type { ExecutionJob, ExecutionResult, InterruptFlag } from '../../executor/types.js';
import type { Logger } from '../../nodes/node-api.js';
import { DEFAULT_OWNER } from './history-store.js';
import type { FileOwners } from './persistence.js';
import type { PromptQueue } from './prompt-queue.js';

export interface JobExecutor {
  execute(job: ExecutionJob, interrupt: InterruptFlag): Promise<ExecutionResult>;
  clearCaches(): void;
}

/** What the worker needs of the WebSocket hub. */
export interface WorkerMessenger {
  send(type: string, data: Record<string, unknown>, sid?: string): void;
  /** The client of the running prompt (for the reconnect `executing` replay); undefined when idle. */
  setRunningClient(clientId: string | undefined): void;
  /** The user whose prompt runs: its events go only to that user's sockets (and admins'). */
  setRunningOwner?(owner: string | undefined): void;
}

export interface WorkerDeps {
  queue: PromptQueue;
  executor: JobExecutor;
  interrupt: InterruptFlag;
  messenger: WorkerMessenger;
  log: Logger;
  /** Unloads models (`/free {unload_models}`); optional until a model cache exists. */
  unloadModels?: () => void;
  /** Records who owns each file a prompt saved. */
  files?: FileOwners;
}

export class PromptWorker {
  private stopped = true;
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: WorkerDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops after the current job (the running prompt is interrupted). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.deps.queue.running()) this.deps.interrupt.set();
    this.deps.queue.wake();
    await this.loop;
  }

  /**
   * SIGTERM: take no new job, let the running one finish for up to `timeoutMs`. True if it
   * finished; false if it was still running (it stays queued on disk and runs after a restart).
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stopped = true;
    this.deps.queue.wake();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const finished = (this.loop ?? Promise.resolve()).then(() => true);
    const done = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    return done;
  }

  private async run(): Promise<void> {
    const { queue } = this.deps;
    while (!this.stopped) {
      const job = queue.startNext();
      if (job) await this.runJob(job);
      this.processFreeFlags();
      if (!job && !this.stopped) await queue.waitForWork();
    }
  }

  private async runJob(job: ExecutionJob): Promise<void> {
    const { queue, executor, interrupt, messenger, log } = this.deps;
    const clientId = typeof job.extraData['client_id'] === 'string' ? (job.extraData['client_id'] as string) : undefined;
    const started = performance.now();
    const owner = (job as { owner?: string }).owner ?? DEFAULT_OWNER;
    interrupt.reset();
    messenger.setRunningClient(clientId);
    messenger.setRunningOwner?.(owner);
    const result = await this.executeSafely(job);
    this.recordFileOwners(result, owner);
    queue.finish({ outputs: result.outputs, status: result.status, meta: result.meta });
    messenger.setRunningClient(undefined);
    if (clientId !== undefined) messenger.send('executing', { node: null, prompt_id: job.promptId }, clientId);
    messenger.setRunningOwner?.(undefined);
    log.info(`Prompt executed in ${((performance.now() - started) / 1000).toFixed(2)} seconds`);
  }

  /** The executor never rejects by contract; this guards the loop if it does anyway. */
  private async executeSafely(job: ExecutionJob): Promise<ExecutionResult> {
    try {
      return await this.deps.executor.execute(job, this.deps.interrupt);
    } catch (err) {
      this.deps.log.error(`executor failed on prompt ${job.promptId}:`, err);
      return crashResult(job.promptId, err);
    }
  }

  /** Every `{filename, subfolder, type}` a node reported in its UI output belongs to the prompt's user. */
  private recordFileOwners(result: ExecutionResult, owner: string): void {
    const files = this.deps.files;
    if (!files) return;
    for (const output of Object.values(result.outputs ?? {})) {
      for (const list of Object.values(output as Record<string, unknown>)) {
        if (!Array.isArray(list)) continue;
        for (const item of list as Array<Record<string, unknown>>) {
          if (item && typeof item === 'object' && typeof item['filename'] === 'string') {
            files.record({ type: String(item['type'] ?? 'output'), subfolder: String(item['subfolder'] ?? ''), filename: item['filename'] }, owner);
          }
        }
      }
    }
  }

  private processFreeFlags(): void {
    const flags = this.deps.queue.takeFlags();
    if (flags.unloadModels || flags.freeMemory) this.deps.unloadModels?.();
    if (flags.freeMemory) this.deps.executor.clearCaches();
  }
}

/** A history result for an executor that threw: an `execution_error` with what is known. */
function crashResult(promptId: string, err: unknown): ExecutionResult {
  const data = {
    prompt_id: promptId,
    timestamp: Date.now(),
    node_id: '',
    node_type: '',
    executed: [],
    exception_message: err instanceof Error ? err.message : String(err),
    exception_type: err instanceof Error ? err.name : 'Exception',
    traceback: [],
    current_inputs: {},
    current_outputs: [],
  };
  return { status: { status_str: 'error', completed: false, messages: [['execution_error', data]] }, outputs: {}, meta: {} };
}
