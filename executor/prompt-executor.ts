/**
 * Runs validated prompts (ComfyUI's PromptExecutor, spec §3.4–3.11). Keys every node, reports
 * cache hits, runs the needed nodes in ComfyUI's order and reports through the event sink.
 * `execute` never rejects: failures and interrupts become an error status for history.
 */
import type { NodeMeta, UiOutput } from '../compat/api-types.js';
import { InterruptedError, resolveInputTypes, type NodeEnvironment } from '../nodes/node-api.js';
import { RamPressureStore, type RamPressureOptions } from './cache-ram.js';
import { FingerprintCache, InputSignatureKeySet } from './cache-keys.js';
import { HierarchicalStore, LruStore, NullStore, type OutputStore } from './cache-stores.js';
import { DynamicPrompt } from './dynamic-prompt.js';
import { exceptionMessage, exceptionTypeName, tracebackLines } from './error-format.js';
import { executeNode, replayCachedUi } from './execute-node.js';
import { ExecutionList, type SchedulerHost } from './execution-list.js';
import { inputInfo } from './input-data.js';
import { isListenable } from './interrupt.js';
import { MessageRouter, ProgressRegistry } from './messages.js';
import type { FailureDetails, PromptRun } from './run-state.js';
import type { CachePolicyName, ExecutionEventSink, ExecutionJob, ExecutionResult, InterruptFlag } from './types.js';
import type { NodeLookup } from './validate-node.js';

export interface PromptExecutorOptions {
  nodes: NodeLookup;
  env: NodeEnvironment;
  cache: CachePolicyName;
  events: ExecutionEventSink;
  /** Tuning for the `ram` policy (headroom, free-memory probe); defaults follow ComfyUI. */
  ramPressure?: RamPressureOptions;
}

/** How often a running prompt looks at an interrupt flag that can't notify it. */
const INTERRUPT_POLL_MS = 20;

export class PromptExecutor {
  private store: OutputStore;

  constructor(private readonly opts: PromptExecutorOptions) {
    this.store = createStore(opts.cache, opts.ramPressure);
  }

  /** `/free {"free_memory": true}`: forget every cached result. */
  clearCaches(): void {
    this.store = createStore(this.opts.cache, this.opts.ramPressure);
  }

  async execute(job: ExecutionJob, interrupt: InterruptFlag): Promise<ExecutionResult> {
    const router = new MessageRouter(this.opts.events, clientIdOf(job), this.opts.env.log);
    const run = { uiOutputs: new Map() } as Partial<PromptRun>;
    let success = false;
    try {
      success = await this.run(job, interrupt, router, run);
    } catch (err) {
      this.opts.env.log.error(`executor: prompt ${job.promptId} crashed: ${exceptionMessage(err)}`);
      reportFailure(router, job, run, { node_id: '', ...describeError(err) }, false, []);
    }
    const outputs: Record<string, UiOutput> = {};
    const meta: Record<string, NodeMeta> = {};
    for (const [id, record] of run.uiOutputs!) {
      // defineProperty: a node id "__proto__" must become an own key, not the object's prototype.
      Object.defineProperty(outputs, id, { value: record.output, enumerable: true, writable: true, configurable: true });
      Object.defineProperty(meta, id, { value: record.meta, enumerable: true, writable: true, configurable: true });
    }
    return { status: { status_str: success ? 'success' : 'error', completed: success, messages: router.statusMessages }, outputs, meta };
  }

  private async run(job: ExecutionJob, interrupt: InterruptFlag, router: MessageRouter, partial: Partial<PromptRun>): Promise<boolean> {
    interrupt.reset();
    router.lifecycle('execution_start', { prompt_id: job.promptId });
    const dyn = new DynamicPrompt(job.prompt);
    const currentOutputs = await this.keyPrompt(job, dyn, router);
    const abort = watchInterrupt(interrupt);
    const { nodes, env } = this.opts;
    const run: PromptRun = Object.assign(partial, {
      promptId: job.promptId,
      prompt: job.prompt,
      extraData: { ...job.extraData, ...(job.sensitive ?? {}) },
      previewMethod: previewMethodOf(job.extraData, env),
      dyn,
      list: new ExecutionList(dyn, schedulerHost(dyn, nodes, env, this.store)),
      store: this.store,
      nodes,
      env,
      router,
      progress: new ProgressRegistry(router, dyn, job.promptId),
      interrupt,
      signal: abort.signal,
      executed: new Set<string>(),
      uiOutputs: partial.uiOutputs!,
      pendingSubgraphs: new Map(),
      pendingAsync: new Map(),
    });
    try {
      return await runLoop(run, job, currentOutputs);
    } finally {
      abort.stop();
    }
  }

  /** Keys every prompt node, reports the hits; returns the node ids the cache knows (`current_outputs`). */
  private async keyPrompt(job: ExecutionJob, dyn: DynamicPrompt, router: MessageRouter): Promise<string[]> {
    const { nodes, env } = this.opts;
    const fingerprints = new FingerprintCache(dyn, nodes, env);
    const nodeIds = Object.keys(job.prompt);
    await this.store.setPrompt(dyn, () => new InputSignatureKeySet(dyn, fingerprints, nodes, env), nodeIds);
    this.store.cleanUnused();
    const cachedNodes = nodeIds.filter((id) => this.store.get(id) !== undefined);
    router.lifecycle('execution_cached', { nodes: cachedNodes, prompt_id: job.promptId });
    return this.store.allNodeIds();
  }
}

