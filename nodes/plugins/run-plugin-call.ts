/**
 * The run-time wrapper around one call of a plugin node's FUNCTION:
 *   1. inputs checked against their declared types (shape only; a mismatch names pack and node);
 *   2. the FP16 guard and input protection (tensor-guard.ts);
 *   3. the call, raced against `ctx.signal` so that an interrupt ends a call that never returns;
 *   4. the return checked: a list with one value per RETURN_TYPES entry (or `{ ui, result }`),
 *      each value against its type, and NaN/Inf against the node's NaN policy.
 * Errors the plugin throws come back with `[custom_nodes.<pack>] <Node>:` before their message.
 */
import { ExecutionBlocker, InterruptedError, type ExecutionContext, type InputTypes, type Logger, type NodeReturn } from '../node-api.js';
import type { NanPolicy, NodeDeclaration } from './declaration.js';
import { methodOf } from './declaration.js';
import { nodeLabel, PluginNonFiniteError, PluginTypeError, wrapPluginFailure } from './errors.js';
import { findNonFinite, prepareInputs, type PrepareOptions } from './tensor-guard.js';
import { checkValue } from './value-checks.js';

export interface CallPolicy {
  decl: NodeDeclaration;
  prepare: PrepareOptions;
  nanPolicy: NanPolicy;
  log: Logger;
  instanceFor(nodeId: string): object;
}

function checkInputs(decl: NodeDeclaration, types: InputTypes, inputs: Record<string, unknown>): void {
  for (const group of [types.required, types.optional]) {
    for (const [name, [type]] of Object.entries(group ?? {})) {
      const value = inputs[name];
      if (value === undefined || value instanceof ExecutionBlocker) continue;
      const values = decl.inputIsList && Array.isArray(value) ? value : [value];
      for (const v of values) {
        const problem = checkValue(type, v, { checkRange: false });
        if (problem) throw new PluginTypeError(decl.pack, decl.name, `input '${name}': ${problem}`);
      }
    }
  }
}

/** Settles with the call, or rejects with InterruptedError as soon as the prompt is interrupted. */
function raceInterrupt<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new InterruptedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new InterruptedError());
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** A plugin may hold its own copy of the node API (another module instance): map its classes. */
function asHostBlocker(value: unknown): unknown {
  if (value instanceof ExecutionBlocker || typeof value !== 'object' || value === null) return value;
  if (value.constructor?.name === 'ExecutionBlocker' && 'message' in value) return new ExecutionBlocker((value as { message: string | null }).message);
  return value;
}

function isInterruptError(err: unknown): boolean {
  return err instanceof InterruptedError || (err instanceof Error && err.name === 'InterruptProcessingException');
}

interface SplitReturn {
  result: unknown[] | undefined;
  rest: Omit<Exclude<NodeReturn, readonly unknown[]>, 'result'>;
}

function splitReturn(decl: NodeDeclaration, ret: unknown): SplitReturn {
  if (Array.isArray(ret)) return { result: ret, rest: {} };
  if ((ret === undefined || ret === null) && decl.returnTypes.length === 0) return { result: undefined, rest: {} };
  if (typeof ret === 'object' && ret !== null && ('result' in ret || 'ui' in ret || 'expand' in ret)) {
    const { result, ...rest } = ret as { result?: unknown };
    if (result !== undefined && !Array.isArray(result)) throw new PluginTypeError(decl.pack, decl.name, `'result' must be a list with one value per RETURN_TYPES entry, got ${typeof result}`);
    return { result: result as unknown[] | undefined, rest };
  }
  throw new PluginTypeError(decl.pack, decl.name, `must return a list with one value per RETURN_TYPES entry (${decl.returnTypes.length}) or { ui, result }, got ${ret === null ? 'null' : typeof ret}`);
}

function checkSlot(policy: CallPolicy, slot: number, value: unknown): void {
  const { decl } = policy;
  const type = decl.returnTypes[slot];
  const isList = decl.outputIsList?.[slot] === true;
  if (value instanceof ExecutionBlocker) return;
  if (isList && !Array.isArray(value)) throw new PluginTypeError(decl.pack, decl.name, `output ${slot} (${String(type)}) is OUTPUT_IS_LIST and must be a list`);
  for (const v of isList ? (value as unknown[]) : [value]) {
    if (v instanceof ExecutionBlocker) continue;
    const problem = checkValue(type, v, { checkRange: true });
    if (problem) throw new PluginTypeError(decl.pack, decl.name, `output ${slot} (${decl.returnNames?.[slot] ?? String(type)}): ${problem}`);
  }
  if (policy.nanPolicy === 'ignore') return;
  const where = findNonFinite(value);
  if (!where) return;
  const message = `output ${slot} (${String(type)}) holds a non-finite value: ${where}`;
  if (policy.nanPolicy === 'fail') throw new PluginNonFiniteError(decl.pack, decl.name, message);
  policy.log.warn(`${nodeLabel(decl.pack, decl.name)}: ${message}`);
}

function checkResult(policy: CallPolicy, split: SplitReturn): NodeReturn {
  const { decl } = policy;
  if (split.result === undefined) return split.rest;
  const result = split.result.map(asHostBlocker);
  if (split.rest.expand) return { ...split.rest, result };
  if (result.length !== decl.returnTypes.length) {
    throw new PluginTypeError(decl.pack, decl.name, `returned ${result.length} values, but RETURN_TYPES declares ${decl.returnTypes.length} (${decl.returnTypes.map(String).join(', ')})`);
  }
  result.forEach((value, slot) => checkSlot(policy, slot, value));
  return Object.keys(split.rest).length === 0 ? result : { ...split.rest, result };
}

async function invoke(policy: CallPolicy, inputs: Record<string, unknown>, ctx: ExecutionContext): Promise<unknown> {
  const { decl } = policy;
  const instance = policy.instanceFor(ctx.nodeId);
  const method = methodOf(decl.source, decl.functionName)!;
  return method.call(instance, inputs, ctx);
}

export async function runPluginCall(policy: CallPolicy, inputs: Record<string, unknown>, ctx: ExecutionContext): Promise<NodeReturn> {
  const { decl } = policy;
  const types = decl.inputTypes();
  checkInputs(decl, types, inputs);
  const prepared = prepareInputs(inputs, types, policy.prepare);
  let returned: unknown;
  try {
    returned = await raceInterrupt(Promise.resolve().then(() => invoke(policy, prepared, ctx)), ctx.signal);
  } catch (err) {
    if (isInterruptError(err) || ctx.signal.aborted) throw err instanceof InterruptedError ? err : new InterruptedError();
    throw wrapPluginFailure(decl.pack, decl.name, err);
  }
  return checkResult(policy, splitReturn(decl, returned));
}
