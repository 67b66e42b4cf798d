/**
 * ComfyUI's custom-sampling family (comfy_extras/nodes_custom_sampler.py): samplers, schedules,
 * guiders and noise as separate values, and the two nodes that run them.
 *
 * Values: SAMPLER = SamplerChoice, SIGMAS = float32 Tensor [n], GUIDER = GuiderValue,
 * NOISE = NoiseValue.
 */
import type { Seed } from '../../engine/rng/index.js';
import { calculateSigmas, SCHEDULER_NAMES } from '../../engine/sampling/schedulers.js';
import { getSampler } from '../../engine/sampling/samplers/index.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Latent } from '../latent/latent.js';
import { requireModel, type ModelHandle } from '../models/model-handle.js';
import { defineNode, type ExecutionContext } from '../node-api.js';
import { toCondEntries, type Conditioning } from './conditioning.js';
import { guidedSample, type SamplerChoice } from './guided-sampling.js';
import { IMPLEMENTED_SAMPLER_NAMES, MAX_SEED } from './ksampler-nodes.js';
import { fixEmptyLatentChannels, latentWithSamples, randomNoise, requireLatent } from './latent-input.js';

export interface GuiderValue {
  readonly kind: 'guider';
  readonly model: ModelHandle;
  readonly positive: Conditioning;
  /** null: BasicGuider (positive only, cfg 1). */
  readonly negative: Conditioning | null;
  readonly cfg: number;
}

export interface NoiseValue {
  readonly kind: 'noise';
  readonly seed: number;
  /** ε for the latent; null = zeros (DisableNoise). */
  generate(latent: Latent, samples: Tensor<'float32'>): Float32Array | null;
}

function sigmasTensor(values: Float32Array): Tensor<'float32'> {
  return { dtype: 'float32', shape: [values.length], data: values };
}

function requireSigmas(value: unknown): Float32Array {
  const t = value as Tensor | undefined;
  if (t?.dtype !== 'float32' || t.shape.length !== 1) throw new Error(`input 'sigmas' is not SIGMAS (a float32 1-D tensor)`);
  return t.data as Float32Array;
}

function requireSampler(value: unknown): SamplerChoice {
  const s = value as SamplerChoice | undefined;
  if (typeof s?.sampler !== 'string') throw new Error(`input 'sampler' is not a SAMPLER`);
  getSampler(s.sampler);
  return s;
}

interface CustomRun {
  guider: GuiderValue;
  noise: NoiseValue;
  sampler: unknown;
  sigmas: unknown;
  latent: unknown;
}

/** SamplerCustomAdvanced.execute (SamplerCustom builds a guider and noise and calls this). */
async function sampleCustom(run: CustomRun, ctx: ExecutionContext): Promise<[Latent, Latent]> {
  const { guider } = run;
  const latent = requireLatent(run.latent);
  const samples = fixEmptyLatentChannels(guider.model, latent.samples);
  const sigmas = requireSigmas(run.sigmas);
  const ms = guider.model.modelSampling;
  const result = await guidedSample({
    model: guider.model,
    positive: toCondEntries(guider.positive, ms, 'positive'),
    negative: guider.negative ? toCondEntries(guider.negative, ms, 'negative') : [],
    cfg: guider.cfg,
    sampler: requireSampler(run.sampler),
    sigmas,
    latent: samples,
    noise: run.noise.generate(latent, samples),
    seed: run.noise.seed as Seed,
    noiseMask: latent.noise_mask,
    ctx,
  });
  const out = latentWithSamples(latent, result.samples);
  return [out, result.denoised ? latentWithSamples(latent, result.denoised) : out];
}

const randomNoiseValue = (seed: number): NoiseValue => ({ kind: 'noise', seed, generate: (latent, samples) => randomNoise(latent, samples, seed) });
const emptyNoiseValue = (): NoiseValue => ({ kind: 'noise', seed: 0, generate: () => null });

const SEED = ['INT', { default: 0, min: 0, max: MAX_SEED, control_after_generate: true }] as const;
const CFG = ['FLOAT', { default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01 }] as const;
const MODULE = 'comfy_extras.nodes_custom_sampler';

export const SamplerCustom = defineNode<{ model: ModelHandle; add_noise: boolean; noise_seed: number; cfg: number; positive: Conditioning; negative: Conditioning; sampler: SamplerChoice; sigmas: Tensor; latent_image: Latent }>({
  name: 'SamplerCustom',
  category: 'sampling/custom_sampling',
  pythonModule: MODULE,
  inputTypes: {
    required: {
      model: ['MODEL'],
      add_noise: ['BOOLEAN', { default: true, advanced: true }],
      noise_seed: SEED,
      cfg: CFG,
      positive: ['CONDITIONING'],
      negative: ['CONDITIONING'],
      sampler: ['SAMPLER'],
      sigmas: ['SIGMAS'],
      latent_image: ['LATENT'],
    },
  },
  returnTypes: ['LATENT', 'LATENT'],
  returnNames: ['output', 'denoised_output'],
  async execute(i, ctx) {
    const guider: GuiderValue = { kind: 'guider', model: requireModel(i.model), positive: i.positive, negative: i.negative, cfg: i.cfg };
    const noise = i.add_noise ? randomNoiseValue(i.noise_seed) : emptyNoiseValue();
    return sampleCustom({ guider, noise, sampler: i.sampler, sigmas: i.sigmas, latent: i.latent_image }, ctx);
  },
});

