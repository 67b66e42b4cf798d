/**
 * Weight-free latent nodes of ComfyUI: EmptyLatentImage, EmptySD3LatentImage, LatentUpscale,
 * LatentUpscaleBy, LatentFromBatch, RepeatLatentBatch.
 */
import { zeros } from '../../engine/tensor.js';
import { MAX_RESOLUTION } from '../constants.js';
import { commonUpscale, CROP_METHODS, LATENT_UPSCALE_METHODS, type CropMethod, type UpscaleMethod } from '../image/common-upscale.js';
import { pythonRound } from '../image/python-math.js';
import { defineNode } from '../node-api.js';
import { cloneTensor, repeatBatch, sliceBatch, type Latent } from './latent.js';

interface EmptyLatentInputs {
  width: number;
  height: number;
  batch_size: number;
}

export function emptyLatent(channels: number, { width, height, batch_size = 1 }: EmptyLatentInputs): Latent {
  return {
    samples: zeros('float32', [batch_size, channels, Math.floor(height / 8), Math.floor(width / 8)]),
    downscale_ratio_spacial: 8,
  };
}

export const EmptyLatentImage = defineNode<EmptyLatentInputs>({
  name: 'EmptyLatentImage',
  displayName: 'Empty Latent Image',
  description: 'Create a new batch of empty latent images to be denoised via sampling.',
  category: 'model/latent',
  searchAliases: ['empty', 'empty latent', 'new latent', 'create latent', 'blank latent', 'blank'],
  inputTypes: {
    required: {
      width: ['INT', { default: 1024, min: 16, max: MAX_RESOLUTION, step: 8, tooltip: 'The width of the latent images in pixels.' }],
      height: ['INT', { default: 1024, min: 16, max: MAX_RESOLUTION, step: 8, tooltip: 'The height of the latent images in pixels.' }],
      batch_size: ['INT', { default: 1, min: 1, max: 4096, tooltip: 'The number of latent images in the batch.' }],
    },
  },
  returnTypes: ['LATENT'],
  outputTooltips: ['The empty latent image batch.'],
  // 4 channels as in ComfyUI; the sampler widens an empty latent to the model's channel count.
  execute: (inputs) => [emptyLatent(4, inputs)],
});

export const EmptySD3LatentImage = defineNode<EmptyLatentInputs>({
  name: 'EmptySD3LatentImage',
  category: 'model/latent/stable diffusion',
  pythonModule: 'comfy_extras.nodes_sd3',
  inputTypes: {
    required: {
      width: ['INT', { default: 1024, min: 16, max: MAX_RESOLUTION, step: 16 }],
      height: ['INT', { default: 1024, min: 16, max: MAX_RESOLUTION, step: 16 }],
      batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
    },
  },
  returnTypes: ['LATENT'],
  execute: (inputs) => [emptyLatent(16, inputs)],
});

interface LatentUpscaleInputs {
  samples: Latent;
  upscale_method: UpscaleMethod;
  width: number;
  height: number;
  crop: CropMethod;
}

function latentSize(latent: Latent): { h: number; w: number } {
  const shape = latent.samples.shape;
  return { h: shape[shape.length - 2]!, w: shape[shape.length - 1]! };
}

export const LatentUpscale = defineNode<LatentUpscaleInputs>({
  name: 'LatentUpscale',
  displayName: 'Upscale Latent',
  category: 'model/latent',
  searchAliases: ['enlarge latent', 'resize latent'],
  inputTypes: {
    required: {
      samples: ['LATENT'],
      upscale_method: [[...LATENT_UPSCALE_METHODS]],
      width: ['INT', { default: 512, min: 0, max: MAX_RESOLUTION, step: 8 }],
      height: ['INT', { default: 512, min: 0, max: MAX_RESOLUTION, step: 8 }],
      crop: [[...CROP_METHODS]],
    },
  },
  returnTypes: ['LATENT'],
  async execute({ samples, upscale_method, width, height, crop }, ctx) {
    if (width === 0 && height === 0) return [samples];
    const { h, w } = latentSize(samples);
    if (width === 0) {
      height = Math.max(64, height);
      width = Math.max(64, pythonRound((w * height) / h));
    } else if (height === 0) {
      width = Math.max(64, width);
      height = Math.max(64, pythonRound((h * width) / w));
    } else {
      width = Math.max(64, width);
      height = Math.max(64, height);
    }
    const scaled = await commonUpscale(samples.samples, Math.floor(width / 8), Math.floor(height / 8), upscale_method, crop, () => ctx.checkInterrupt());
    return [{ ...samples, samples: scaled }];
  },
});

