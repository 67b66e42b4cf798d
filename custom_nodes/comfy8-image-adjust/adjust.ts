/**
 * The pixel math of the pack, on IMAGE tensors (float32 [B, H, W, C], 0..1). Every function
 * returns a new image and clamps to 0..1; a 4th (alpha) channel is carried through unchanged.
 */
import { clamp01, tensor, type Image } from 'comfy8/node-api';

export interface Adjustments {
  /** Added after contrast: -1..1, 0 = unchanged. */
  brightness: number;
  /** Scales the distance from mid-grey: 0..3, 1 = unchanged. */
  contrast: number;
  /** Scales the distance from the pixel's luma (Rec. 709): 0 = greyscale, 1 = unchanged. */
  saturation: number;
  /** `v ** (1 / gamma)`: > 1 lifts the shadows, 1 = unchanged. */
  gamma: number;
}

function dims(image: Image): { pixels: number; channels: number } {
  const [b, h, w, c] = image.shape as [number, number, number, number];
  return { pixels: b * h * w, channels: c };
}

export function adjustImage(image: Image, a: Adjustments): Image {
  const { pixels, channels } = dims(image);
  const src = image.data;
  const out = new Float32Array(src.length);
  const colour = Math.min(channels, 3);
  const invGamma = 1 / a.gamma;
  for (let p = 0; p < pixels; p++) {
    const o = p * channels;
    for (let c = 0; c < channels; c++) out[o + c] = src[o + c]!;
    for (let c = 0; c < colour; c++) out[o + c] = (out[o + c]! - 0.5) * a.contrast + 0.5 + a.brightness;
    if (colour === 3) {
      const luma = 0.2126 * out[o]! + 0.7152 * out[o + 1]! + 0.0722 * out[o + 2]!;
      for (let c = 0; c < 3; c++) out[o + c] = luma + (out[o + c]! - luma) * a.saturation;
    }
    for (let c = 0; c < colour; c++) out[o + c] = clamp01(out[o + c]!) ** invGamma;
  }
  return tensor('float32', image.shape, out);
}

/** A normalised 1-D Gaussian of `2 * radius + 1` taps. */
export function gaussianKernel(radius: number, sigma: number): Float32Array {
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Mirror an out-of-range index back inside 0..n-1 (PyTorch's `reflect` padding). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** One separable blur pass along x (`horizontal`) or y of every image and channel. */
function blurPass(src: Float32Array, shape: readonly number[], kernel: Float32Array, horizontal: boolean): Float32Array {
  const [b, h, w, c] = shape as [number, number, number, number];
  const out = new Float32Array(src.length);
  const radius = (kernel.length - 1) / 2;
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = ((n * h + y) * w + x) * c;
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let t = -radius; t <= radius; t++) {
            const sx = horizontal ? reflect(x + t, w) : x;
            const sy = horizontal ? y : reflect(y + t, h);
            acc += kernel[t + radius]! * src[((n * h + sy) * w + sx) * c + ch]!;
          }
          out[o + ch] = acc;
        }
      }
    }
  }
  return out;
}

/** Unsharp mask: `image + amount * (image - gaussian blur)`, reflect-padded at the borders. */
export function sharpenImage(image: Image, radius: number, sigma: number, amount: number): Image {
  const kernel = gaussianKernel(radius, sigma);
  const blurred = blurPass(blurPass(image.data, image.shape, kernel, true), image.shape, kernel, false);
  const { pixels, channels } = dims(image);
  const out = new Float32Array(image.data.length);
  const colour = Math.min(channels, 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < channels; c++) {
      const i = p * channels + c;
      const v = image.data[i]!;
      out[i] = c < colour ? clamp01(v + amount * (v - blurred[i]!)) : v;
    }
  }
  return tensor('float32', image.shape, out);
}

/** Stretches each colour channel of each image so that its darkest value is 0 and its brightest 1. */
export function autoLevels(image: Image): Image {
  const [b, h, w, c] = image.shape as [number, number, number, number];
  const out = Float32Array.from(image.data);
  const colour = Math.min(c, 3);
  const per = h * w;
  for (let n = 0; n < b; n++) {
    for (let ch = 0; ch < colour; ch++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let p = 0; p < per; p++) {
        const v = out[(n * per + p) * c + ch]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (hi - lo < 1e-6) continue;
      for (let p = 0; p < per; p++) {
        const i = (n * per + p) * c + ch;
        out[i] = clamp01((out[i]! - lo) / (hi - lo));
      }
    }
  }
  return tensor('float32', image.shape, out);
}
