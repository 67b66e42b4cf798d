/**
 * ComfyUI's `comfy.utils.common_upscale` on channels-first float32 tensors `[N, C, H, W]`.
 *
 * Methods: `nearest-exact`, `bilinear` (align_corners=False, no antialias), `area`
 * (adaptive average pooling), `bicubic` (A = −0.75, border-clamped taps, no clamping of the
 * result), as `torch.nn.functional.interpolate`; `bislerp` (ComfyUI's slerp-based latent
 * resize); `lanczos` (ComfyUI goes through PIL on uint8; here sharp's Lanczos-3 on uint8 —
 * close but not bit-identical). Source positions are computed in float32 as torch does; the
 * weighted sums run in float64 and are rounded to float32 once, so results match torch's
 * float32 kernels to about 1e-6.
 *
 * `crop: 'center'` first cuts the input to the target aspect ratio, as ComfyUI does.
 */
import { tensor, type Tensor } from '../../engine/tensor.js';
import { resizeRawLanczos, type RawImage } from '../image-io.js';
import { bislerp } from './bislerp.js';
import { pythonRound } from './python-math.js';

export const IMAGE_UPSCALE_METHODS = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'] as const;
export const LATENT_UPSCALE_METHODS = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'bislerp'] as const;
export const CROP_METHODS = ['disabled', 'center'] as const;

export type UpscaleMethod = (typeof IMAGE_UPSCALE_METHODS)[number] | (typeof LATENT_UPSCALE_METHODS)[number];
export type CropMethod = (typeof CROP_METHODS)[number];

/** One output position's source taps along an axis. */
interface Taps {
  index: Int32Array;
  weight: Float64Array;
  /** Taps per output position. */
  size: number;
}

const f32 = Math.fround;

function torchScale(inSize: number, outSize: number): number {
  return f32(inSize / outSize);
}

function nearestExactTaps(inSize: number, outSize: number): Taps {
  const scale = torchScale(inSize, outSize);
  const index = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) index[o] = Math.min(Math.floor(f32((o + 0.5) * scale)), inSize - 1);
  return { index, weight: new Float64Array(outSize).fill(1), size: 1 };
}

function linearTaps(inSize: number, outSize: number): Taps {
  const scale = torchScale(inSize, outSize);
  const index = new Int32Array(outSize * 2);
  const weight = new Float64Array(outSize * 2);
  for (let o = 0; o < outSize; o++) {
    const real = Math.max(0, f32(f32(scale * f32(o + 0.5)) - 0.5));
    const i0 = Math.trunc(real);
    const lambda1 = Math.min(Math.max(f32(real - i0), 0), 1);
    index[o * 2] = i0;
    index[o * 2 + 1] = i0 < inSize - 1 ? i0 + 1 : i0;
    weight[o * 2] = f32(1 - lambda1);
    weight[o * 2 + 1] = lambda1;
  }
  return { index, weight, size: 2 };
}

function cubicTaps(inSize: number, outSize: number): Taps {
  const A = -0.75;
  const conv1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const conv2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  const scale = torchScale(inSize, outSize);
  const index = new Int32Array(outSize * 4);
  const weight = new Float64Array(outSize * 4);
  for (let o = 0; o < outSize; o++) {
    const real = f32(f32(scale * f32(o + 0.5)) - 0.5);
    const i0 = Math.floor(real);
    const t = f32(real - i0);
    const coeffs = [conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)];
    for (let j = 0; j < 4; j++) {
      index[o * 4 + j] = Math.min(Math.max(i0 - 1 + j, 0), inSize - 1);
      weight[o * 4 + j] = f32(coeffs[j]!);
    }
  }
  return { index, weight, size: 4 };
}

function areaTaps(inSize: number, outSize: number): Taps {
  const starts: number[] = [];
  const ends: number[] = [];
  let size = 0;
  for (let o = 0; o < outSize; o++) {
    const start = Math.floor((o * inSize) / outSize);
    const end = Math.ceil(((o + 1) * inSize) / outSize);
    starts.push(start);
    ends.push(end);
    size = Math.max(size, end - start);
  }
  const index = new Int32Array(outSize * size);
  const weight = new Float64Array(outSize * size);
  for (let o = 0; o < outSize; o++) {
    const count = ends[o]! - starts[o]!;
    for (let j = 0; j < size; j++) {
      index[o * size + j] = j < count ? starts[o]! + j : starts[o]!;
      weight[o * size + j] = j < count ? 1 / count : 0;
    }
  }
  return { index, weight, size };
}

function tapsFor(method: UpscaleMethod, inSize: number, outSize: number): Taps {
  switch (method) {
    case 'nearest-exact':
      return nearestExactTaps(inSize, outSize);
    case 'bilinear':
      return linearTaps(inSize, outSize);
    case 'bicubic':
      return cubicTaps(inSize, outSize);
    case 'area':
      return areaTaps(inSize, outSize);
    default:
      throw new Error(`no separable kernel for upscale method '${method}'`);
  }
}

