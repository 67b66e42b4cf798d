/**
 * Pixel-only image nodes of ComfyUI: EmptyImage, ImageInvert, ImageScale, ImageScaleBy,
 * ImageCrop, ImageBatch, ImagePadForOutpaint. IMAGE = float32 `[B, H, W, C]` in 0..1.
 */
import { tensor, type Tensor } from '../../engine/tensor.js';
import { MAX_RESOLUTION } from '../constants.js';
import { imageDims } from '../image-io.js';
import { defineNode, type ExecutionContext } from '../node-api.js';
import { commonUpscale, CROP_METHODS, IMAGE_UPSCALE_METHODS, type CropMethod, type UpscaleMethod } from './common-upscale.js';
import { toChannelsFirst, toChannelsLast } from './layout.js';
import { pythonRound } from './python-math.js';

type Image = Tensor<'float32'>;

export async function scaleImage(image: Image, width: number, height: number, method: UpscaleMethod, crop: CropMethod, ctx?: ExecutionContext): Promise<Image> {
  const scaled = await commonUpscale(toChannelsFirst(image), width, height, method, crop, ctx ? () => ctx.checkInterrupt() : undefined);
  return toChannelsLast(scaled);
}

export const EmptyImage = defineNode<{ width: number; height: number; batch_size: number; color: number }>({
  name: 'EmptyImage',
  displayName: 'Empty Image',
  category: 'image',
  inputTypes: {
    required: {
      width: ['INT', { default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }],
      height: ['INT', { default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }],
      batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
      color: ['INT', { default: 0, min: 0, max: 0xffffff, step: 1, display: 'color' }],
    },
  },
  returnTypes: ['IMAGE'],
  execute({ width, height, batch_size = 1, color = 0 }) {
    const rgb = [((color >> 16) & 0xff) / 0xff, ((color >> 8) & 0xff) / 0xff, (color & 0xff) / 0xff];
    const n = batch_size * height * width;
    const data = new Float32Array(n * 3);
    for (let p = 0; p < n; p++) data.set(rgb, p * 3);
    return [tensor('float32', [batch_size, height, width, 3], data)];
  },
});

export const ImageInvert = defineNode<{ image: Image }>({
  name: 'ImageInvert',
  displayName: 'Invert Image Colors',
  category: 'image/color',
  searchAliases: ['reverse colors'],
  inputTypes: { required: { image: ['IMAGE'] } },
  returnTypes: ['IMAGE'],
  execute({ image }) {
    const { channels } = imageDims(image);
    const out = new Float32Array(image.data.length);
    for (let i = 0; i < out.length; i++) {
      // alpha stores transparency, not colour: it is kept as is
      out[i] = channels === 4 && i % 4 === 3 ? image.data[i]! : 1 - image.data[i]!;
    }
    return [tensor('float32', image.shape, out)];
  },
});

interface ImageScaleInputs {
  image: Image;
  upscale_method: UpscaleMethod;
  width: number;
  height: number;
  crop: CropMethod;
}

export const ImageScale = defineNode<ImageScaleInputs>({
  name: 'ImageScale',
  displayName: 'Upscale Image',
  category: 'image/upscaling',
  searchAliases: ['resize', 'resize image', 'scale image', 'image resize', 'zoom', 'zoom in', 'change size'],
  inputTypes: {
    required: {
      image: ['IMAGE'],
      upscale_method: [[...IMAGE_UPSCALE_METHODS]],
      width: ['INT', { default: 512, min: 0, max: MAX_RESOLUTION, step: 1 }],
      height: ['INT', { default: 512, min: 0, max: MAX_RESOLUTION, step: 1 }],
      crop: [[...CROP_METHODS]],
    },
  },
  returnTypes: ['IMAGE'],
  async execute({ image, upscale_method, width, height, crop }, ctx) {
    if (width === 0 && height === 0) return [image];
    const { height: h, width: w } = imageDims(image);
    if (width === 0) width = Math.max(1, pythonRound((w * height) / h));
    else if (height === 0) height = Math.max(1, pythonRound((h * width) / w));
    return [await scaleImage(image, width, height, upscale_method, crop, ctx)];
  },
});

export const ImageScaleBy = defineNode<{ image: Image; upscale_method: UpscaleMethod; scale_by: number }>({
  name: 'ImageScaleBy',
  displayName: 'Upscale Image By',
  category: 'image/upscaling',
  inputTypes: {
    required: {
      image: ['IMAGE'],
      upscale_method: [[...IMAGE_UPSCALE_METHODS]],
      scale_by: ['FLOAT', { default: 1.0, min: 0.01, max: 8.0, step: 0.01 }],
    },
  },
  returnTypes: ['IMAGE'],
  async execute({ image, upscale_method, scale_by }, ctx) {
    const { height, width } = imageDims(image);
    return [await scaleImage(image, pythonRound(width * scale_by), pythonRound(height * scale_by), upscale_method, 'disabled', ctx)];
  },
});

/** `image[:, y0:y1, x0:x1, :]` with Python slice clamping. */
export function sliceImage(image: Image, y0: number, y1: number, x0: number, x1: number): Image {
  const { batch, height, width, channels } = imageDims(image);
  const ys = Math.max(0, Math.min(y0, height));
  const ye = Math.max(ys, Math.min(y1, height));
  const xs = Math.max(0, Math.min(x0, width));
  const xe = Math.max(xs, Math.min(x1, width));
  const h = ye - ys;
  const w = xe - xs;
  const out = new Float32Array(batch * h * w * channels);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < h; y++) {
      const from = ((b * height + ys + y) * width + xs) * channels;
      out.set(image.data.subarray(from, from + w * channels), ((b * h + y) * w) * channels);
    }
  }
  return tensor('float32', [batch, h, w, channels], out);
}

