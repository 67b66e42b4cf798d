/**
 * FP8 weight dequantisation next to its MatMul (DESIGN.md "The FP8 MMDiT engine").
 */
import type { GraphBuilder, Value } from './graph-builder.js';
import { cast, equal, gemm, int64s, mul } from './ops-math.js';
import { concat, reshape, shape } from './ops-shape.js';

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
 * Why: onnxruntime may run DequantizeLinear nodes that depend only on initializers first, so every
 * layer's float32 weights are alive at once (DESIGN.md measured 1.4 GB peak for 268 MB of FP8).
 * With this dependency the planner interleaves each dequantisation with its layer and frees the
 * float weights after the MatMul. The whole shape is used: onnxruntime folds a Shape whose dims
 * are all static into a constant, and the dependency would disappear — so `input` must have at
 * least one symbolic dim (the engine's inputs all do: batch, tokens, height, width).
 */
export function oneAfter(g: GraphBuilder, input: Value): Value {
  const dims = shape(g, input); // int64 [rank], known only at run time
  const ones = cast(g, equal(g, dims, dims), 'float32'); // float32 [rank], all 1
  return g.node('ReduceMin', [ones], { keepdims: 0 })[0]; // float32 [] = 1
}

/** dequantizeLinear whose scale is tied to `layerInput` (see oneAfter), so it runs when the layer does. */
export function dequantizeAfter(g: GraphBuilder, x: Value, scale: Value, layerInput: Value, opts: DequantizeOptions = {}): Value {
  return dequantizeLinear(g, x, mul(g, scale, oneAfter(g, layerInput)), opts);
}

/**
 * Cast(weight → float32) made when `layerInput` exists: for float16/bfloat16 weights an exact
 * widening, for FP8 codes their unscaled values (the caller applies the scale). The weight goes
 * through a Reshape whose target shape is multiplied by oneAfter(layerInput): a Cast of the
 * initializer itself would be constant-folded at session creation into a resident float32 copy.
 */
export function castAfter(g: GraphBuilder, weight: Value, layerInput: Value): Value {
  const tiedShape = mul(g, shape(g, weight), cast(g, oneAfter(g, layerInput), 'int64'));
  return cast(g, reshape(g, weight, tiedShape), 'float32');
}

export interface Fp8LinearOptions {
  /** Float32 bias [out]. */
  bias?: Value;
  /** Scale per output channel ([out], axis 0 of W) instead of one scalar. */
  perChannel?: boolean;
  /** Tie the dequantisation to `x` (oneAfter) so only one layer's float weights are alive at a time. */
  ordered?: boolean;
}

/**
 * torch.nn.Linear: y = x · Wᵀ + b, with W [out, in] as checkpoints store it and x [..., in] →
 * y [..., out]. The leading dims are flattened into one so that Gemm's transB reads W in place:
 * MatMul would need a Transpose of the float32 weight, a second layer-sized temporary.
 */
export function linear(g: GraphBuilder, x: Value, weight: Value, bias?: Value): Value {
  const lead = shape(g, x, { end: -1 }); // [...]
  const inFeatures = shape(g, x, { start: -1 }); // [in]
  const rows = reshape(g, x, concat(g, [int64s(g, [-1]), inFeatures], 0)); // [N, in]
  const y = gemm(g, rows, weight, bias, { transB: true }); // [N, out]
  const outFeatures = shape(g, weight, { end: 1 }); // [out]
  return reshape(g, y, concat(g, [lead, outFeatures], 0)); // [..., out]
}

/** linear() on an FP8 weight [out, in], dequantised right before the Gemm. */
export function fp8Linear(g: GraphBuilder, x: Value, weight: Value, scale: Value, opts: Fp8LinearOptions = {}): Value {
  const axis = opts.perChannel ? 0 : undefined;
  const w = opts.ordered ? dequantizeAfter(g, weight, scale, x, { axis }) : dequantizeLinear(g, weight, scale, { axis });
  return linear(g, x, w, opts.bias);
}