export const SamplerCustomAdvanced = defineNode<{ noise: NoiseValue; guider: GuiderValue; sampler: SamplerChoice; sigmas: Tensor; latent_image: Latent }>({
  name: 'SamplerCustomAdvanced',
  category: 'sampling/custom_sampling',
  pythonModule: MODULE,
  inputTypes: { required: { noise: ['NOISE'], guider: ['GUIDER'], sampler: ['SAMPLER'], sigmas: ['SIGMAS'], latent_image: ['LATENT'] } },
  returnTypes: ['LATENT', 'LATENT'],
  returnNames: ['output', 'denoised_output'],
  async execute(i, ctx) {
    if (i.guider?.kind !== 'guider') throw new Error(`input 'guider' is not a GUIDER`);
    if (i.noise?.kind !== 'noise') throw new Error(`input 'noise' is not a NOISE`);
    return sampleCustom({ guider: i.guider, noise: i.noise, sampler: i.sampler, sigmas: i.sigmas, latent: i.latent_image }, ctx);
  },
});

export const KSamplerSelect = defineNode<{ sampler_name: string }>({
  name: 'KSamplerSelect',
  category: 'sampling/samplers',
  pythonModule: MODULE,
  inputTypes: { required: { sampler_name: [IMPLEMENTED_SAMPLER_NAMES] } },
  returnTypes: ['SAMPLER'],
  execute({ sampler_name }) {
    getSampler(sampler_name);
    const choice: SamplerChoice = { sampler: sampler_name };
    return [choice];
  },
});

/** BasicScheduler: the schedule for ⌊steps/denoise⌋ steps, last steps + 1 kept (no discard-penultimate rule). */
export function basicSchedulerSigmas(model: ModelHandle, scheduler: string, steps: number, denoise: number): Float32Array {
  let total = steps;
  if (denoise < 1.0) {
    if (denoise <= 0.0) return new Float32Array(0);
    total = Math.trunc(steps / denoise);
  }
  const sigmas = calculateSigmas(model.modelSampling, scheduler, total);
  return sigmas.slice(Math.max(sigmas.length - (steps + 1), 0));
}

export const BasicScheduler = defineNode<{ model: ModelHandle; scheduler: string; steps: number; denoise: number }>({
  name: 'BasicScheduler',
  category: 'sampling/schedulers',
  pythonModule: MODULE,
  inputTypes: {
    required: {
      model: ['MODEL'],
      scheduler: [[...SCHEDULER_NAMES]],
      steps: ['INT', { default: 20, min: 1, max: 10000 }],
      denoise: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.01 }],
    },
  },
  returnTypes: ['SIGMAS'],
  execute({ model, scheduler, steps, denoise }) {
    return [sigmasTensor(basicSchedulerSigmas(requireModel(model), scheduler, steps, denoise))];
  },
});

export const SplitSigmas = defineNode<{ sigmas: Tensor; step: number }>({
  name: 'SplitSigmas',
  category: 'sampling/sigmas',
  pythonModule: MODULE,
  inputTypes: { required: { sigmas: ['SIGMAS'], step: ['INT', { default: 0, min: 0, max: 10000 }] } },
  returnTypes: ['SIGMAS', 'SIGMAS'],
  returnNames: ['high_sigmas', 'low_sigmas'],
  execute({ sigmas, step }) {
    const values = requireSigmas(sigmas);
    return [sigmasTensor(values.slice(0, step + 1)), sigmasTensor(values.slice(step))];
  },
});

export const BasicGuider = defineNode<{ model: ModelHandle; conditioning: Conditioning }>({
  name: 'BasicGuider',
  displayName: 'Basic Guider',
  category: 'sampling/guiders',
  pythonModule: MODULE,
  inputTypes: { required: { model: ['MODEL'], conditioning: ['CONDITIONING'] } },
  returnTypes: ['GUIDER'],
  execute({ model, conditioning }) {
    const guider: GuiderValue = { kind: 'guider', model: requireModel(model), positive: conditioning, negative: null, cfg: 1.0 };
    return [guider];
  },
});

export const CFGGuider = defineNode<{ model: ModelHandle; positive: Conditioning; negative: Conditioning; cfg: number }>({
  name: 'CFGGuider',
  displayName: 'CFG Guider',
  category: 'sampling/guiders',
  pythonModule: MODULE,
  inputTypes: { required: { model: ['MODEL'], positive: ['CONDITIONING'], negative: ['CONDITIONING'], cfg: CFG } },
  returnTypes: ['GUIDER'],
  execute({ model, positive, negative, cfg }) {
    const guider: GuiderValue = { kind: 'guider', model: requireModel(model), positive, negative, cfg };
    return [guider];
  },
});

export const RandomNoise = defineNode<{ noise_seed: number }>({
  name: 'RandomNoise',
  category: 'sampling/noise',
  pythonModule: MODULE,
  inputTypes: { required: { noise_seed: SEED } },
  returnTypes: ['NOISE'],
  execute({ noise_seed }) {
    return [randomNoiseValue(noise_seed)];
  },
});

export const DisableNoise = defineNode<Record<string, never>>({
  name: 'DisableNoise',
  searchAliases: ['zero noise'],
  category: 'sampling/noise',
  pythonModule: MODULE,
  inputTypes: { required: {} },
  returnTypes: ['NOISE'],
  execute() {
    return [emptyNoiseValue()];
  },
});
