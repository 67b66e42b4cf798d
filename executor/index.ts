/**
 * The executor's public API: validation (spec §3.2–3.3) and execution (spec §3.4–3.11).
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