export const ImageCrop = defineNode<{ image: Image; width: number; height: number; x: number; y: number }>({
  name: 'ImageCrop',
  displayName: 'Crop Image (DEPRECATED)',
  category: 'image/transform',
  pythonModule: 'comfy_extras.nodes_images',
  deprecated: true,
  searchAliases: ['trim'],
  inputTypes: {
    required: {
      image: ['IMAGE', {}],
      width: ['INT', { default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }],
      height: ['INT', { default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }],
      x: ['INT', { default: 0, min: 0, max: MAX_RESOLUTION, step: 1 }],
      y: ['INT', { default: 0, min: 0, max: MAX_RESOLUTION, step: 1 }],
    },
  },
  returnTypes: ['IMAGE'],
  execute({ image, width, height, x, y }) {
    const dims = imageDims(image);
    const cx = Math.min(x, dims.width - 1);
    const cy = Math.min(y, dims.height - 1);
    return [sliceImage(image, cy, cy + height, cx, cx + width)];
  },
});

/** Adds a constant channel of 1.0 (opaque alpha) as ComfyUI's `pad(image, (0, 1), value=1.0)`. */
function padChannel(image: Image): Image {
  const { batch, height, width, channels } = imageDims(image);
  const pixels = batch * height * width;
  const out = new Float32Array(pixels * (channels + 1));
  for (let p = 0; p < pixels; p++) {
    out.set(image.data.subarray(p * channels, (p + 1) * channels), p * (channels + 1));
    out[p * (channels + 1) + channels] = 1;
  }
  return tensor('float32', [batch, height, width, channels + 1], out);
}

export const ImageBatch = defineNode<{ image1: Image; image2: Image }>({
  name: 'ImageBatch',
  displayName: 'Batch Images (DEPRECATED)',
  category: 'image/batch',
  deprecated: true,
  searchAliases: ['combine images', 'merge images', 'stack images'],
  inputTypes: { required: { image1: ['IMAGE'], image2: ['IMAGE'] } },
  returnTypes: ['IMAGE'],
  async execute({ image1, image2 }, ctx) {
    let a = image1;
    let b = image2;
    if (imageDims(a).channels !== imageDims(b).channels) {
      if (imageDims(a).channels > imageDims(b).channels) b = padChannel(b);
      else a = padChannel(a);
    }
    const da = imageDims(a);
    const db = imageDims(b);
    if (da.height !== db.height || da.width !== db.width || da.channels !== db.channels) {
      b = await scaleImage(b, da.width, da.height, 'bilinear', 'center', ctx);
    }
    const out = new Float32Array(a.data.length + b.data.length);
    out.set(a.data);
    out.set(b.data, a.data.length);
    return [tensor('float32', [da.batch + imageDims(b).batch, da.height, da.width, da.channels], out)];
  },
});

interface PadInputs {
  image: Image;
  left: number;
  top: number;
  right: number;
  bottom: number;
  feathering: number;
}

/** The outpainting mask: 1 in the new border, a squared ramp `((f − d) / f)²` inside near padded edges. */
export function outpaintMask(h: number, w: number, pad: Omit<PadInputs, 'image'>): Tensor<'float32'> {
  const { left, top, right, bottom, feathering } = pad;
  const outH = h + top + bottom;
  const outW = w + left + right;
  const mask = new Float32Array(outH * outW).fill(1);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      let v = 0;
      if (feathering > 0 && feathering * 2 < h && feathering * 2 < w) {
        const d = Math.min(top !== 0 ? i : h, bottom !== 0 ? h - i : h, left !== 0 ? j : w, right !== 0 ? w - j : w);
        if (d < feathering) v = ((feathering - d) / feathering) ** 2;
      }
      mask[(top + i) * outW + left + j] = v;
    }
  }
  return tensor('float32', [1, outH, outW], mask);
}

export const ImagePadForOutpaint = defineNode<PadInputs>({
  name: 'ImagePadForOutpaint',
  displayName: 'Pad Image for Outpainting',
  category: 'image/transform',
  searchAliases: ['extend canvas', 'expand image'],
  inputTypes: {
    required: {
      image: ['IMAGE'],
      left: ['INT', { default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }],
      top: ['INT', { default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }],
      right: ['INT', { default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }],
      bottom: ['INT', { default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }],
      feathering: ['INT', { default: 40, min: 0, max: MAX_RESOLUTION, step: 1, advanced: true }],
    },
  },
  returnTypes: ['IMAGE', 'MASK'],
  execute({ image, ...pad }) {
    const { batch, height, width, channels } = imageDims(image);
    const outH = height + pad.top + pad.bottom;
    const outW = width + pad.left + pad.right;
    const out = new Float32Array(batch * outH * outW * channels).fill(0.5);
    for (let b = 0; b < batch; b++) {
      for (let y = 0; y < height; y++) {
        const from = ((b * height + y) * width) * channels;
        out.set(image.data.subarray(from, from + width * channels), ((b * outH + pad.top + y) * outW + pad.left) * channels);
      }
    }
    return [tensor('float32', [batch, outH, outW, channels], out), outpaintMask(height, width, pad)];
  },
});
