// comfy8-latent-tools: latent-space utilities, declared the way ComfyUI packs declare nodes.
// Every node sets ACCEPTS_FP8 = true: FP8 latents reach it as they are (no cast to float16) and
// latent-math.js decodes them itself, so the stats report the real storage dtype.
import { castTensor } from 'comfy8/node-api';
import { blend, scale, standardize, statsText } from './latent-math.js';

/** @typedef {import('comfy8/node-api').Latent} Latent */

const CATEGORY = 'latent/tools';
const DTYPES = ['float32', 'float16', 'bfloat16', 'float8_e4m3fn', 'float8_e5m2'];

/** A LATENT like `latent` (noise_mask, batch_index… kept) with new samples. */
const withSamples = (latent, samples) => ({ ...latent, samples });

export class C8LatentBlend {
  static INPUT_TYPES() {
    return {
      required: {
        samples1: ['LATENT'],
        samples2: ['LATENT'],
        blend_factor: ['FLOAT', { default: 0.5, min: 0, max: 1, step: 0.01 }],
        blend_mode: [['normal', 'add', 'subtract'], { default: 'normal', tooltip: 'normal: s1·f + s2·(1−f); add: s1 + f·s2; subtract: s1 − f·s2' }],
      },
    };
  }
  static RETURN_TYPES = ['LATENT'];
  static FUNCTION = 'blend';
  static CATEGORY = CATEGORY;
  static DESCRIPTION = 'Blends two latents of the same shape; the result is float32.';
  static ACCEPTS_FP8 = true;

  /** @param {{ samples1: Latent, samples2: Latent, blend_factor: number, blend_mode: 'normal'|'add'|'subtract' }} inputs */
  blend({ samples1, samples2, blend_factor, blend_mode }) {
    return [withSamples(samples1, blend(samples1.samples, samples2.samples, blend_factor, blend_mode))];
  }
}

export class C8LatentNormalize {
  static INPUT_TYPES() {
    return {
      required: {
        samples: ['LATENT'],
        mode: [['scale', 'standardize'], { default: 'standardize', tooltip: 'scale: multiply by factor; standardize: each channel to mean 0, std = factor' }],
        factor: ['FLOAT', { default: 1, min: -10, max: 10, step: 0.01 }],
      },
    };
  }
  static RETURN_TYPES = ['LATENT'];
  static FUNCTION = 'normalize';
  static CATEGORY = CATEGORY;
  static DESCRIPTION = 'Scales a latent, or standardises each channel of each batch item; the result is float32.';
  static ACCEPTS_FP8 = true;

  /** @param {{ samples: Latent, mode: 'scale'|'standardize', factor: number }} inputs */
  normalize({ samples, mode, factor }) {
    const t = mode === 'scale' ? scale(samples.samples, factor) : standardize(samples.samples, factor);
    return [withSamples(samples, t)];
  }
}

export class C8LatentCast {
  static INPUT_TYPES() {
    return { required: { samples: ['LATENT'], dtype: [DTYPES, { default: 'float8_e4m3fn' }] } };
  }
  static RETURN_TYPES = ['LATENT'];
  static FUNCTION = 'cast';
  static CATEGORY = CATEGORY;
  static DESCRIPTION = "Stores the latent's samples in another dtype (PyTorch's rounding; FP8 saturates to NaN beyond its range as torch does).";
  static ACCEPTS_FP8 = true;

  /** @param {{ samples: Latent, dtype: string }} inputs */
  cast({ samples, dtype }) {
    if (samples.samples.dtype === dtype) return [samples];
    return [withSamples(samples, castTensor(samples.samples, /** @type {any} */ (dtype)))];
  }
}

export class C8LatentStats {
  static INPUT_TYPES() {
    return { required: { samples: ['LATENT'] } };
  }
  static RETURN_TYPES = ['STRING'];
  static RETURN_NAMES = ['stats'];
  static FUNCTION = 'stats';
  static CATEGORY = CATEGORY;
  static OUTPUT_NODE = true;
  static DESCRIPTION = 'Dtype, shape and mean/std/min/max overall and per channel, as text (also shown on the node).';
  static ACCEPTS_FP8 = true;

  /** @param {{ samples: Latent }} inputs */
  stats({ samples }) {
    const text = statsText(samples.samples);
    return { ui: { text: [text] }, result: [text] };
  }
}

export const NODE_CLASS_MAPPINGS = { C8LatentBlend, C8LatentNormalize, C8LatentCast, C8LatentStats };
export const NODE_DISPLAY_NAME_MAPPINGS = {
  C8LatentBlend: 'Latent Blend (FP8-aware)',
  C8LatentNormalize: 'Latent Scale / Standardize',
  C8LatentCast: 'Latent Cast dtype',
  C8LatentStats: 'Latent Stats',
};
