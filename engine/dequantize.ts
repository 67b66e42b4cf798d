/** Inverse of quantizeFp8 (engine/quantize.ts): float32 values from FP8 (or any float) codes and scales. */
import { decodeToFloat32, toFloat32 } from './dtypes.js';
import { isFp8DType, numel, type Tensor } from './tensor.js';

/**
 * `weight.to(float32) * scale` with scale holding one value or one per output channel (dim 0).
 * `weight` may be any float dtype; fp8 codes are decoded through the same tables as dtypes.ts.
 */
export function dequantizeFp8(weight: Tensor, scale: Tensor): Tensor<'float32'> {
  const scales = toFloat32(scale).data;
  const n = numel(weight.shape);
  const channels = scales.length;
  if (channels !== 1 && (weight.shape.length === 0 || channels !== weight.shape[0])) {
    throw new Error(
      `dequantizeFp8: scale of shape [${scale.shape.join(', ')}] fits neither per tensor (1 value) nor per ` +
        `channel (${weight.shape[0] ?? 0} values) for weight of shape [${weight.shape.join(', ')}]`,
    );
  }
  const out = new Float32Array(n);
  const values: Float32Array = isFp8DType(weight.dtype)
    ? decodeToFloat32(weight.data, weight.dtype) // the 256-entry table decode
    : toFloat32(weight).data;
  const perChannel = channels === 1 ? n : n / channels;
  for (let c = 0; c < channels; c++) {
    const s = scales[c];
    const end = (c + 1) * perChannel;
    // The double product of two float32 values is exact; the Float32Array store rounds it once.
    for (let i = c * perChannel; i < end; i++) out[i] = values[i] * s;
  }
  return { dtype: 'float32', shape: [...weight.shape], data: out };
}

