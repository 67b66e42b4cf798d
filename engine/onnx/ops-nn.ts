/**
 * Neural-network building blocks: norms, activations, convolution, attention.
 * Norms and softmax are meant to run in float32 (DESIGN.md); the helpers create float32 constants.
 */
import { asFloat, type GraphBuilder, type Value } from './graph-builder.js';
import { add, div, matMul, mul, pow, reduceMean, scalar, sigmoid, softmax, sqrt } from './ops-math.js';
import { transpose } from './ops-shape.js';

/** LayerNormalization (opset 17) over the last `axis..` dims; scale is required by ONNX, bias optional. */
export function layerNorm(g: GraphBuilder, x: Value, scale: Value, bias?: Value, opts: { epsilon?: number; axis?: number } = {}): Value {
  return g.node('LayerNormalization', bias ? [x, scale, bias] : [x, scale], {
    axis: opts.axis ?? -1,
    epsilon: asFloat(opts.epsilon ?? 1e-5),
  })[0];
}

/**
 * RMSNorm over the last dim: x · 1/sqrt(mean(x²) + eps) · scale (spec/sd3-engine.md §0.2).
 *
 * Choice: with opset ≥ 23 the standard RMSNormalization op is used (onnxruntime 1.30 runs it).
 * At our opset 21 it is composed from Pow/ReduceMean/Add/Sqrt/Div/Mul — standard ops only, which
 * onnxruntime's SimplifiedLayerNormFusion turns into its fused kernel at 'extended' optimisation and
 * above. The com.microsoft-domain SimplifiedLayerNormalization is not registered in 1.30, and the
 * onnx-domain one is an onnxruntime-internal op, so neither is used directly.
 */
export function rmsNorm(g: GraphBuilder, x: Value, scale: Value | undefined, opts: { epsilon?: number } = {}): Value {
  const epsilon = opts.epsilon ?? 1e-6;
  if (g.opset >= 23 && scale) {
    return g.node('RMSNormalization', [x, scale], { axis: -1, epsilon: asFloat(epsilon) })[0];
  }
  const meanSquare = reduceMean(g, pow(g, x, scalar(g, 2)), [-1]);
  const normed = div(g, x, sqrt(g, add(g, meanSquare, scalar(g, epsilon))));
  return scale ? mul(g, normed, scale) : normed;
}

/** Gelu (opset 20): 'none' is the exact erf form, 'tanh' the approximation (§0.2 GELU_erf / GELU_tanh). */
export function gelu(g: GraphBuilder, x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
  return g.node('Gelu', [x], { approximate })[0];
}

/** SiLU(x) = x·sigmoid(x); onnxruntime fuses the pair into QuickGelu-like kernels itself. */
export function silu(g: GraphBuilder, x: Value): Value {
  return mul(g, x, sigmoid(g, x));
}

export interface ConvOptions {
  strides?: readonly number[];
  /** ONNX layout: all begins then all ends, e.g. [1, 1, 1, 1] for a 3×3 "same" conv. */
  pads?: readonly number[];
  dilations?: readonly number[];
  group?: number;
}

/** N-d convolution, NCHW / OIHW like torch.nn.Conv2d. */
export function conv(g: GraphBuilder, x: Value, weight: Value, bias?: Value, opts: ConvOptions = {}): Value {
  return g.node('Conv', bias ? [x, weight, bias] : [x, weight], {
    strides: opts.strides,
    pads: opts.pads,
    dilations: opts.dilations,
    group: opts.group,
  })[0];
}

/** GroupNormalization with opset-21 semantics: scale and bias have one entry per channel [C], like torch. */
export function groupNorm(g: GraphBuilder, x: Value, scale: Value, bias: Value, numGroups: number, opts: { epsilon?: number } = {}): Value {
  if (g.opset < 21) throw new Error(`groupNorm: needs opset >= 21 for per-channel scale/bias, the builder has ${g.opset}`);
  return g.node('GroupNormalization', [x, scale, bias], { num_groups: numGroups, epsilon: asFloat(opts.epsilon ?? 1e-5) })[0];
}

export interface AttentionOptions {
  /** Multiplier of q·kᵀ; torch's default is 1/sqrt(headDim). */
  scale: number;
  /** Added to the scores before softmax (broadcast to [B, H, L, S]); -inf masks out. */
  mask?: Value;
}

/**
 * softmax(q·kᵀ·scale + mask)·v for q [B, H, L, d], k and v [B, H, S, d] → [B, H, L, d],
 * as torch.nn.functional.scaled_dot_product_attention. Softmax runs in the input dtype (float32 here).
 */
export function scaledDotProductAttention(g: GraphBuilder, q: Value, k: Value, v: Value, opts: AttentionOptions): Value {
  const scores = mul(g, matMul(g, q, transpose(g, k, [0, 1, 3, 2])), scalar(g, opts.scale)); // [B, H, L, S]
  const masked = opts.mask ? add(g, scores, opts.mask) : scores;
  return matMul(g, softmax(g, masked, -1), v); // [B, H, L, d]
}

export interface MultiHeadAttentionOptions {
  numHeads: number;
  /** Multiplier of q·kᵀ; the kernel's default is 1/sqrt(head size). */
  scale?: number;
}

/**
 * onnxruntime's fused MultiHeadAttention (contrib domain com.microsoft, version 1): q, k, v
 * [B, L, H·d] (heads head-major along the last dim) → [B, L, H·d], softmax in float32. The CPU
 * kernel tiles over keys (flash attention) so it never holds [B, H, L, S] scores. Not an ONNX
 * standard op: graphs using it run on onnxruntime only, which is the engine's runtime.
 */
export function multiHeadAttention(g: GraphBuilder, q: Value, k: Value, v: Value, opts: MultiHeadAttentionOptions): Value {
  return g.node('MultiHeadAttention', [q, k, v], { num_heads: opts.numHeads, scale: opts.scale === undefined ? undefined : asFloat(opts.scale) }, { domain: 'com.microsoft' })[0];
}
