/**
 * lcm: jump to the prediction, then re-noise it to the next sigma with the model's own noise
 * scaling (CONST: σ·ε + (1 − σ)·x0). ComfyUI's defaults (s_noise 1, no clipping) are what runs here.
 */
import { noiseScaling } from '../model-sampling.js';
import { asTensor, stepContext } from './step-context.js';
import type { SamplerFn } from './types.js';

export const sampleLcm: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('lcm', model, x0, options);
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    ctx.report(i, x, denoised, sigmas[i]);
    x = denoised;
    if (sigmas[i + 1] > 0) x = noiseScaling(sigmas[i + 1], ctx.drawNoise(sigmas[i], sigmas[i + 1]), x);
  }
  return asTensor(x0.shape, x);
};