/** Separable resampling of every `[H, W]` plane (width pass, then height pass). */
function resamplePlanes(
  src: Float32Array,
  planes: number,
  shape: { h: number; w: number; outH: number; outW: number },
  method: UpscaleMethod,
  checkInterrupt?: () => void,
): Float32Array {
  const { h, w, outH, outW } = shape;
  const tw = tapsFor(method, w, outW);
  const th = tapsFor(method, h, outH);
  const out = new Float32Array(planes * outH * outW);
  const rows = new Float64Array(h * outW);
  for (let p = 0; p < planes; p++) {
    checkInterrupt?.();
    widthPass(src, p * h * w, w, h, outW, tw, rows);
    heightPass(rows, outW, outH, th, out, p * outH * outW);
  }
  return out;
}

function widthPass(src: Float32Array, base: number, w: number, h: number, outW: number, tw: Taps, rows: Float64Array): void {
  const { index, weight, size } = tw;
  for (let y = 0; y < h; y++) {
    const rowBase = base + y * w;
    const outBase = y * outW;
    for (let x = 0, t = 0; x < outW; x++, t += size) {
      let acc = 0;
      for (let j = 0; j < size; j++) acc += weight[t + j]! * src[rowBase + index[t + j]!]!;
      rows[outBase + x] = acc;
    }
  }
}

function heightPass(rows: Float64Array, outW: number, outH: number, th: Taps, out: Float32Array, outBase: number): void {
  const { index, weight, size } = th;
  const acc = new Float64Array(outW);
  for (let y = 0, t = 0; y < outH; y++, t += size) {
    acc.fill(0);
    for (let j = 0; j < size; j++) {
      const wgt = weight[t + j]!;
      if (wgt === 0) continue;
      const from = index[t + j]! * outW;
      for (let x = 0; x < outW; x++) acc[x] += wgt * rows[from + x]!;
    }
    out.set(acc, outBase + y * outW);
  }
}

/** Centre crop to the target aspect ratio (ComfyUI's `crop == "center"`), on `[N, C, H, W]`. */
export function centerCropToAspect(samples: Tensor<'float32'>, width: number, height: number): Tensor<'float32'> {
  const [n, c, oldH, oldW] = samples.shape as [number, number, number, number];
  const oldAspect = oldW / oldH;
  const newAspect = width / height;
  let x = 0;
  let y = 0;
  if (oldAspect > newAspect) x = pythonRound((oldW - oldW * (newAspect / oldAspect)) / 2);
  else if (oldAspect < newAspect) y = pythonRound((oldH - oldH * (oldAspect / newAspect)) / 2);
  if (x === 0 && y === 0) return samples;
  const h = oldH - y * 2;
  const w = oldW - x * 2;
  const out = new Float32Array(n * c * h * w);
  for (let p = 0; p < n * c; p++) {
    for (let r = 0; r < h; r++) {
      const from = p * oldH * oldW + (r + y) * oldW + x;
      out.set(samples.data.subarray(from, from + w), (p * h + r) * w);
    }
  }
  return tensor('float32', [n, c, h, w], out);
}

export async function commonUpscale(
  samples: Tensor<'float32'>,
  width: number,
  height: number,
  method: UpscaleMethod,
  crop: CropMethod,
  checkInterrupt?: () => void,
): Promise<Tensor<'float32'>> {
  if (samples.shape.length !== 4) throw new Error(`common_upscale expects [N, C, H, W], got [${samples.shape.join(', ')}]`);
  if (width < 1 || height < 1) throw new Error(`cannot upscale to ${width}×${height}: both sides must be at least 1`);
  const s = crop === 'center' ? centerCropToAspect(samples, width, height) : samples;
  const [n, c, h, w] = s.shape as [number, number, number, number];
  if (method === 'bislerp') return bislerp(s, width, height, checkInterrupt);
  if (method === 'lanczos') return lanczos(s, width, height, checkInterrupt);
  const data = resamplePlanes(s.data, n * c, { h, w, outH: height, outW: width }, method, checkInterrupt);
  return tensor('float32', [n, c, height, width], data);
}

/** ComfyUI's lanczos path: quantise to uint8, resize each image, back to 0..1. */
async function lanczos(s: Tensor<'float32'>, width: number, height: number, checkInterrupt?: () => void): Promise<Tensor<'float32'>> {
  const [n, c, h, w] = s.shape as [number, number, number, number];
  if (c > 4) throw new Error(`lanczos resize supports 1–4 channels, got ${c}`);
  const out = new Float32Array(n * c * height * width);
  for (let b = 0; b < n; b++) {
    checkInterrupt?.();
    const data = new Uint8Array(h * w * c);
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) {
        const v = Math.fround(s.data[(b * c + ch) * h * w + p]! * 255);
        data[p * c + ch] = v >= 255 ? 255 : v > 0 ? Math.trunc(v) : 0;
      }
    }
    const raw: RawImage = { data, width: w, height: h, channels: c as RawImage['channels'] };
    const resized = await resizeRawLanczos(raw, width, height);
    const rc = resized.channels;
    for (let ch = 0; ch < c; ch++) {
      // sharp may hand back grey (+alpha) as RGB (+alpha): read alpha from the last band
      const from = c === 2 && ch === 1 ? rc - 1 : Math.min(ch, rc - 1);
      for (let p = 0; p < height * width; p++) out[(b * c + ch) * height * width + p] = resized.data[p * rc + from]! / 255;
    }
  }
  return tensor('float32', [n, c, height, width], out);
}
