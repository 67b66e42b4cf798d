/**
 * Shape and layout ops (ONNX opset 21 signatures: axes, pads, split sizes are inputs, not attributes).
 */
import { asFloat, type GraphBuilder, type Value } from './graph-builder.js';
import { int64s } from './ops-math.js';

type Ints = readonly number[] | Value;

/** Reshape; a 0 in `shape` copies that input dim and -1 is inferred (ONNX semantics, allowzero = 0). */
export function reshape(g: GraphBuilder, x: Value, shape: Ints): Value {
  return g.node('Reshape', [x, int64s(g, shape, 'shape')])[0];
}

export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  return g.node('Transpose', [x], { perm })[0];
}

export function concat(g: GraphBuilder, inputs: readonly Value[], axis: number): Value {
  return g.node('Concat', inputs, { axis })[0];
}

/** Split along `axis` into the given sizes, or into `parts` equal pieces. */
export function split(g: GraphBuilder, x: Value, axis: number, how: { sizes: readonly number[] } | { parts: number }): Value[] {
  if ('sizes' in how) {
    return g.node('Split', [x, int64s(g, how.sizes, 'split')], { axis }, { outputs: how.sizes.length });
  }
  return g.node('Split', [x], { axis, num_outputs: how.parts }, { outputs: how.parts });
}

export interface SliceSpec {
  starts: Ints;
  ends: Ints;
  axes?: Ints;
  steps?: Ints;
}

/** Slice; use Number.MAX_SAFE_INTEGER for "to the end" (ONNX clamps out-of-range ends). */
export function slice(g: GraphBuilder, x: Value, spec: SliceSpec): Value {
  const inputs = [x, int64s(g, spec.starts, 'starts'), int64s(g, spec.ends, 'ends')];
  if (spec.axes !== undefined || spec.steps !== undefined) inputs.push(spec.axes === undefined ? '' : int64s(g, spec.axes, 'axes'));
  if (spec.steps !== undefined) inputs.push(int64s(g, spec.steps, 'steps'));
  return g.node('Slice', inputs)[0];
}

export function gather(g: GraphBuilder, data: Value, indices: Value, axis = 0): Value {
  return g.node('Gather', [data, indices], { axis })[0];
}

export function unsqueeze(g: GraphBuilder, x: Value, axes: Ints): Value {
  return g.node('Unsqueeze', [x, int64s(g, axes, 'axes')])[0];
}

/** Squeeze the given axes, or every size-1 axis when `axes` is omitted. */
export function squeeze(g: GraphBuilder, x: Value, axes?: Ints): Value {
  return g.node('Squeeze', axes === undefined ? [x] : [x, int64s(g, axes, 'axes')])[0];
}

/** Broadcast to `shape` (bidirectional, as numpy: a 1 in `shape` keeps the input's dim). */
export function expand(g: GraphBuilder, x: Value, shape: Ints): Value {
  return g.node('Expand', [x, int64s(g, shape, 'shape')])[0];
}

/** The int64 shape of `x`, optionally only dims [start, end). */
export function shape(g: GraphBuilder, x: Value, range: { start?: number; end?: number } = {}): Value {
  return g.node('Shape', [x], { start: range.start, end: range.end })[0];
}

export interface PadOptions {
  /** ONNX layout: all begins then all ends, per axis (in `axes` order when given). */
  pads: Ints;
  mode?: 'constant' | 'reflect' | 'edge' | 'wrap';
  /** Fill for 'constant' mode, written as a float32 scalar: x must be float32 to use it. */
  value?: number;
  axes?: readonly number[];
}

export function pad(g: GraphBuilder, x: Value, opts: PadOptions): Value {
  const inputs = [x, int64s(g, opts.pads, 'pads')];
  if (opts.value !== undefined || opts.axes !== undefined) {
    inputs.push(opts.value === undefined ? '' : g.constant({ dtype: 'float32', shape: [], data: Float32Array.of(opts.value) }, 'pad_value'));
  }
  if (opts.axes !== undefined) inputs.push(int64s(g, opts.axes, 'axes'));
  return g.node('Pad', inputs, { mode: opts.mode })[0];
}

export interface ResizeOptions {
  /** Per-axis scale factors (all axes, e.g. [1, 1, 2, 2] for NCHW), or target `sizes`. */
  scales?: readonly number[];
  sizes?: Ints;
  mode?: 'nearest' | 'linear' | 'cubic';
  coordinateTransformationMode?: 'half_pixel' | 'asymmetric' | 'align_corners' | 'pytorch_half_pixel';
  nearestMode?: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
  antialias?: boolean;
}

/** Resize (opset 19+). Torch `interpolate(mode='nearest')` = nearest + asymmetric + floor. */
export function resize(g: GraphBuilder, x: Value, opts: ResizeOptions): Value {
  const scales = opts.scales
    ? g.constant({ dtype: 'float32', shape: [opts.scales.length], data: Float32Array.from(opts.scales) }, 'scales')
    : '';
  const inputs = [x, '', scales];
  if (opts.sizes !== undefined) inputs.push(int64s(g, opts.sizes, 'sizes'));
  return g.node('Resize', inputs, {
    mode: opts.mode,
    coordinate_transformation_mode: opts.coordinateTransformationMode,
    nearest_mode: opts.nearestMode,
    antialias: opts.antialias ? 1 : undefined,
    cubic_coeff_a: opts.mode === 'cubic' ? asFloat(-0.75) : undefined,
  })[0];
}
