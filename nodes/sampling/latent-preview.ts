/**
 * Per-step latent previews (ComfyUI's latent_preview.py, Latent2RGBPreviewer): the step's x0
 * prediction in model space, first batch item, projected to RGB with SD3's 16×3 factors + bias
 * (engine spec §4.5), `uint8(clamp((rgb + 1) / 2, 0, 1) · 255)`, shrunk to fit `previewSize`
 * (never enlarged, like PIL's thumbnail) and encoded as JPEG quality 95.
 *
 * Methods: `none` → no previews; `auto`, `latent2rgb` → latent2rgb; `taesd` → latent2rgb too (no
 * TAESD3 decoder here; logged once).
 */
import sharp from 'sharp';
import type { Logger, PreviewImage } from '../node-api.js';

/** Rows = latent channels 0…15, columns R, G, B (current ComfyUI, with bias). */
export const SD3_LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [-0.0922, -0.0175, 0.0749], [0.0311, 0.0633, 0.0954], [0.1994, 0.0927, 0.0458], [0.0856, 0.0339, 0.0902],
  [0.0587, 0.0272, -0.0496], [-0.0006, 0.1104, 0.0309], [0.0978, 0.0306, 0.0427], [-0.0042, 0.1038, 0.1358],
  [-0.0194, 0.002, 0.0669], [-0.0488, 0.013, -0.0268], [0.0922, 0.0988, 0.0951], [-0.0278, 0.0524, -0.0542],
  [0.0332, 0.0456, 0.0895], [-0.0069, -0.003, -0.081], [-0.0596, -0.0465, -0.0293], [-0.1448, -0.1463, -0.1189],
];
export const SD3_LATENT_RGB_BIAS: readonly [number, number, number] = [0.2394, 0.2135, 0.1925];

export interface RgbImage {
  width: number;
  height: number;
  /** HWC uint8 RGB. */
  data: Uint8Array;
}

/** latent2rgb of batch item 0 of a model-space latent [B, 16, H, W]. */
export function latentToRgb(latent: Float32Array, shape: readonly number[]): RgbImage {
  const [, channels, height, width] = shape;
  if (channels !== SD3_LATENT_RGB_FACTORS.length) throw new Error(`latent2rgb preview: SD3 factors need 16 channels, got ${channels}`);
  const plane = height * width;
  const data = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      let v = SD3_LATENT_RGB_BIAS[k];
      for (let c = 0; c < channels; c++) v += latent[c * plane + p] * SD3_LATENT_RGB_FACTORS[c][k];
      data[p * 3 + k] = Math.trunc(Math.min(Math.max((v + 1) / 2, 0), 1) * 255);
    }
  }
  return { width, height, data };
}

/** Fits (w, h) into a max×max square keeping the aspect ratio; never enlarges. */
export function thumbnailSize(width: number, height: number, max: number): { width: number; height: number } {
  if (width <= max && height <= max) return { width, height };
  const scale = max / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export async function encodePreviewJpeg(image: RgbImage, previewSize: number): Promise<PreviewImage> {
  const size = thumbnailSize(image.width, image.height, previewSize);
  let pipeline = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } });
  if (size.width !== image.width || size.height !== image.height) pipeline = pipeline.resize(size.width, size.height, { kernel: 'lanczos3' });
  const data = await pipeline.jpeg({ quality: 95 }).toBuffer();
  return { format: 'jpeg', data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export type PreviewFn = (denoised: Float32Array, shape: readonly number[]) => Promise<PreviewImage>;

let taesdNoted = false;

/** The preview encoder for a method, or null when previews are off. */
export function previewerFor(method: string, previewSize: number, log?: Logger): PreviewFn | null {
  if (method === 'none' || method === '') return null;
  if (method === 'taesd' && !taesdNoted) {
    taesdNoted = true;
    log?.info('preview method taesd: no TAESD3 decoder in this server, using latent2rgb previews');
  }
  return (denoised, shape) => encodePreviewJpeg(latentToRgb(denoised, shape), previewSize);
}
