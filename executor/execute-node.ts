/**
 * Running one staged node (ComfyUI's `execute`, spec §3.5–3.8): replay a cache hit, or gather
 * inputs, ask for lazy inputs, call the function over its lists, then record UI, splice an
 * expansion, or store the outputs. Failures come back as an outcome, never thrown.
 */
import { ExecutionBlocker, InterruptedError, resolveInputTypes, type ExecutionContext, type NodeDefinition } from '../nodes/node-api.js';
import type { CacheEntry } from './cache-entry.js';
import { nodeInputs } from './dynamic-prompt.js';
import { exceptionMessage, exceptionTypeName, tracebackLines } from './error-format.js';
import { resolveExpansionResults, spliceExpansion } from './expansion.js';
import { gatherInputs, sliceCalls, type GatheredInputs } from './input-data.js';
import { AsyncCall, formatInputs, mapOverList, outputsFromReturns, resolveCalls, type Produced } from './run-node.js';
import { definitionOf, type NodeOutcome, type PromptRun } from './run-state.js';

export async function executeNode(run: PromptRun, nodeId: string): Promise<NodeOutcome> {
  const def = definitionOf(run, nodeId);
  const cached = run.store.get(nodeId) ?? run.list.producedValue(nodeId);
  if (cached) {
    replayCachedUi(run, nodeId, cached);
    run.progress.finish(nodeId);
    run.list.recordValue(nodeId, cached);
    return { kind: 'success' };
  }
  let gathered: GatheredInputs | undefined;
  try {
    let produced: Produced;
    if (run.pendingAsync.has(nodeId)) {
      const returns = await resolveCalls(run.pendingAsync.get(nodeId)!);
      run.pendingAsync.delete(nodeId);
      produced = outputsFromReturns(returns, def);
    } else if (run.pendingSubgraphs.has(nodeId)) {
      produced = { hasSubgraph: false, outputs: resolveExpansionResults(run, nodeId, def), ui: {} };
    } else {
      run.progress.start(nodeId);
      gathered = gatherNodeInputs(run, nodeId, def);
      run.router.toClient('executing', { node: nodeId, display_node: run.dyn.displayNodeId(nodeId), prompt_id: run.promptId });
      const ctx = createContext(run, nodeId);
      if (def.checkLazyStatus && (await needsMoreInputs(run, nodeId, def, gathered, ctx))) return { kind: 'pending' };
      const returns = await callNode(run, nodeId, def, gathered, ctx);
      if (returns.some((r) => r instanceof AsyncCall)) return waitForAsync(run, nodeId, returns);
      produced = outputsFromReturns(returns, def);
    }
    return await finishNode(run, nodeId, produced);
  } catch (err) {
    return failure(run, nodeId, err, gathered);
  }
}

function gatherNodeInputs(run: PromptRun, nodeId: string, def: NodeDefinition): GatheredInputs {
  const types = resolveInputTypes(def, run.env);
  const readLink = ([from, slot]: [string, number]) => {
    const entry = run.list.readValue(from, nodeId);
    if (!entry || slot >= entry.outputs.length) return undefined;
    run.store.setLocal(from, entry);
    return entry.outputs[slot];
  };
  return gatherInputs(nodeInputs(run.dyn.getNode(nodeId)), types, nodeId, readLink, {
    prompt: run.prompt,
    dynprompt: run.dyn,
    extraData: run.extraData,
  });
}

function createContext(run: PromptRun, nodeId: string): ExecutionContext {
  const checkInterrupt = () => {
    if (run.interrupt.isSet) throw new InterruptedError();
  };
  return {
    nodeId,
    promptId: run.promptId,
    env: run.env,
    signal: run.signal,
    previewMethod: run.previewMethod,
    checkInterrupt,
    progress(value, max, preview) {
      checkInterrupt();
      run.router.addressed('progress', { value, max, prompt_id: run.promptId, node: nodeId });
      if (preview) run.router.preview(preview, run.progress.previewMeta(nodeId));
      run.progress.update(nodeId, value, max);
    },
    progressText(text) {
      run.router.progressText(nodeId, text);
    },
  };
}

/** check_lazy_status: requested, not yet evaluated inputs become dependencies and the node waits. */
async function needsMoreInputs(run: PromptRun, nodeId: string, def: NodeDefinition, gathered: GatheredInputs, ctx: ExecutionContext): Promise<boolean> {
  const calls = sliceCalls(gathered.values, def.inputIsList === true);
  const beforeCall = () => ctx.checkInterrupt();
  const answers = await resolveCalls(await mapOverList(calls, (args) => def.checkLazyStatus!(args, ctx), { inputIsList: def.inputIsList === true, beforeCall }));
  const requested = new Set(answers.filter((a): a is string[] => Array.isArray(a)).flat());
  const needed = [...requested].filter((name) => typeof name === 'string' && (!(name in gathered.values) || gathered.missing.has(name)));
  if (needed.length > 0) {
    for (const name of needed) run.list.makeInputStrongLink(nodeId, name);
    return true;
  }
  return run.list.isStagedNodeBlocked();
}

