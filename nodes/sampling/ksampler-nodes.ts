/**
 * KSampler and KSamplerAdvanced (ComfyUI nodes.py, common_ksampler): schedule from the model's
 * sampling (engine/sampling/schedulers.ts), noise from the seed, CFG over the conditionings, then
 * guided-sampling.ts. Progress is reported against the node's `steps`, as ComfyUI's bar does.
 *
 * sampler_name lists only the samplers this engine implements (in ComfyUI's order); every
 * ComfyUI scheduler is implemented.
 */
import { runSigmas } from '../../engine/sampling/sampling-loop.js';
import { SCHEDULER_NAMES } from '../../engine/sampling/schedulers.js';
import { SAMPLER_NAMES, SAMPLERS } from '../../engine/sampling/samplers/index.js';
import type { Latent } from '../latent/latent.js';
import { requireModel, type ModelHandle } from '../models/model-handle.js';
import { defineNode, type ExecutionContext } from '../node-api.js';
import { toCondEntries, type Conditioning } from './conditioning.js';
import { guidedSample } from './guided-sampling.js';
import { fixEmptyLatentChannels, latentWithSamples, randomNoise, requireLatent } from './latent-input.js';

/** ComfyUI's sampler names that the engine implements, in ComfyUI's order. */
export const IMPLEMENTED_SAMPLER_NAMES: readonly string[] = SAMPLER_NAMES.filter((n) => n in SAMPLERS);
export const SCHEDULERS: readonly string[] = [...SCHEDULER_NAMES];

/** 0xffffffffffffffff as a JS number (seeds above 2⁵³ are not exact in JSON numbers). */
export const MAX_SEED = 0xffffffffffffffff;

const SEED_OPTIONS = { default: 0, min: 0, max: MAX_SEED, control_after_generate: true } as const;
const CFG_OPTIONS = { default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01 } as const;
const STEPS_OPTIONS = { default: 20, min: 1, max: 10000 } as const;

export interface CommonKSamplerOptions {
  model: unknown;
  seed: number;
  steps: number;
  cfg: number;
  samplerName: string;
  scheduler: string;
  positive: unknown;
  negative: unknown;
  latent: unknown;
  denoise?: number;
  disableNoise?: boolean;
  startStep?: number;
  lastStep?: number;
  forceFullDenoise?: boolean;
}

/** common_ksampler. */
export async function commonKSampler(o: CommonKSamplerOptions, ctx: ExecutionContext): Promise<Latent> {
  const model: ModelHandle = requireModel(o.model);
  const latent = requireLatent(o.latent);
  const samples = fixEmptyLatentChannels(model, latent.samples);
  const noise = o.disableNoise ? null : randomNoise(latent, samples, o.seed);
  const sigmas = runSigmas(model.modelSampling, {
    sampler: o.samplerName,
    scheduler: o.scheduler,
    steps: o.steps,
    denoise: o.denoise,
    startStep: o.startStep,
    lastStep: o.lastStep,
    forceFullDenoise: o.forceFullDenoise,
  });
  if (sigmas === null) return latentWithSamples(latent, samples);
  const result = await guidedSample({
    model,
    positive: toCondEntries(o.positive, model.modelSampling, 'positive'),
    negative: toCondEntries(o.negative, model.modelSampling, 'negative'),
    cfg: o.cfg,
    sampler: { sampler: o.samplerName },
    sigmas,
    latent: samples,
    noise,
    seed: o.seed,
    noiseMask: latent.noise_mask,
    ctx,
    progressTotal: o.steps,
  });
  return latentWithSamples(latent, result.samples);
}

interface KSamplerInputs {
  model: ModelHandle;
  seed: number;
  steps: number;
  cfg: number;
  sampler_name: string;
  scheduler: string;
  positive: Conditioning;
  negative: Conditioning;
  latent_image: Latent;
  denoise: number;
}

export const KSampler = defineNode<KSamplerInputs>({
  name: 'KSampler',
  category: 'sampling',
  pythonModule: 'nodes',
  description: 'Uses the provided model, positive and negative conditioning to denoise the latent image.',
  inputTypes: {
    required: {
      model: ['MODEL', { tooltip: 'The model used for denoising the input latent.' }],
      seed: ['INT', { ...SEED_OPTIONS, tooltip: 'The random seed used for creating the noise.' }],
      steps: ['INT', { ...STEPS_OPTIONS, tooltip: 'The number of steps used in the denoising process.' }],
      cfg: ['FLOAT', { ...CFG_OPTIONS, tooltip: 'The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values result in images more closely matching the prompt however too high values will negatively impact quality.' }],
      sampler_name: [IMPLEMENTED_SAMPLER_NAMES, { tooltip: 'The algorithm used when sampling, this can affect the quality, speed, and style of the generated output.' }],
      scheduler: [SCHEDULERS, { tooltip: 'The scheduler controls how noise is gradually removed to form the image.' }],
      positive: ['CONDITIONING', { tooltip: 'The conditioning describing the attributes you want to include in the image.' }],
      negative: ['CONDITIONING', { tooltip: 'The conditioning describing the attributes you want to exclude from the image.' }],
      latent_image: ['LATENT', { tooltip: 'The latent image to denoise.' }],
      denoise: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.01, tooltip: 'The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling.' }],
    },
  },
  returnTypes: ['LATENT'],
  outputTooltips: ['The denoised latent.'],
  async execute(i, ctx) {
    const out = await commonKSampler(
      { model: i.model, seed: i.seed, steps: i.steps, cfg: i.cfg, samplerName: i.sampler_name, scheduler: i.scheduler, positive: i.positive, negative: i.negative, latent: i.latent_image, denoise: i.denoise },
      ctx,
    );
    return [out];
  },
});

interface KSamplerAdvancedInputs extends Omit<KSamplerInputs, 'seed' | 'denoise'> {
  add_noise: string;
  noise_seed: number;
  start_at_step: number;
  end_at_step: number;
  return_with_leftover_noise: string;
}

export const KSamplerAdvanced = defineNode<KSamplerAdvancedInputs>({
  name: 'KSamplerAdvanced',
  category: 'sampling',
  pythonModule: 'nodes',
  inputTypes: {
    required: {
      model: ['MODEL'],
      add_noise: [['enable', 'disable']],
      noise_seed: ['INT', SEED_OPTIONS],
      steps: ['INT', STEPS_OPTIONS],
      cfg: ['FLOAT', CFG_OPTIONS],
      sampler_name: [IMPLEMENTED_SAMPLER_NAMES],
      scheduler: [SCHEDULERS],
      positive: ['CONDITIONING'],
      negative: ['CONDITIONING'],
      latent_image: ['LATENT'],
      start_at_step: ['INT', { default: 0, min: 0, max: 10000 }],
      end_at_step: ['INT', { default: 10000, min: 0, max: 10000 }],
      return_with_leftover_noise: [['disable', 'enable']],
    },
  },
  returnTypes: ['LATENT'],
  async execute(i, ctx) {
    const out = await commonKSampler(
      {
        model: i.model,
        seed: i.noise_seed,
        steps: i.steps,
        cfg: i.cfg,
        samplerName: i.sampler_name,
        scheduler: i.scheduler,
        positive: i.positive,
        negative: i.negative,
        latent: i.latent_image,
        denoise: 1.0,
        disableNoise: i.add_noise === 'disable',
        startStep: i.start_at_step,
        lastStep: i.end_at_step,
        forceFullDenoise: i.return_with_leftover_noise !== 'enable',
      },
      ctx,
    );
    return [out];
  },
});