function createStore(policy: CachePolicyName, ram?: RamPressureOptions): OutputStore {
  switch (policy.kind) {
    case 'classic':
      return new HierarchicalStore();
    case 'lru':
      return new LruStore(policy.size);
    case 'none':
      return new NullStore();
    case 'ram':
      return new RamPressureStore(ram);
  }
}

function clientIdOf(job: ExecutionJob): string | undefined {
  const id = job.extraData.client_id;
  return id === undefined || id === null ? undefined : String(id);
}

function previewMethodOf(extraData: Record<string, unknown>, env: NodeEnvironment): string {
  const method = extraData.preview_method;
  return typeof method === 'string' && method !== '' && method !== 'default' ? method : env.previewMethod;
}

/** Aborts `ctx.signal` once the flag is set (at once if the flag can notify, else by polling). */
function watchInterrupt(flag: InterruptFlag): { signal: AbortSignal; stop: () => void } {
  const controller = new AbortController();
  const abort = () => {
    if (!controller.signal.aborted) controller.abort(new InterruptedError());
  };
  const unsubscribe = isListenable(flag) ? flag.onSet(abort) : () => {};
  const timer = setInterval(() => flag.isSet && abort(), INTERRUPT_POLL_MS);
  timer.unref();
  return {
    signal: controller.signal,
    // Async work a failed run left behind is told to stop too.
    stop: () => {
      clearInterval(timer);
      unsubscribe();
      abort();
    },
  };
}

function schedulerHost(dyn: DynamicPrompt, nodes: NodeLookup, env: NodeEnvironment, store: OutputStore): SchedulerHost {
  const def = (id: string) => nodes.get(dyn.getNode(id).class_type);
  return {
    isCached: (id) => store.getLocal(id) !== undefined,
    cachedValue: (id) => store.getLocal(id),
    isLazyInput: (id, name) => {
      const d = def(id);
      return d !== undefined && inputInfo(resolveInputTypes(d, env), name)?.options.lazy === true;
    },
    isOutputNode: (id) => def(id)?.outputNode === true,
    isAsyncNode: (id) => def(id)?.execute.constructor.name === 'AsyncFunction',
  };
}

async function runLoop(run: PromptRun, job: ExecutionJob, currentOutputs: string[]): Promise<boolean> {
  let staged = '';
  try {
    for (const id of job.outputsToExecute) run.list.addNode(id);
    while (!run.list.isEmpty()) {
      const next = await run.list.stage();
      if (next === null) break;
      if ('cycle' in next) {
        reportFailure(run.router, job, run, cycleFailure(run, next.cycle), false, currentOutputs);
        return false;
      }
      staged = next.nodeId;
      const outcome = await executeNode(run, staged);
      if (outcome.kind === 'failure') {
        reportFailure(run.router, job, run, outcome.details, outcome.interrupted, currentOutputs);
        return false;
      }
      if (outcome.kind === 'pending') run.list.unstage();
      else run.list.complete();
      run.store.afterNode();
    }
  } catch (err) {
    reportFailure(run.router, job, run, { node_id: staged || (job.outputsToExecute[0] ?? ''), ...describeError(err) }, false, currentOutputs);
    return false;
  }
  replayIntermediateOutputs(run);
  run.router.lifecycle('execution_success', { prompt_id: job.promptId });
  return true;
}

/** Nodes flagged HAS_INTERMEDIATE_OUTPUT that didn't run show their cached UI again. */
function replayIntermediateOutputs(run: PromptRun): void {
  for (const id of run.dyn.allNodeIds()) {
    if (run.executed.has(id) || run.nodes.get(run.dyn.getNode(id).class_type)?.hasIntermediateOutput !== true) continue;
    const cached = run.store.get(id);
    if (cached) replayCachedUi(run, id, cached);
  }
}

function cycleFailure(run: PromptRun, cycle: string[]): FailureDetails {
  const blamed = cycle.find((id) => run.dyn.displayNodeId(id) !== id);
  return {
    node_id: blamed !== undefined ? run.dyn.displayNodeId(blamed) : cycle[0]!,
    exception_message: 'Dependency cycle detected',
    exception_type: 'graph.DependencyCycleError',
    traceback: [],
    current_inputs: [],
  };
}

function describeError(err: unknown): Omit<FailureDetails, 'node_id'> {
  return {
    exception_message: `${exceptionMessage(err)}\n`,
    exception_type: exceptionTypeName(err),
    traceback: tracebackLines(err),
    current_inputs: {},
  };
}

function reportFailure(
  router: MessageRouter,
  job: ExecutionJob,
  run: Partial<PromptRun>,
  details: FailureDetails,
  interrupted: boolean,
  currentOutputs: string[],
): void {
  const common = {
    prompt_id: job.promptId,
    node_id: details.node_id,
    node_type: job.prompt[details.node_id]?.class_type ?? null,
    executed: [...(run.executed ?? [])],
  };
  if (interrupted) {
    router.lifecycle('execution_interrupted', common, true);
    return;
  }
  router.lifecycle('execution_error', {
    ...common,
    exception_message: details.exception_message,
    exception_type: details.exception_type,
    traceback: details.traceback,
    current_inputs: details.current_inputs,
    current_outputs: currentOutputs,
  });
}
