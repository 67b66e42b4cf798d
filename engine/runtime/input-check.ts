/**
 * Checks run feeds against a session's input metadata before onnxruntime sees them, in the manner
 * of transformers.js `sessionRun`: every error lists what the session expects.
 */
import type { Tensor } from '../tensor.js';

/** One input or output of a session: name, engine-visible dtype name and dims (strings are symbolic). */
export interface ValueSpec {
  name: string;
  /** onnxruntime's type name (float32, float16, int64, …). */
  type: string;
  dims: ReadonlyArray<number | string>;
}

export function describeSpecs(specs: readonly ValueSpec[]): string {
  return specs.map((s) => `${s.name}: ${s.type} [${s.dims.join(', ')}]`).join('; ');
}

export function describeFeeds(feeds: Readonly<Record<string, Tensor>>): string {
  return Object.entries(feeds)
    .map(([name, t]) => `${name}: ${t.dtype} [${t.shape.join(', ')}]`)
    .join('; ');
}

function checkOne(spec: ValueSpec, t: Tensor): string | undefined {
  if (t.dtype !== spec.type) return `input '${spec.name}' has dtype ${t.dtype}, expected ${spec.type}`;
  if (t.shape.length !== spec.dims.length) {
    return `input '${spec.name}' has rank ${t.shape.length} [${t.shape.join(', ')}], expected rank ${spec.dims.length} [${spec.dims.join(', ')}]`;
  }
  const badAxis = spec.dims.findIndex((d, i) => typeof d === 'number' && d !== t.shape[i]);
  if (badAxis >= 0) {
    return `input '${spec.name}' has shape [${t.shape.join(', ')}], expected [${spec.dims.join(', ')}] (axis ${badAxis} differs)`;
  }
  return undefined;
}

/** Throws one error naming every problem (missing, unknown, wrong dtype/rank/static dim) and the expected inputs. */
export function checkFeeds(sessionName: string, specs: readonly ValueSpec[], feeds: Readonly<Record<string, Tensor>>): void {
  const problems: string[] = [];
  const known = new Set(specs.map((s) => s.name));
  const missing = specs.filter((s) => !(s.name in feeds)).map((s) => s.name);
  if (missing.length > 0) problems.push(`missing input(s): ${missing.join(', ')}`);
  const unknown = Object.keys(feeds).filter((name) => !known.has(name));
  if (unknown.length > 0) problems.push(`unknown input(s): ${unknown.join(', ')}`);
  for (const spec of specs) {
    const t = feeds[spec.name];
    const problem = t === undefined ? undefined : checkOne(spec, t);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) {
    throw new Error(`session '${sessionName}': ${problems.join('; ')}. Expected inputs: ${describeSpecs(specs)}`);
  }
}
