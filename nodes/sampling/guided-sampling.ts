/**
 * One guided sampling run over given sigmas — ComfyUI's CFGGuider.sample for a CONST (flow) model,
 * shared by KSampler, KSamplerAdvanced, SamplerCustom and SamplerCustomAdvanced (engine spec §5.2):
 *
 *   x0 = process_in(latent) unless all zero → x = σ₀·ε + (1 − σ₀)·x0 → sampler with the CFG
 *   denoiser (noise_mask: KSamplerX0Inpaint blending) → x / (1 − σ_last) → process_out.
 *
 * It is runKSampler's body (engine/sampling/sampling-loop.ts) with the sigmas given instead of
 * derived from a scheduler, driven over the async MMDiT through replay.ts, with per-step progress,
 * previews and interrupt checks.
 */
import type { Seed } from '../../engine/rng/index.js';
import { createCpuStepNoiseSource } from '../../engine/rng/index.js';
import { cfgDenoiser, type CondEntry, type ModelBatch } from '../../engine/sampling/cfg.js';
import { inverseNoiseScaling, noiseScaling } from '../../engine/sampling/model-sampling.js';
import { expandMask, maskedDenoiser, processIn, processOut, stepNoiseFor } from '../../engine/sampling/sampling-loop.js';
import { getSampler } from '../../engine/sampling/samplers/index.js';
import type { DenoiseFn, StepInfo } from '../../engine/sampling/samplers/types.js';
import type { Tensor } from '../../engine/tensor.js';
import type { FlowDenoiser, ModelHandle } from '../models/model-handle.js';
import { modelStoreOf } from '../models/model-manager.js';
import type { ExecutionContext, PreviewImage } from '../node-api.js';
import { batchConds, type MmditCond } from './conditioning.js';
import { previewerFor } from './latent-preview.js';
import { replayableNoise, runWithAsyncModel } from './replay.js';

export interface SamplerChoice {
  readonly sampler: string;
  readonly eta?: number;
  readonly sNoise?: number;
}

export interface GuidedSampleOptions {
  model: ModelHandle;
  positive: readonly CondEntry<MmditCond>[];
  negative: readonly CondEntry<MmditCond>[];
  cfg: number;
  sampler: SamplerChoice;
  sigmas: Float32Array;
  /** LATENT samples, channels already fixed (VAE space). */
  latent: Tensor<'float32'>;
  /** ε of the latent's shape; null = no noise (zeros). */
  noise: Float32Array | null;
  seed: Seed;
  noiseMask?: Tensor<'float32'>;
  ctx: ExecutionContext;
  /** The progress bar's total (KSampler: its `steps`); default: the number of sigma steps. */
  progressTotal?: number;
}

export interface GuidedSampleResult {
  samples: Tensor<'float32'>;
  /** The last step's x0 prediction, process_out applied (SamplerCustom's denoised_output); null if no step ran. */
  denoised: Tensor<'float32'> | null;
}

/**
 * Collects the sampler's per-step callbacks (synchronous, repeated on every replay) and reports each
 * step once, with its preview, when the event loop runs again (`flush`).
 */
function stepReporter(ctx: ExecutionContext, latentShape: readonly number[], total: number) {
  const previewer = previewerFor(ctx.previewMethod, ctx.env.previewSize, ctx.env.log);
  const pending: { step: number; denoised: Float32Array }[] = [];
  let reported = -1;
  let last: Float32Array | null = null;
  return {
    get lastDenoised(): Float32Array | null {
      return last;
    },
    callback(info: StepInfo): void {
      if (info.step <= reported) return;
      reported = info.step;
      last = info.denoised.slice();
      pending.push({ step: info.step, denoised: last });
    },
    async flush(): Promise<void> {
      for (const r of pending.splice(0)) {
        const preview: PreviewImage | undefined = previewer ? await previewer(r.denoised, latentShape) : undefined;
        ctx.progress(r.step + 1, total, preview);
      }
      ctx.checkInterrupt();
    },
  };
}

/** Runs the guided sampler; the model part is leased from the model manager for the whole run. */
export async function guidedSample(opts: GuidedSampleOptions): Promise<GuidedSampleResult> {
  const { latent, model, ctx } = opts;
  if (opts.sigmas.length === 0) return { samples: latent, denoised: null };
  const lease = await modelStoreOf(ctx.env).acquire(model.part);
  try {
    return await sampleWithDenoiser(opts, lease.value);
  } finally {
    lease.release();
  }
}

async function sampleWithDenoiser(opts: GuidedSampleOptions, denoiser: FlowDenoiser): Promise<GuidedSampleResult> {
  const { latent, model, ctx, sampler } = opts;
  const format = model.latentFormat;
  const sampleFn = getSampler(sampler.sampler);
  const noise = opts.noise ?? new Float32Array(latent.data.length);
  if (noise.length !== latent.data.length) throw new Error(`sampling: noise has ${noise.length} values, latent has ${latent.data.length}`);
  const x0 = latent.data.some((v) => v !== 0) ? processIn(format, latent.data) : latent.data;
  const stepNoise = stepNoiseFor(sampler.sampler, opts.seed, opts.sigmas);
  const replayNoise = stepNoise && replayableNoise(stepNoise);
  const mask = opts.noiseMask && expandMask(opts.noiseMask, latent.shape);
  const blendNoise = mask && sampler.sampler === 'ddim' ? createCpuStepNoiseSource(opts.seed)(latent.shape) : noise;
  const reporter = stepReporter(ctx, latent.shape, opts.progressTotal ?? opts.sigmas.length - 1);

  const run = (modelFn: (b: ModelBatch<MmditCond>) => Float32Array): Float32Array => {
    replayNoise?.rewind();
    const sigmas = opts.sigmas.slice(); // uni_pc writes into it; every replay starts from the original
    let guided: DenoiseFn = cfgDenoiser(modelFn, opts.positive, opts.negative, opts.cfg);
    if (mask) guided = maskedDenoiser(guided, mask, x0, blendNoise);
    const start = { dtype: 'float32' as const, shape: [...latent.shape], data: noiseScaling(sigmas[0], noise, x0) };
    const out = sampleFn(guided, start, sigmas, {
      modelSampling: model.modelSampling,
      noise: replayNoise?.source,
      eta: sampler.eta,
      sNoise: sampler.sNoise,
      checkInterrupt: () => ctx.checkInterrupt(),
      callback: (info) => reporter.callback(info),
    });
    return processOut(format, inverseNoiseScaling(sigmas[sigmas.length - 1], out.data));
  };

  const samples = await runWithAsyncModel(run, {
    between: async () => {
      await reporter.flush();
      await new Promise<void>((resolve) => setImmediate(resolve)); // let /interrupt and socket writes through
      ctx.checkInterrupt();
    },
    evaluate: (b) => evaluateBatch(denoiser, b, latent.shape[0]),
  });
  await reporter.flush();
  const last = reporter.lastDenoised;
  return {
    samples: { dtype: 'float32', shape: [...latent.shape], data: samples },
    denoised: last ? { dtype: 'float32', shape: [...latent.shape], data: processOut(format, last) } : null,
  };
}

/** One batched model call: conds × latent batch, σ per item. */
async function evaluateBatch(denoiser: FlowDenoiser, b: ModelBatch<MmditCond>, latentBatch: number): Promise<Float32Array> {
  const { context, pooled } = batchConds(b.conds, latentBatch, denoiser.config.admInChannels);
  const sigma = new Float32Array(b.x.shape[0]).fill(b.sigma);
  return (await denoiser.denoise(b.x, sigma, context, pooled)).data;
}
