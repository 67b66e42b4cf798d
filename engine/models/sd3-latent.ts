/**
 * SD3's latent format (spec/sd3-engine.md §4.1, §4.5): VAE space ↔ model space and the cheap
 * latent → RGB preview. ComfyUI keeps LATENT tensors in VAE space; samplers apply processIn/Out.
 */
import type { Tensor } from '../tensor.js';

export const SD3_LATENT_CHANNELS = 16;
export const SD3_SCALE_FACTOR = 1.5305;
export const SD3_SHIFT_FACTOR = 0.0609;

/** Model space from VAE space: (z − shift) · scale, float32 per element. */
export function sd3ProcessIn(z: Tensor<'float32'>): Tensor<'float32'> {
  const data = z.data.map((v) => Math.fround(Math.fround(v - Math.fround(SD3_SHIFT_FACTOR)) * Math.fround(SD3_SCALE_FACTOR)));
  return { dtype: 'float32', shape: [...z.shape], data };
}

/** VAE space from model space: x / scale + shift. */
export function sd3ProcessOut(x: Tensor<'float32'>): Tensor<'float32'> {
  const data = x.data.map((v) => Math.fround(Math.fround(v / Math.fround(SD3_SCALE_FACTOR)) + Math.fround(SD3_SHIFT_FACTOR)));
  return { dtype: 'float32', shape: [...x.shape], data };
}

/** Current ComfyUI factors: rows = latent channels 0…15, columns R, G, B. */
export const SD3_PREVIEW_FACTORS: readonly (readonly [number, number, number])[] = [
  [-0.0922, -0.0175, 0.0749], [0.0311, 0.0633, 0.0954], [0.1994, 0.0927, 0.0458], [0.0856, 0.0339, 0.0902],
  [0.0587, 0.0272, -0.0496], [-0.0006, 0.1104, 0.0309], [0.0978, 0.0306, 0.0427], [-0.0042, 0.1038, 0.1358],
  [-0.0194, 0.002, 0.0669], [-0.0488, 0.013, -0.0268], [0.0922, 0.0988, 0.0951], [-0.0278, 0.0524, -0.0542],
  [0.0332, 0.0456, 0.0895], [-0.0069, -0.003, -0.081], [-0.0596, -0.0465, -0.0293], [-0.1448, -0.1463, -0.1189],
];
export const SD3_PREVIEW_BIAS: readonly [number, number, number] = [0.2394, 0.2135, 0.1925];

/** Preview of item 0 of a model-space latent [B, 16, h, w] → RGB bytes [h, w, 3] (ComfyUI's Latent2RGB). */
export function sd3LatentPreview(x: Tensor<'float32'>): { width: number; height: number; rgb: Uint8Array } {
  const [, c, h, w] = x.shape;
  if (c !== SD3_LATENT_CHANNELS) throw new Error(`SD3 latent preview: expected ${SD3_LATENT_CHANNELS} channels, got ${c}`);
  const rgb = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) {
      let v = SD3_PREVIEW_BIAS[k];
      for (let ch = 0; ch < c; ch++) v += x.data[ch * h * w + p] * SD3_PREVIEW_FACTORS[ch][k];
      rgb[p * 3 + k] = Math.floor(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
    }
  }
  return { width: w, height: h, rgb };
}
