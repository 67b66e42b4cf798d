/**
 * The prompt queue (spec §3.4): pending jobs ordered by (number, prompt_id), at most one running
 * job, the history store, and the `/free` flags. Every change calls `onChange` (the WS `status`
 * broadcast).
 */
import type { HistoryEntry, QueueItem } from '../../compat/api-types.js';
import type { ExecutionJob } from '../../executor/types.js';
import { MemoryHistoryStore, type HistoryStore } from './history-store.js';

export interface FreeFlags {
  unloadModels: boolean;
  freeMemory: boolean;
}

export function toQueueItem(job: ExecutionJob): QueueItem {
  return [job.number, job.promptId, job.prompt, job.extraData, job.outputsToExecute];
}

function compareJobs(a: ExecutionJob, b: ExecutionJob): number {
  if (a.number !== b.number) return a.number - b.number;
  return a.promptId < b.promptId ? -1 : a.promptId > b.promptId ? 1 : 0;
}

export class PromptQueue {
  private pendingJobs: ExecutionJob[] = [];
  private runningJob: ExecutionJob | null = null;
  private flags: FreeFlags = { unloadModels: false, freeMemory: false };
  private wakers: Array<() => void> = [];
  /** ComfyUI's `self.number`: the priority counter for jobs without an explicit number. */
  private counter = 0;

  constructor(
    readonly history: HistoryStore = new MemoryHistoryStore(),
    private readonly onChange: () => void = () => {},
  ) {}

  /** Priority for a new job (spec §1.2): explicit number, else the counter (negated with front). */
  nextNumber(explicit: number | undefined, front: boolean): number {
    if (explicit !== undefined) return explicit;
    const n = front ? -this.counter : this.counter;
    this.counter++;
    return n;
  }

  put(job: ExecutionJob): void {
    const i = this.pendingJobs.findIndex((p) => compareJobs(job, p) < 0);
    if (i < 0) this.pendingJobs.push(job);
    else this.pendingJobs.splice(i, 0, job);
    this.onChange();
    this.wake();
  }

  /** Takes the first pending job and marks it running; null if none (or one already runs). */
  startNext(): ExecutionJob | null {
    if (this.runningJob || this.pendingJobs.length === 0) return null;
    this.runningJob = this.pendingJobs.shift()!;
    this.onChange();
    return this.runningJob;
  }

  /** Records the running job's history entry and clears it. */
  finish(entry: Omit<HistoryEntry, 'prompt'>): void {
    const job = this.runningJob;
    if (!job) return;
    this.runningJob = null;
    this.history.add(job.promptId, { prompt: toQueueItem(job), ...entry });
    this.onChange();
  }

  running(): ExecutionJob | null {
    return this.runningJob;
  }

  pending(): ExecutionJob[] {
    return this.pendingJobs.slice();
  }

  /** pending + running (`queue_remaining`). */
  remaining(): number {
    return this.pendingJobs.length + (this.runningJob ? 1 : 0);
  }

  /** Removes a pending job by id; true if one was removed. */
  delete(promptId: string): boolean {
    const i = this.pendingJobs.findIndex((j) => j.promptId === promptId);
    if (i < 0) return false;
    this.pendingJobs.splice(i, 1);
    this.onChange();
    return true;
  }

  wipe(): void {
    this.pendingJobs = [];
    this.onChange();
  }

  setFlag(name: keyof FreeFlags): void {
    this.flags[name] = true;
    this.wake();
  }

  /** Returns and resets the `/free` flags. */
  takeFlags(): FreeFlags {
    const f = this.flags;
    this.flags = { unloadModels: false, freeMemory: false };
    return f;
  }

  /** Resolves when a job is queued, a flag is set, or `wake()` is called. */
  waitForWork(): Promise<void> {
    if (this.pendingJobs.length > 0 || this.flags.freeMemory || this.flags.unloadModels) return Promise.resolve();
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const resolve of w) resolve();
  }
}
