/**
 * FP8 weight quantisation with a float32 scale per tensor or per output channel, and the inverse.
 *
 * Mirrors the usual torch recipe, bit for bit (test/engine/quantize.test.ts):
 *   amax  = w.abs().amax()            (per tensor)   or  w.abs().amax(dim=1, keepdim=True)
 *   scale = where(amax == 0, 1, amax / fp8_max)       (all-zero rows keep scale 1, not 0/NaN)
 *   q     = (w / scale).clamp(-fp8_max, fp8_max).to(fp8)   (the clamp saturates; torch's cast would not)
 *   w'    = q.to(float32) * scale
 * Scales are float32 tensors shaped [] (tensor) or [out, 1] (channel), so they broadcast as in torch.
 */
import { encodeFromFloat32, toFloat32 } from './dtypes.js';
import { FP8_E4M3FN_MAX, FP8_E5M2_MAX } from './fp8.js';
import type { Tensor } from './tensor.js';

export type Fp8Format = 'float8_e4m3fn' | 'float8_e5m2';
export type Fp8Granularity = 'tensor' | 'channel';

export interface QuantizeFp8Options {
  format: Fp8Format;
  granularity: Fp8Granularity;
  /** Names the weight in error messages (e.g. its checkpoint key). */
  name?: string;
}

export interface QuantizedFp8 {
  weight: Tensor<Fp8Format>;
  scale: Tensor<'float32'>;
}

export function fp8MaxOf(format: Fp8Format): number {
  return format === 'float8_e4m3fn' ? FP8_E4M3FN_MAX : FP8_E5M2_MAX;
}

function absMax(values: Float32Array, start: number, end: number): number {
  let amax = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(values[i]);
    if (!(a <= amax)) amax = a; // also lets NaN through, for the check below
  }
  return amax;
}

function channelCount(shape: readonly number[], granularity: Fp8Granularity, name: string): number {
  if (granularity === 'tensor') return 1;
  if (shape.length < 1 || shape[0] === 0) {
    throw new Error(`quantizeFp8: '${name}' of shape [${shape.join(', ')}] has no output channels to scale`);
  }
  return shape[0];
}

export function quantizeFp8(weight: Tensor, opts: QuantizeFp8Options): QuantizedFp8 {
  const name = opts.name ?? 'weight';
  if (opts.format !== 'float8_e4m3fn' && opts.format !== 'float8_e5m2') {
    throw new Error(`quantizeFp8: format '${String(opts.format)}' for '${name}'; valid: float8_e4m3fn, float8_e5m2`);
  }
  if (opts.granularity !== 'tensor' && opts.granularity !== 'channel') {
    throw new Error(`quantizeFp8: granularity '${String(opts.granularity)}' for '${name}'; valid: tensor, channel`);
  }
  const values = toFloat32(weight).data;
  const channels = channelCount(weight.shape, opts.granularity, name);
  const perChannel = values.length / channels;
  const fp8Max = fp8MaxOf(opts.format);
  const scales = new Float32Array(channels);
  const scaled = new Float32Array(values.length);
  for (let c = 0; c < channels; c++) {
    const start = c * perChannel;
    const amax = absMax(values, start, start + perChannel);
    if (!Number.isFinite(amax)) {
      throw new Error(`quantizeFp8: '${name}' holds a non-finite value (channel ${c}); cannot choose a scale`);
    }
    const scale = amax === 0 ? 1 : Math.fround(amax / fp8Max);
    scales[c] = scale;
    for (let i = start; i < start + perChannel; i++) {
      scaled[i] = Math.min(fp8Max, Math.max(-fp8Max, Math.fround(values[i] / scale)));
    }
  }
  return {
    weight: { dtype: opts.format, shape: [...weight.shape], data: encodeFromFloat32(scaled, opts.format) },
    scale: { dtype: 'float32', shape: opts.granularity === 'tensor' ? [] : [channels, 1], data: scales },
  };
}

export { dequantizeFp8 } from './dequantize.js';
export {
  SCALED_FP8_MARKER,
  isScaledFp8Checkpoint,
  scaledFp8Markers,
  scaledFp8StorageFormat,
  scaledFp8Layers,
  scaledFp8KeysFor,
  scaledFp8EffectiveWeight,
  scaledFp8LinearOperands,
} from './scaled-fp8.js';
