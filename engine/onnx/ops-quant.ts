/**
 * FP8 weight dequantisation next to its MatMul (DESIGN.md "The FP8 MMDiT engine").
 */
import type { GraphBuilder, Value } from './graph-builder.js';
import { cast, equal, mul } from './ops-math.js';
import { shape, squeeze } from './ops-shape.js';

export interface DequantizeOptions {
  /** Per-axis (per-channel) scales along this axis; omit for a scalar (per-tensor) scale. */
  axis?: number;
  /** Optional zero point, same dtype as the quantised input (FP8 formats use 0). */
  zeroPoint?: Value;
}

/** DequantizeLinear (opset 21): y = (x − zero_point) · scale, output in the scale's dtype. */
export function dequantizeLinear(g: GraphBuilder, x: Value, scale: Value, opts: DequantizeOptions = {}): Value {
  const inputs = opts.zeroPoint ? [x, scale, opts.zeroPoint] : [x, scale];
  return g.node('DequantizeLinear', inputs, { axis: opts.axis })[0];
}

/**
 * A float32 scalar 1 that depends on `input` only through its Shape: multiplying a weight's scale
 * by it costs nothing, but makes the weight's dequantisation wait until `input` exists.
 *
 * Why: onnxruntime runs DequantizeLinear nodes that depend only on initializers first, so every
 * layer's float32 weights are alive at once (DESIGN.md measured 1.4 GB peak for 268 MB of FP8).
 * With this dependency the planner interleaves each dequantisation with its layer and frees the
 * float weights after the MatMul. `input` must have a symbolic dim, or onnxruntime folds the
 * Shape into a constant and the dependency disappears.
 */
export function oneAfter(g: GraphBuilder, input: Value): Value {
  const firstDim = shape(g, input, { start: 0, end: 1 }); // int64 [1], known only at run time
  const ones = cast(g, equal(g, firstDim, firstDim), 'float32'); // float32 [1] = 1
  return squeeze(g, ones, [0]); // float32 []
}

/** dequantizeLinear whose scale is tied to `layerInput` (see oneAfter), so it runs when the layer does. */
export function dequantizeAfter(g: GraphBuilder, x: Value, scale: Value, layerInput: Value, opts: DequantizeOptions = {}): Value {
  return dequantizeLinear(g, x, mul(g, scale, oneAfter(g, layerInput)), opts);
}
