/**
 * Builds a one-off graph, runs it through a real onnxruntime-node session, and compares outputs
 * with a reference Arr under stated tolerances.
 */
import { expect } from 'vitest';
import { GraphBuilder, type Dim, type Value } from '../../../engine/onnx/index.js';
import { createSession, type SessionOptions } from '../../../engine/runtime/session.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { Arr } from './ref-ops.js';

export const f32 = (x: Arr): Tensor<'float32'> => ({ dtype: 'float32', shape: [...x.shape], data: Float32Array.from(x.data) });

export interface GraphCase {
  /** Inputs as float32 arrays; dims default to the array's shape. */
  inputs: Record<string, Arr | Tensor>;
  /** Dims declared for each input (strings for symbolic); default: the concrete shape. */
  dims?: Record<string, Dim[]>;
  build: (g: GraphBuilder, inputs: Record<string, Value>) => Value | Value[];
  opset?: number;
  session?: SessionOptions;
}

const isArr = (x: Arr | Tensor): x is Arr => x.data instanceof Float64Array;

/** Runs the graph once and returns its outputs (named y0, y1, … in build order). */
export async function runGraph(c: GraphCase): Promise<Tensor[]> {
  const g = new GraphBuilder('test', c.opset);
  const names: Record<string, Value> = {};
  const feeds: Record<string, Tensor> = {};
  for (const [name, value] of Object.entries(c.inputs)) {
    const t = isArr(value) ? f32(value) : value;
    names[name] = g.input(name, t.dtype, c.dims?.[name] ?? t.shape);
    feeds[name] = t;
  }
  const built = c.build(g, names);
  const outs = Array.isArray(built) ? built : [built];
  outs.forEach((v, i) => g.output(v, 'float32', undefined, `y${i}`));
  const session = await createSession(g.toBytes(), { name: 'test', ...c.session });
  try {
    const result = await session.run(feeds);
    return outs.map((_, i) => result[`y${i}`]);
  } finally {
    await session.release();
  }
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Asserts the exact shape, then |actual − expected| ≤ atol + rtol·|expected| everywhere (NaN must match NaN). */
export function expectClose(actual: Tensor, expected: Arr, tol: Tolerance): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.data as Float32Array;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i];
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a[i]), `element ${i} should be NaN`).toBe(true);
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(a[i], `element ${i}`).toBe(e);
      continue;
    }
    const excess = Math.abs(a[i] - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (!(excess <= worst)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      worstAt = i;
    }
  }
  if (worstAt >= 0) {
    expect.fail(`element ${worstAt}: got ${a[worstAt]}, expected ${expected.data[worstAt]} (atol ${tol.atol}, rtol ${tol.rtol})`);
  }
}
