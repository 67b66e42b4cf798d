/**
 * One KSampler / KSamplerAdvanced run as ComfyUI performs it for a flow (CONST) model
 * (engine spec §5.2; comfy/samplers.py CFGGuider + KSAMPLER + KSamplerX0Inpaint):
 *
 *   sigmas (scheduler, denoise, start/end) → x0 = process_in(latent) unless all zero →
 *   x = σ₀·ε + (1 − σ₀)·x0 → sampler with the CFG denoiser (masked: latent blending per call) →
 *   x / (1 − σ_last) → process_out.
 */
import { createCpuStepNoiseSource, type Seed } from '../rng/index.js';
import type { Tensor } from '../tensor.js';
import { createBrownianNoiseSource } from './brownian-noise.js';
import { cfgDenoiser, type BatchedModelFn, type CondEntry } from './cfg.js';
import { inverseNoiseScaling, noiseScaling, type FlowModelSampling } from './model-sampling.js';
import { BROWNIAN_TREE_SAMPLERS, getSampler } from './samplers/index.js';
import type { DenoiseFn, NoiseSource, StepInfo } from './samplers/types.js';
import { applyStepRange, ksamplerSigmas } from './schedulers.js';
import { fl } from './torch-float32.js';

/** A latent format's model-space conversion (ComfyUI `process_in` / `process_out`). */
export interface LatentFormat {
  readonly scaleFactor: number;
  readonly shiftFactor: number;
}

/** SD3 / SD3.5 latent format: process_in(x) = (x − 0.0609)·1.5305. */
export const SD3_LATENT_FORMAT: LatentFormat = { scaleFactor: 1.5305, shiftFactor: 0.0609 };

export function processIn(format: LatentFormat, x: Float32Array): Float32Array {
  return x.map((v) => fl(fl(v - fl(format.shiftFactor)) * fl(format.scaleFactor)));
}

export function processOut(format: LatentFormat, x: Float32Array): Float32Array {
  return x.map((v) => fl(fl(v / fl(format.scaleFactor)) + fl(format.shiftFactor)));
}

export interface ScheduleSpec {
  sampler: string;
  scheduler: string;
  steps: number;
  /** KSampler denoise (KSamplerAdvanced: 1). */
  denoise?: number;
  /** KSamplerAdvanced start_at_step. */
  startStep?: number;
  /** KSamplerAdvanced end_at_step. */
  lastStep?: number;
  /** KSamplerAdvanced: return_with_leftover_noise = disable. */
  forceFullDenoise?: boolean;
}

/** The sigmas a KSampler(Advanced) node samples over; null when the step range leaves nothing to do. */
export function runSigmas(ms: FlowModelSampling, spec: ScheduleSpec): Float32Array | null {
  const sigmas = ksamplerSigmas(ms, spec);
  return applyStepRange(sigmas, spec);
}

export interface KSamplerRunOptions<C> extends ScheduleSpec {
  modelSampling: FlowModelSampling;
  model: BatchedModelFn<C>;
  positive: readonly CondEntry<C>[];
  negative: readonly CondEntry<C>[];
  cfg: number;
  /** LATENT["samples"] (VAE space, float32, [B, C, H, W]). */
  latent: Tensor<'float32'>;
  /** Initial noise ε of the latent's shape (prepare_noise); null when add_noise is disabled (zeros). */
  noise: Float32Array | null;
  /** Per-step noise for ancestral / SDE / lcm samplers; default derived from `seed` (see stepNoiseFor). */
  stepNoise?: NoiseSource;
  /** The KSampler seed: gives the default step noise and ddim's inpainting noise. */
  seed?: Seed;
  /**
   * LATENT["noise_mask"] at latent resolution, shape [H, W] or [B, 1, H, W] / [1, 1, H, W]
   * (1 = regenerate, 0 = keep). Resizing a pixel-space mask is the caller's job.
   */
  denoiseMask?: Tensor<'float32'>;
  /** ddim only: ComfyUI blends the kept region with fresh randn(seed + 1) noise instead of ε (default from `seed`). */
  inpaintNoise?: Float32Array;
  latentFormat?: LatentFormat;
  eta?: number;
  sNoise?: number;
  callback?: (info: StepInfo & { totalSteps: number }) => void;
  checkInterrupt?: () => void;
}

