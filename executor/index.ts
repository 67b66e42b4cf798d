/**
 * The executor's public API: validation (spec §3.2–3.3) and execution (spec §3.4–3.11).
 *
 *   const checked = await validatePrompt(body.prompt, registry, env, body.partial_execution_targets);
 *   if (!checked.ok) return res.status(400).json({ error: checked.error, node_errors: checked.nodeErrors });
 *   // body.prompt now holds the coerced values; queue it with outputsToExecute = checked.outputs.
 *
 *   const executor = new PromptExecutor({ nodes: registry, env, cache: { kind: 'ram' }, events: sink });
 *   const interrupt = createInterruptFlag();          // `/interrupt` calls interrupt.set()
 *   const result = await executor.execute(job, interrupt);   // never rejects
 *   // record result.status / outputs / meta in history, then send `executing {node: null}`.
 */
export { validatePrompt, type NodeLookup } from './validate.js';
export { PromptExecutor, type PromptExecutorOptions } from './prompt-executor.js';
export { createInterruptFlag, type ListenableInterruptFlag } from './interrupt.js';
export { typesCompatible } from './type-match.js';
export { coerceConstant, pyInt, pyFloat } from './coerce.js';
export { defaultRamHeadroom, type RamPressureOptions } from './cache-ram.js';
export type {
  CachePolicyName,
  ExecutionEventSink,
  ExecutionJob,
  ExecutionResult,
  InterruptFlag,
  PreviewMeta,
  ValidationResult,
} from './types.js';
