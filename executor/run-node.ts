/**
 * Calling a node function over its input lists and merging what the calls return
 * (ComfyUI's `_async_map_node_over_list`, `get_output_from_returns`, `merge_result_data`;
 * spec §3.6, §3.8).
 */
import type { ApiPrompt, UiOutput } from '../compat/api-types.js';
import { ExecutionBlocker, type NodeDefinition } from '../nodes/node-api.js';
import { isPlainObject, pyStr } from './py-values.js';

/** An async call still running after one turn of the event loop (ComfyUI's pending task). */
export class AsyncCall {
  settled = false;
  value: unknown;
  error: unknown;
  readonly done: Promise<void>;

  constructor(promise: Promise<unknown>) {
    this.done = promise.then(
      (value) => {
        this.settled = true;
        this.value = value;
      },
      (error: unknown) => {
        this.settled = true;
        this.error = error ?? new Error('async node call failed');
      },
    );
  }

  result(): unknown {
    if (this.error !== undefined) throw this.error;
    return this.value;
  }
}

export interface MapOptions {
  inputIsList: boolean;
  /** Runs before every call; the interrupt check. */
  beforeCall?: () => void;
  /** Decides what a blocked call yields (ComfyUI's execution_block_cb). */
  onBlocked?: (blocker: ExecutionBlocker) => unknown;
}

/** Calls `fn` once per argument dict; blocked calls yield their blocker instead. */
export async function mapOverList(calls: Record<string, unknown>[], fn: (args: Record<string, unknown>) => unknown, opts: MapOptions): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const args of calls) {
    opts.beforeCall?.();
    const blocker = findBlocker(args, opts.inputIsList);
    if (blocker) {
      results.push(opts.onBlocked ? opts.onBlocked(blocker) : blocker);
      continue;
    }
    results.push(await settleSoon(fn(args)));
  }
  return results;
}

function findBlocker(args: Record<string, unknown>, inputIsList: boolean): ExecutionBlocker | undefined {
  for (const value of Object.values(args)) {
    const candidate = inputIsList && Array.isArray(value) ? value.find((v) => v instanceof ExecutionBlocker) : value;
    if (candidate instanceof ExecutionBlocker) return candidate;
  }
  return undefined;
}

/** A promise that settles within one event-loop turn gives its value; else it stays pending. */
async function settleSoon(result: unknown): Promise<unknown> {
  if (!isThenable(result)) return result;
  const call = new AsyncCall(Promise.resolve(result));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return call.settled ? call.result() : call;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Waits for pending calls and returns plain results (throws the first failure). */
export async function resolveCalls(results: unknown[]): Promise<unknown[]> {
  await Promise.all(results.filter((r): r is AsyncCall => r instanceof AsyncCall).map((c) => c.done));
  return results.map((r) => (r instanceof AsyncCall ? r.result() : r));
}

export interface SubgraphPart {
  graph: ApiPrompt | null;
  result: unknown[] | null;
}

export type Produced =
  | { hasSubgraph: false; outputs: unknown[][]; ui: UiOutput }
  | { hasSubgraph: true; parts: SubgraphPart[]; ui: UiOutput };

/** Splits call returns into outputs, UI and expansions. */
export function outputsFromReturns(returns: unknown[], def: NodeDefinition): Produced {
  const results: unknown[][] = [];
  const uis: UiOutput[] = [];
  const parts: SubgraphPart[] = [];
  let hasSubgraph = false;
  const blocked = (b: ExecutionBlocker) => def.returnTypes.map(() => b);
  for (const r of returns) {
    if (isPlainObject(r)) {
      if (isPlainObject(r.ui)) uis.push(r.ui as UiOutput);
      const result = r.result instanceof ExecutionBlocker ? blocked(r.result) : ((r.result as unknown[] | undefined) ?? null);
      if (r.expand !== undefined) {
        hasSubgraph = true;
        parts.push({ graph: r.expand as ApiPrompt, result });
      } else if (r.result !== undefined) {
        results.push(result ?? []);
        parts.push({ graph: null, result });
      }
    } else {
      const tuple = r instanceof ExecutionBlocker ? blocked(r) : ((r as unknown[] | null | undefined) ?? []);
      results.push([...tuple]);
      parts.push({ graph: null, result: [...tuple] });
    }
  }
  const ui = mergeUi(uis);
  if (hasSubgraph) return { hasSubgraph, parts, ui };
  return { hasSubgraph, outputs: results.length > 0 ? mergeResults(results, def) : [], ui };
}

/** Per output slot: OUTPUT_IS_LIST slots concatenate the calls' lists, others collect one value per call. */
export function mergeResults(results: unknown[][], def: NodeDefinition): unknown[][] {
  const width = results[0]!.length;
  const isList = def.outputIsList ?? new Array<boolean>(width).fill(false);
  const slots = Math.min(width, isList.length);
  const merged: unknown[][] = [];
  for (let i = 0; i < slots; i++) {
    if (isList[i]) {
      merged.push(results.flatMap((o) => (o[i] instanceof ExecutionBlocker ? [o[i]] : asList(o[i]))));
    } else {
      merged.push(results.map((o) => o[i]));
    }
  }
  return merged;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** UI dicts merge key-wise by concatenation; keys come from the first call's UI. */
function mergeUi(uis: UiOutput[]): UiOutput {
  if (uis.length === 0) return {};
  const merged: UiOutput = {};
  for (const key of Object.keys(uis[0]!)) merged[key] = uis.flatMap((ui) => asList(ui[key] ?? []));
  return merged;
}

/** `current_inputs` formatting: primitives as-is, other values as Python's `str()` would print them. */
export function formatInputs(values: Record<string, unknown[]>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [name, list] of Object.entries(values)) out[name] = list.map(formatValue);
  return out;
}

function formatValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (['number', 'boolean', 'string'].includes(typeof value)) return value;
  try {
    return pyStr(value);
  } catch {
    // A cyclic structure: say what it is rather than fail the error report.
    return `<${(value as { constructor?: { name?: string } }).constructor?.name ?? 'object'} object>`;
  }
}