/** Runs one KSampler node and returns the output LATENT samples. */
export function runKSampler<C>(options: KSamplerRunOptions<C>): Tensor<'float32'> {
  const { latent, modelSampling: ms } = options;
  const format = options.latentFormat ?? SD3_LATENT_FORMAT;
  const sigmas = runSigmas(ms, options);
  if (sigmas === null || sigmas.length === 0) return latent;
  const sampler = getSampler(options.sampler);
  const x0 = latent.data.some((v) => v !== 0) ? processIn(format, latent.data) : latent.data;
  const noise = options.noise ?? new Float32Array(latent.data.length);
  if (noise.length !== latent.data.length) throw new Error(`KSampler: noise has ${noise.length} values, latent has ${latent.data.length}`);
  let denoiser: DenoiseFn = cfgDenoiser(options.model, options.positive, options.negative, options.cfg);
  if (options.denoiseMask) {
    const mask = expandMask(options.denoiseMask, latent.shape);
    const blendNoise = options.sampler === 'ddim' ? ddimInpaintNoise(options, latent.shape) ?? noise : noise;
    denoiser = maskedDenoiser(denoiser, mask, x0, blendNoise);
  }
  const totalSteps = sigmas.length - 1;
  const start = { dtype: 'float32' as const, shape: [...latent.shape], data: noiseScaling(sigmas[0], noise, x0) };
  const samples = sampler(denoiser, start, sigmas, {
    modelSampling: ms,
    noise: options.stepNoise ?? stepNoiseFor(options.sampler, options.seed, sigmas),
    eta: options.eta,
    sNoise: options.sNoise,
    checkInterrupt: options.checkInterrupt,
    callback: options.callback && ((info) => options.callback?.({ ...info, totalSteps })),
  });
  // Read σ_last after sampling: uni_pc replaces a final 0 by 0.001 in place, exactly as ComfyUI's does.
  const out = inverseNoiseScaling(sigmas[sigmas.length - 1], samples.data);
  return { dtype: 'float32', shape: [...latent.shape], data: processOut(format, out) };
}

/** Broadcasts a [H, W] or [B|1, 1, H, W] mask to the latent's [B, C, H, W]. */
export function expandMask(mask: Tensor<'float32'>, shape: readonly number[]): Float32Array {
  const [b, c, h, w] = shape;
  const mh = mask.shape[mask.shape.length - 2];
  const mw = mask.shape[mask.shape.length - 1];
  if (mh !== h || mw !== w) throw new Error(`denoise mask is ${mh}×${mw}, latent is ${h}×${w}: resize it to the latent first`);
  const maskBatch = mask.shape.length === 4 ? mask.shape[0] : 1;
  if (mask.shape.length === 4 && mask.shape[1] !== 1) throw new Error(`denoise mask must have 1 channel, got ${mask.shape[1]}`);
  const out = new Float32Array(b * c * h * w);
  for (let bi = 0; bi < b; bi++) {
    const plane = mask.data.subarray((bi % maskBatch) * h * w, ((bi % maskBatch) + 1) * h * w);
    for (let ci = 0; ci < c; ci++) out.set(plane, (bi * c + ci) * h * w);
  }
  return out;
}

/**
 * KSamplerX0Inpaint: before each model call the kept region is reset to the input latent noised to
 * σ (σ·ε + (1−σ)·x0), and the prediction there is replaced by the input latent itself.
 */
export function maskedDenoiser(inner: DenoiseFn, mask: Float32Array, latent: Float32Array, noise: Float32Array): DenoiseFn {
  const keep = mask.map((m) => fl(1 - m));
  return (x, sigma) => {
    const noised = noiseScaling(sigma, noise, latent);
    const blended = x.data.map((v, i) => fl(fl(v * mask[i]) + fl(noised[i] * keep[i])));
    const out = inner({ dtype: 'float32', shape: x.shape, data: blended }, sigma);
    return out.map((v, i) => fl(fl(v * mask[i]) + fl(latent[i] * keep[i])));
  };
}

/**
 * ComfyUI's default per-step noise: `randn` from a CPU generator seeded with seed + 1 (bit-exact
 * with ComfyUI on a CPU device; on CUDA ComfyUI draws on the GPU and differs). The SDE samplers get
 * a Brownian path over [smallest positive σ, largest σ] fed by that generator — same statistics as
 * ComfyUI's torchsde tree, different numbers.
 */
export function stepNoiseFor(sampler: string, seed: Seed | undefined, sigmas: Float32Array): NoiseSource | undefined {
  if (seed === undefined) return undefined;
  const normal = createCpuStepNoiseSource(seed);
  if (!BROWNIAN_TREE_SAMPLERS.has(sampler)) return normal;
  const positive = Array.from(sigmas).filter((s) => s > 0);
  if (positive.length === 0) return normal;
  return createBrownianNoiseSource(normal, Math.min(...positive), Math.max(...positive));
}

function ddimInpaintNoise(options: Pick<KSamplerRunOptions<unknown>, 'inpaintNoise' | 'seed'>, shape: readonly number[]): Float32Array | undefined {
  if (options.inpaintNoise) return options.inpaintNoise;
  return options.seed === undefined ? undefined : createCpuStepNoiseSource(options.seed)(shape);
}
