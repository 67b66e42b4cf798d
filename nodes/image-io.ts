/**
 * IMAGE tensors ↔ image files, through sharp.
 *
 * - An IMAGE is float32 `[B, H, W, C]` in 0..1 (C = 3, or 4 with alpha); a MASK is `[B, H, W]`.
 * - Saving converts like ComfyUI: `uint8(clip(255·x, 0, 255))` — truncation, not rounding.
 * - Loading gives RGB / 255 (or / 65535 for 16-bit files) and a mask `1 − alpha`, as LoadImage.
 *
 * Example:
 *   const png = await encodeImagePng(image, 0, { compressionLevel: 4, text: [{ keyword: 'prompt', text: '{}' }] });
 *   const { image, mask } = await decodeImageFile('/input/cat.png');
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { insertPngTextChunks, removePngChunks, type PngTextEntry } from '../compat/png-text.js';
import { tensor, zeros, type Tensor } from '../engine/tensor.js';

export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

export interface DecodedImage {
  /** `[frames, H, W, 3]`. */
  image: Tensor<'float32'>;
  /** `[frames, H, W]` (1 − alpha), or `[frames, 64, 64]` zeros when the file has no alpha. */
  mask: Tensor<'float32'>;
}

export function imageDims(image: Tensor): { batch: number; height: number; width: number; channels: number } {
  if (image.shape.length !== 4) throw new Error(`expected an IMAGE [B, H, W, C], got shape [${image.shape.join(', ')}]`);
  const [batch, height, width, channels] = image.shape as [number, number, number, number];
  return { batch, height, width, channels };
}

/** One batch entry as 8-bit interleaved pixels, converted as ComfyUI's SaveImage does. */
export function imageToUint8(image: Tensor<'float32'>, index: number): RawImage {
  const { batch, height, width, channels } = imageDims(image);
  if (index < 0 || index >= batch) throw new Error(`image index ${index} out of range for a batch of ${batch}`);
  if (channels < 1 || channels > 4) throw new Error(`cannot save an image with ${channels} channels (1–4 supported)`);
  const n = height * width * channels;
  const src = image.data.subarray(index * n, (index + 1) * n);
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // float32 product, as numpy computes `255. * float32_array`, then truncation
    const v = Math.fround(src[i]! * 255);
    // NaN → 0 like numpy's cast of a clipped NaN on x86
    data[i] = v >= 255 ? 255 : v > 0 ? Math.trunc(v) : 0;
  }
  return { data, width, height, channels: channels as RawImage['channels'] };
}

/** 8-bit interleaved pixels (one or more equal-sized frames) as an IMAGE `[frames, H, W, C]` / 255. */
export function rawToImage(frames: readonly RawImage[]): Tensor<'float32'> {
  if (frames.length === 0) throw new Error('rawToImage needs at least one frame');
  const { width, height, channels } = frames[0]!;
  const per = width * height * channels;
  const data = new Float32Array(frames.length * per);
  frames.forEach((f, i) => {
    if (f.width !== width || f.height !== height || f.channels !== channels) {
      throw new Error(`frame ${i} is ${f.width}×${f.height}×${f.channels}, expected ${width}×${height}×${channels}`);
    }
    for (let p = 0; p < per; p++) data[i * per + p] = f.data[p]! / 255;
  });
  return tensor('float32', [frames.length, height, width, channels], data);
}

export interface PngEncodeOptions {
  /** zlib level 0–9 (ComfyUI: 4 for SaveImage, 1 for PreviewImage). */
  compressionLevel: number;
  text?: readonly PngTextEntry[];
}

export async function encodeRawPng(raw: RawImage, opts: PngEncodeOptions): Promise<Buffer> {
  const png = await sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } })
    .png({ compressionLevel: opts.compressionLevel, adaptiveFiltering: false })
    .toBuffer();
  // PIL (ComfyUI) writes no pHYs chunk; dropping sharp's keeps the files alike.
  const bare = removePngChunks(png, ['pHYs']);
  return opts.text && opts.text.length > 0 ? insertPngTextChunks(bare, opts.text) : bare;
}