export const LatentUpscaleBy = defineNode<{ samples: Latent; upscale_method: UpscaleMethod; scale_by: number }>({
  name: 'LatentUpscaleBy',
  displayName: 'Upscale Latent By',
  category: 'model/latent',
  searchAliases: ['enlarge latent', 'resize latent', 'scale latent'],
  inputTypes: {
    required: {
      samples: ['LATENT'],
      upscale_method: [[...LATENT_UPSCALE_METHODS]],
      scale_by: ['FLOAT', { default: 1.5, min: 0.01, max: 8.0, step: 0.01 }],
    },
  },
  returnTypes: ['LATENT'],
  async execute({ samples, upscale_method, scale_by }, ctx) {
    const { h, w } = latentSize(samples);
    const width = pythonRound(w * scale_by);
    const height = pythonRound(h * scale_by);
    const scaled = await commonUpscale(samples.samples, width, height, upscale_method, 'disabled', () => ctx.checkInterrupt());
    return [{ ...samples, samples: scaled }];
  },
});

export const LatentFromBatch = defineNode<{ samples: Latent; batch_index: number; length: number }>({
  name: 'LatentFromBatch',
  displayName: 'Get Latent From Batch',
  category: 'model/latent/batch',
  searchAliases: ['select from batch', 'pick latent', 'batch subset'],
  inputTypes: {
    required: {
      samples: ['LATENT'],
      batch_index: ['INT', { default: 0, min: -MAX_RESOLUTION, max: MAX_RESOLUTION }],
      length: ['INT', { default: 1, min: 1, max: 64 }],
    },
  },
  returnTypes: ['LATENT'],
  execute({ samples, batch_index, length }) {
    const s: Latent = { ...samples };
    const total = samples.samples.shape[0]!;
    let index = batch_index < 0 ? batch_index + total : batch_index;
    index = Math.max(0, Math.min(total - 1, index));
    const count = Math.min(total - index, length);
    s.samples = sliceBatch(samples.samples, index, count);
    if (samples.noise_mask) {
      let masks = samples.noise_mask;
      if (masks.shape[0] === 1) s.noise_mask = cloneTensor(masks);
      else {
        if (masks.shape[0]! < total) masks = sliceBatch(repeatBatch(masks, Math.ceil(total / masks.shape[0]!)), 0, total);
        s.noise_mask = sliceBatch(masks, index, count);
      }
    }
    s.batch_index = samples.batch_index
      ? samples.batch_index.slice(index, index + count)
      : Array.from({ length: count }, (_, i) => index + i);
    return [s];
  },
});

export const RepeatLatentBatch = defineNode<{ samples: Latent; amount: number }>({
  name: 'RepeatLatentBatch',
  displayName: 'Repeat Latent Batch',
  category: 'model/latent/batch',
  searchAliases: ['duplicate latent', 'clone latent'],
  inputTypes: {
    required: {
      samples: ['LATENT'],
      amount: ['INT', { default: 1, min: 1, max: 64 }],
    },
  },
  returnTypes: ['LATENT'],
  execute({ samples, amount }) {
    const s: Latent = { ...samples, samples: repeatBatch(samples.samples, amount) };
    if (samples.noise_mask && samples.noise_mask.shape[0]! > 1) s.noise_mask = repeatBatch(samples.noise_mask, amount);
    if (samples.batch_index) {
      const bi = samples.batch_index;
      const offset = Math.max(...bi) - Math.min(...bi) + 1;
      const extra: number[] = [];
      for (let i = 1; i < amount; i++) for (const x of bi) extra.push(x + i * offset);
      s.batch_index = [...bi, ...extra];
    }
    return [s];
  },
});
