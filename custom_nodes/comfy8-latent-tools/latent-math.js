// The numerics of comfy8-latent-tools, on LATENT `samples` tensors of any float dtype (FP8
// included: the nodes declare ACCEPTS_FP8, so they get FP8 latents as they are and decode them
// here). Results are float32 unless a node casts on purpose.
import { decodeToFloat32, tensor } from 'comfy8/node-api';

/** @typedef {import('comfy8/node-api').Tensor} Tensor */

/** @param {Tensor} t @returns {Float32Array} the values as float32 (a copy; never the input's storage) */
export function valuesOf(t) {
  return decodeToFloat32(t.data, t.dtype);
}

/** @param {readonly number[]} shape */
function channelLayout(shape) {
  const [batch, channels] = shape;
  const plane = shape.slice(2).reduce((a, b) => a * b, 1);
  return { batch, channels, plane };
}

/**
 * ComfyUI's LatentBlend for `normal` (a·f + b·(1−f)); `add` = a + f·b; `subtract` = a − f·b.
 * @param {Tensor} a @param {Tensor} b @param {number} factor @param {'normal'|'add'|'subtract'} mode
 */
export function blend(a, b, factor, mode) {
  if (a.shape.join() !== b.shape.join()) {
    throw new Error(`samples2 [${b.shape.join(', ')}] must have the shape of samples1 [${a.shape.join(', ')}]; resize one with LatentUpscale first`);
  }
  const x = valuesOf(a);
  const y = valuesOf(b);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    if (mode === 'normal') out[i] = x[i] * factor + y[i] * (1 - factor);
    else if (mode === 'add') out[i] = x[i] + factor * y[i];
    else out[i] = x[i] - factor * y[i];
  }
  return tensor('float32', a.shape, out);
}

/** @param {Tensor} t @param {number} factor */
export function scale(t, factor) {
  const v = valuesOf(t);
  for (let i = 0; i < v.length; i++) v[i] *= factor;
  return tensor('float32', t.shape, v);
}

/**
 * Each channel of each batch item rescaled to mean 0 and standard deviation `std` (a flat channel
 * becomes 0).
 * @param {Tensor} t @param {number} std
 */
export function standardize(t, std) {
  const v = valuesOf(t);
  const { batch, channels, plane } = channelLayout(t.shape);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const start = (n * channels + c) * plane;
      const s = summarize(v.subarray(start, start + plane));
      const k = s.std > 0 ? std / s.std : 0;
      for (let i = start; i < start + plane; i++) v[i] = (v[i] - s.mean) * k;
    }
  }
  return tensor('float32', t.shape, v);
}

/** @param {Float32Array} v @returns {{ mean: number, std: number, min: number, max: number }} population statistics */
export function summarize(v) {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = v.length ? sum / v.length : 0;
  let sq = 0;
  for (const x of v) sq += (x - mean) ** 2;
  return { mean, std: v.length ? Math.sqrt(sq / v.length) : 0, min, max };
}

/** @param {number} x */
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** A text report: dtype, shape, overall and per-channel statistics. @param {Tensor} t */
export function statsText(t) {
  const v = valuesOf(t);
  const { batch, channels, plane } = channelLayout(t.shape);
  const line = (label, s) => `${label}: mean ${fmt(s.mean)} std ${fmt(s.std)} min ${fmt(s.min)} max ${fmt(s.max)}`;
  const lines = [`dtype ${t.dtype}, shape [${t.shape.join(', ')}]`, line('all', summarize(v))];
  for (let c = 0; c < channels; c++) {
    const values = new Float32Array(batch * plane);
    for (let n = 0; n < batch; n++) values.set(v.subarray((n * channels + c) * plane, (n * channels + c + 1) * plane), n * plane);
    lines.push(line(`channel ${c}`, summarize(values)));
  }
  return lines.join('\n');
}