async function callNode(run: PromptRun, nodeId: string, def: NodeDefinition, gathered: GatheredInputs, ctx: ExecutionContext): Promise<unknown[]> {
  const inputIsList = def.inputIsList === true;
  return mapOverList(sliceCalls(gathered.values, inputIsList), (args) => def.execute(args, ctx), {
    inputIsList,
    beforeCall: () => ctx.checkInterrupt(),
    onBlocked: (blocker) => reportBlocker(run, nodeId, blocker),
  });
}

/** A blocker with a message is reported once (as an execution_error) and then travels silently. */
function reportBlocker(run: PromptRun, nodeId: string, blocker: ExecutionBlocker): ExecutionBlocker {
  if (blocker.message === null) return blocker;
  run.router.toClient('execution_error', {
    prompt_id: run.promptId,
    node_id: nodeId,
    node_type: run.dyn.getNode(nodeId).class_type,
    executed: [...run.executed],
    exception_message: `Execution Blocked: ${blocker.message}`,
    exception_type: 'ExecutionBlocked',
    traceback: [],
    current_inputs: [],
    current_outputs: [],
  });
  return new ExecutionBlocker(null);
}

/** Async calls still running: the node waits outside the graph and is staged again when they settle. */
function waitForAsync(run: PromptRun, nodeId: string, returns: unknown[]): NodeOutcome {
  run.pendingAsync.set(nodeId, returns);
  const unblock = run.list.addExternalBlock(nodeId);
  const calls = returns.filter((r): r is AsyncCall => r instanceof AsyncCall);
  void Promise.all(calls.map((c) => c.done)).then(unblock);
  return { kind: 'pending' };
}

async function finishNode(run: PromptRun, nodeId: string, produced: Produced): Promise<NodeOutcome> {
  let ui = run.uiOutputs.get(nodeId) ?? null;
  if (Object.keys(produced.ui).length > 0) {
    ui = { meta: nodeMeta(run, nodeId), output: produced.ui };
    run.uiOutputs.set(nodeId, ui);
    run.router.toClient('executed', { node: nodeId, display_node: run.dyn.displayNodeId(nodeId), output: produced.ui, prompt_id: run.promptId });
  }
  if (produced.hasSubgraph) {
    await spliceExpansion(run, nodeId, produced.parts);
    return { kind: 'pending' };
  }
  const entry: CacheEntry = { ui, outputs: produced.outputs };
  run.list.recordValue(nodeId, entry);
  run.store.set(nodeId, entry);
  run.progress.finish(nodeId);
  run.executed.add(nodeId);
  return { kind: 'success' };
}

function nodeMeta(run: PromptRun, nodeId: string) {
  return {
    node_id: nodeId,
    display_node: run.dyn.displayNodeId(nodeId),
    parent_node: run.dyn.parentNodeId(nodeId),
    real_node_id: run.dyn.realNodeId(nodeId),
  };
}

/** A cache hit replays its UI once per run (`executed` with `output: null` if it had none). */
export function replayCachedUi(run: PromptRun, nodeId: string, cached: CacheEntry): void {
  if (run.uiOutputs.has(nodeId)) return;
  if (cached.ui) run.uiOutputs.set(nodeId, { meta: nodeMeta(run, nodeId), output: cached.ui.output });
  run.router.toClient('executed', {
    node: nodeId,
    display_node: run.dyn.displayNodeId(nodeId),
    output: cached.ui?.output ?? null,
    prompt_id: run.promptId,
  });
}

export function isInterruption(run: PromptRun, err: unknown): boolean {
  if (err instanceof InterruptedError) return true;
  if (!run.signal.aborted) return false;
  return err === run.signal.reason || (err instanceof Error && err.name === 'AbortError');
}

function failure(run: PromptRun, nodeId: string, err: unknown, gathered: GatheredInputs | undefined): NodeOutcome {
  const realId = run.dyn.realNodeId(nodeId);
  if (isInterruption(run, err)) {
    run.env.log.info('Processing interrupted');
    return { kind: 'failure', interrupted: true, details: { node_id: realId } };
  }
  run.env.log.error(`!!! Exception during processing !!! ${exceptionMessage(err)}`);
  return {
    kind: 'failure',
    interrupted: false,
    details: {
      node_id: realId,
      exception_message: `${exceptionMessage(err)}\n`,
      exception_type: exceptionTypeName(err),
      traceback: tracebackLines(err),
      current_inputs: gathered ? formatInputs(gathered.values) : {},
    },
  };
}
