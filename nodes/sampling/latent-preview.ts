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
import { sd3LatentPreview } from '../../engine/models/sd3-latent.js';
import type { Logger, PreviewImage } from '../node-api.js';

export interface RgbImage {
  width: number;
  height: number;
  /** HWC uint8 RGB. */
  data: Uint8Array;
}

/** latent2rgb of batch item 0 of a model-space latent [B, 16, H, W] (the engine's factors). */
export function latentToRgb(latent: Float32Array, shape: readonly number[]): RgbImage {
  const { width, height, rgb } = sd3LatentPreview({ dtype: 'float32', shape, data: latent });
  return { width, height, data: rgb };
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
