/**
 * What every sampler node does with its LATENT input before sampling (comfy/sample.py):
 * `fix_empty_latent_channels` (an all-zero latent with the wrong channel count, e.g. 4-channel
 * EmptyLatentImage for SD3, becomes zeros with the model's 16), the initial noise
 * (`prepare_noise`, honouring `batch_index`), and the output dict (a copy with new samples).
 */
import { prepareNoise, type Seed } from '../../engine/rng/index.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Latent } from '../latent/latent.js';
import type { ModelHandle } from '../models/model-handle.js';

export function requireLatent(value: unknown, input = 'latent_image'): Latent {
  const samples = (value as Latent | undefined)?.samples;
  if (!samples || samples.dtype !== 'float32' || samples.shape.length !== 4) throw new Error(`input '${input}' is not a LATENT with float32 samples [B, C, H, W]`);
  return value as Latent;
}

/** fix_empty_latent_channels: the samples the model can take. */
export function fixEmptyLatentChannels(model: ModelHandle, samples: Tensor<'float32'>): Tensor<'float32'> {
  const [b, c, h, w] = samples.shape;
  if (c === model.latentChannels) return samples;
  if (samples.data.some((v) => v !== 0)) {
    throw new Error(`the latent has ${c} channels but the model takes ${model.latentChannels} (only an empty latent is widened; use EmptySD3LatentImage)`);
  }
  return { dtype: 'float32', shape: [b, model.latentChannels, h, w], data: new Float32Array(b * model.latentChannels * h * w) };
}

/** Noise_RandomNoise.generate_noise: prepare_noise(samples, seed, batch_index). */
export function randomNoise(latent: Latent, samples: Tensor<'float32'>, seed: Seed): Float32Array {
  return prepareNoise(samples, seed, { batchIndex: latent.batch_index }).data;
}

/** `latent.copy()` with new samples, the downscale-ratio hints dropped (as ComfyUI's samplers do). */
export function latentWithSamples(latent: Latent, samples: Tensor<'float32'>): Latent {
  const out: Latent = { ...latent, samples };
  delete out.downscale_ratio_spacial;
  delete out['downscale_ratio_temporal'];
  return out;
}
