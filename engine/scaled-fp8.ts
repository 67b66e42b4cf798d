/**
 * ComfyUI's "scaled FP8" checkpoint convention (Comfy-Org `*_fp8_scaled.safetensors`,
 * `t5xxl_fp8_e4m3fn_scaled.safetensors`), spec sd3-engine.md §6.2–6.3:
 *   - a marker tensor `<prefix>scaled_fp8` whose dtype names the FP8 storage type (a float32
 *     marker means e4m3fn); it is not a weight and is dropped before loading;
 *   - per quantised Linear: `<layer>.weight` in FP8, `<layer>.scale_weight` (float32 scalar) and
 *     optionally `<layer>.scale_input` (used only by the FP8×FP8 matmul path on capable GPUs);
 *   - effective weight `W = float(W_fp8) · scale_weight` (a Linear without scale_weight: scale 1).
 * In float32 compute ComfyUI applies the scale to the input instead when the weight has at least as
 * many elements as the input: same math, different rounding — `scaledFp8LinearOperands` says which.
 */
import { decodeToFloat32, toFloat32 } from './dtypes.js';
import { dequantizeFp8 } from './dequantize.js';
import type { Fp8Format } from './quantize.js';
import { isFp8DType, numel, type DType, type Tensor } from './tensor.js';

export const SCALED_FP8_MARKER = 'scaled_fp8';

export interface ScaledFp8Marker {
  /** The marker's own key, e.g. `model.diffusion_model.scaled_fp8`. */
  key: string;
  /** What precedes the marker name, e.g. `model.diffusion_model.` ('' in a standalone T5 file). */
  prefix: string;
}

export function scaledFp8Markers(keys: Iterable<string>): ScaledFp8Marker[] {
  const markers: ScaledFp8Marker[] = [];
  for (const key of keys) {
    if (key === SCALED_FP8_MARKER || key.endsWith('.' + SCALED_FP8_MARKER)) {
      markers.push({ key, prefix: key.slice(0, key.length - SCALED_FP8_MARKER.length) });
    }
  }
  return markers;
}

export function isScaledFp8Checkpoint(keys: Iterable<string>): boolean {
  return scaledFp8Markers(keys).length > 0;
}

/** FP8 storage type named by the marker's dtype (ComfyUI: a float32 marker means e4m3fn). */
export function scaledFp8StorageFormat(markerDtype: DType): Fp8Format {
  return markerDtype === 'float8_e5m2' ? 'float8_e5m2' : 'float8_e4m3fn';
}

export interface ScaledFp8LayerKeys {
  /** The layer path, e.g. `model.diffusion_model.joint_blocks.0.x_block.attn.qkv`. */
  layer: string;
  weight: string;
  scaleWeight: string;
  scaleInput: string;
}

export function scaledFp8KeysFor(layer: string): ScaledFp8LayerKeys {
  return { layer, weight: `${layer}.weight`, scaleWeight: `${layer}.scale_weight`, scaleInput: `${layer}.scale_input` };
}

/** Every layer that carries a `scale_weight`, in key order. */
export function scaledFp8Layers(keys: Iterable<string>): ScaledFp8LayerKeys[] {
  const suffix = '.scale_weight';
  const layers: ScaledFp8LayerKeys[] = [];
  for (const key of keys) if (key.endsWith(suffix)) layers.push(scaledFp8KeysFor(key.slice(0, -suffix.length)));
  return layers.sort((a, b) => (a.layer < b.layer ? -1 : a.layer > b.layer ? 1 : 0));
}

function checkScalar(scaleWeight: Tensor, what: string): void {
  if (numel(scaleWeight.shape) !== 1) {
    throw new Error(`${what}: scale_weight must hold one value, got shape [${scaleWeight.shape.join(', ')}]`);
  }
}

/**
 * `weight.to(float32) * scale_weight.to(float32)`, exactly ComfyUI's float32-mode weight. A missing
 * scale (plain FP8 or high-precision layer) means the decoded weight itself.
 */
export function scaledFp8EffectiveWeight(weight: Tensor, scaleWeight?: Tensor): Tensor<'float32'> {
  if (!scaleWeight) {
    return isFp8DType(weight.dtype)
      ? { dtype: 'float32', shape: [...weight.shape], data: decodeToFloat32(weight.data, weight.dtype) }
      : toFloat32(weight);
  }
  checkScalar(scaleWeight, 'scaledFp8EffectiveWeight');
  return dequantizeFp8(weight, scaleWeight);
}

export interface ScaledFp8Operands {
  /** The input to feed `linear(input, weight, bias)`: x, or fl(x · s_w). */
  input: Tensor<'float32'>;
  /** float(W), or fl(float(W) · s_w). */
  weight: Tensor<'float32'>;
  /** Which operand carries the scale, as ComfyUI decides by element counts. */
  scaled: 'input' | 'weight' | 'none';
}

/**
 * The two operands ComfyUI's scaled-FP8 Linear hands to `F.linear` in float32 mode: the weight is
 * scaled when it has fewer elements than the input, else the input is.
 */
export function scaledFp8LinearOperands(input: Tensor, weight: Tensor, scaleWeight?: Tensor): ScaledFp8Operands {
  const x = toFloat32(input);
  if (!scaleWeight) return { input: x, weight: scaledFp8EffectiveWeight(weight), scaled: 'none' };
  checkScalar(scaleWeight, 'scaledFp8LinearOperands');
  if (numel(weight.shape) < numel(input.shape)) {
    return { input: x, weight: dequantizeFp8(weight, scaleWeight), scaled: 'weight' };
  }
  const s = toFloat32(scaleWeight).data[0];
  const scaledInput = new Float32Array(x.data.length);
  for (let i = 0; i < scaledInput.length; i++) scaledInput[i] = x.data[i] * s;
  return { input: { dtype: 'float32', shape: [...x.shape], data: scaledInput }, weight: scaledFp8EffectiveWeight(weight), scaled: 'input' };
}
