/**
 * Ancestral samplers in ComfyUI's rectified-flow form (the `_RF` variants it switches to for CONST
 * models): euler_ancestral, dpm_2_ancestral, dpmpp_2s_ancestral.
 *
 * Each step goes down to σ_down = σ_{i+1}·(1 + (σ_{i+1}/σ_i − 1)·η), then re-noises to σ_{i+1}:
 * x ← (α_{i+1}/α_down)·x + ε·s_noise·√(σ_{i+1}² − σ_down²·α_{i+1}²/α_down²), with α = 1 − σ.
 */
import { fl } from '../torch-float32.js';
import { linearCombination, term, toD } from '../vector-ops.js';
import { logMidpoint32 } from './euler.js';
import { asTensor, stepContext, type StepContext } from './step-context.js';
import type { SamplerFn } from './types.js';

interface RfAncestralStep {
  sigmaDown: number;
  /** α_{i+1} / α_down: rescales x before the fresh noise is added. */
  rescale: number;
  renoise: number;
}

/** ComfyUI's inline RF ancestral step (float32, its operation order). */
export function rfAncestralStep(sigma: number, sigmaNext: number, eta: number): RfAncestralStep {
  const downstepRatio = fl(1 + fl(fl(fl(sigmaNext / sigma) - 1) * eta));
  const sigmaDown = fl(sigmaNext * downstepRatio);
  const alphaNext = fl(1 - sigmaNext);
  const alphaDown = fl(1 - sigmaDown);
  const removed = fl(fl(fl(sigmaDown * sigmaDown) * fl(alphaNext * alphaNext)) / fl(alphaDown * alphaDown));
  const renoise = fl(Math.sqrt(fl(fl(sigmaNext * sigmaNext) - removed)));
  return { sigmaDown, rescale: fl(alphaNext / alphaDown), renoise };
}

function renoised(ctx: StepContext, x: Float32Array, step: RfAncestralStep, sigma: number, sigmaNext: number, sNoise: number): Float32Array {
  const noise = ctx.drawNoise(sigma, sigmaNext);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fl(fl(step.rescale * x[i]) + fl(fl(noise[i] * fl(sNoise)) * step.renoise));
  return out;
}

/** x ← r·x + (1 − r)·D with r = σ_target/σ: the exact flow step from σ to σ_target. */
function flowStep(x: Float32Array, denoised: Float32Array, sigma: number, sigmaTarget: number): Float32Array {
  const ratio = fl(sigmaTarget / sigma);
  return linearCombination(term(ratio, x), term(fl(1 - ratio), denoised));
}

export const sampleEulerAncestral: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('euler_ancestral', model, x0, options);
  const eta = options.eta ?? 1;
  const sNoise = options.sNoise ?? 1;
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    ctx.report(i, x, denoised, sigmas[i]);
    if (sigmas[i + 1] === 0) {
      x = denoised;
      continue;
    }
    const step = rfAncestralStep(sigmas[i], sigmas[i + 1], eta);
    x = flowStep(x, denoised, sigmas[i], step.sigmaDown);
    if (eta > 0) x = renoised(ctx, x, step, sigmas[i], sigmas[i + 1], sNoise);
  }
  return asTensor(x0.shape, x);
};

export const sampleDpm2Ancestral: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('dpm_2_ancestral', model, x0, options);
  const eta = options.eta ?? 1;
  const sNoise = options.sNoise ?? 1;
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    const step = rfAncestralStep(sigmas[i], sigmas[i + 1], eta);
    ctx.report(i, x, denoised, sigmas[i]);
    const d = toD(x, sigmas[i], denoised);
    if (step.sigmaDown === 0) {
      x = linearCombination(term(1, x), term(fl(step.sigmaDown - sigmas[i]), d));
      continue;
    }
    const sigmaMid = logMidpoint32(sigmas[i], step.sigmaDown);
    const x2 = linearCombination(term(1, x), term(fl(sigmaMid - sigmas[i]), d));
    const d2 = toD(x2, sigmaMid, ctx.denoise(x2, sigmaMid));
    x = linearCombination(term(1, x), term(fl(step.sigmaDown - sigmas[i]), d2));
    x = renoised(ctx, x, step, sigmas[i], sigmas[i + 1], sNoise);
  }
  return asTensor(x0.shape, x);
};

/** σ(λ) = 1/(e^λ + 1) at λ = midpoint of the flow half-logSNRs λ = ln((1−σ)/σ) of σ_i and σ_down. */
function rfMidSigma(sigma: number, sigmaDown: number): number {
  if (sigma === 1) return fl(0.9999);
  const lambda = (s: number): number => fl(Math.log(fl(fl(1 - s) / s)));
  const ti = lambda(sigma);
  const h = fl(lambda(sigmaDown) - ti);
  const s = fl(ti + fl(0.5 * h));
  return fl(1 / fl(fl(Math.exp(s)) + 1));
}

export const sampleDpmpp2sAncestral: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('dpmpp_2s_ancestral', model, x0, options);
  const eta = options.eta ?? 1;
  const sNoise = options.sNoise ?? 1;
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    const step = rfAncestralStep(sigmas[i], sigmas[i + 1], eta);
    ctx.report(i, x, denoised, sigmas[i]);
    if (sigmas[i + 1] === 0) {
      const d = toD(x, sigmas[i], denoised);
      x = linearCombination(term(1, x), term(fl(step.sigmaDown - sigmas[i]), d));
    } else {
      const sigmaS = rfMidSigma(sigmas[i], step.sigmaDown);
      const u = flowStep(x, denoised, sigmas[i], sigmaS);
      x = flowStep(x, ctx.denoise(u, sigmaS), sigmas[i], step.sigmaDown);
    }
    if (sigmas[i + 1] > 0 && eta > 0) x = renoised(ctx, x, step, sigmas[i], sigmas[i + 1], sNoise);
  }
  return asTensor(x0.shape, x);
};