export async function encodeImagePng(image: Tensor<'float32'>, index: number, opts: PngEncodeOptions): Promise<Buffer> {
  return encodeRawPng(imageToUint8(image, index), opts);
}

interface Frame {
  rgb: Float32Array;
  alpha: Float32Array | null;
}

/** Decodes a still or multi-frame image (GIF/WebP/TIFF pages) into IMAGE + MASK tensors. */
export async function decodeImageFile(file: string): Promise<DecodedImage> {
  const bytes = await fs.readFile(file);
  try {
    return await decodeImageBuffer(bytes);
  } catch (err) {
    throw new Error(`cannot read image file '${path.basename(file)}': ${(err as Error).message}`, { cause: err });
  }
}

export async function decodeImageBuffer(bytes: Buffer): Promise<DecodedImage> {
  const meta = await sharp(bytes).metadata();
  const pages = meta.pages ?? 1;
  const frames: Frame[] = [];
  let width = 0;
  let height = 0;
  if (pages > 1) {
    const { data, info } = await sharp(bytes, { pages: -1 }).raw().toBuffer({ resolveWithObject: true });
    const pageHeight = meta.pageHeight ?? info.height / pages;
    width = info.width;
    height = pageHeight;
    const per = info.width * pageHeight * info.channels;
    for (let p = 0; p < pages; p++) {
      frames.push(splitChannels(data.subarray(p * per, (p + 1) * per), info.channels, 255));
    }
  } else {
    const sixteen = meta.depth === 'ushort';
    const pipeline = sharp(bytes).autoOrient();
    // without an explicit 16-bit colourspace sharp reduces to 8-bit values inside the 16-bit container
    if (sixteen) pipeline.toColourspace('rgb16');
    const { data, info } = await (sixteen ? pipeline.raw({ depth: 'ushort' }) : pipeline.raw()).toBuffer({ resolveWithObject: true });
    width = info.width;
    height = info.height;
    const samples = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : data;
    frames.push(splitChannels(samples, info.channels, sixteen ? 65535 : 255));
  }
  return framesToTensors(frames, width, height);
}

function splitChannels(samples: Uint8Array | Uint16Array, channels: number, maxValue: number): Frame {
  const pixels = samples.length / channels;
  const rgb = new Float32Array(pixels * 3);
  const hasAlpha = channels === 2 || channels === 4;
  const alpha = hasAlpha ? new Float32Array(pixels) : null;
  const colour = hasAlpha ? channels - 1 : channels;
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = samples[base + (colour === 1 ? 0 : c)]! / maxValue;
    if (alpha) alpha[p] = samples[base + channels - 1]! / maxValue;
  }
  return { rgb, alpha };
}

function framesToTensors(frames: Frame[], width: number, height: number): DecodedImage {
  const b = frames.length;
  const plane = width * height;
  const image = new Float32Array(b * plane * 3);
  frames.forEach((f, i) => image.set(f.rgb, i * plane * 3));
  if (frames.every((f) => f.alpha === null)) {
    return { image: tensor('float32', [b, height, width, 3], image), mask: zeros('float32', [b, 64, 64]) };
  }
  const mask = new Float32Array(b * plane);
  frames.forEach((f, i) => {
    // a frame without alpha in an otherwise transparent sequence is fully opaque
    for (let p = 0; p < plane; p++) mask[i * plane + p] = f.alpha ? 1 - f.alpha[p]! : 0;
  });
  return { image: tensor('float32', [b, height, width, 3], image), mask: tensor('float32', [b, height, width], mask) };
}

/** Resizes one 8-bit raw image with sharp's Lanczos-3 kernel (ComfyUI uses PIL's LANCZOS). */
export async function resizeRawLanczos(raw: RawImage, width: number, height: number): Promise<RawImage> {
  const { data, info } = await sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
}
