/**
 * DPM-Solver++ family as ComfyUI runs it for flow models: dpmpp_2m (λ = −ln σ, unchanged for flow),
 * and the SDE variants dpmpp_sde, dpmpp_2m_sde (midpoint), dpmpp_3m_sde, which use the flow
 * half-logSNR λ = ln((1−σ)/σ) and move a first σ of 1 to percent_to_sigma(1e−4).
 *
 * ComfyUI feeds the SDE variants from a torchsde Brownian tree; here the noise comes from
 * options.noise (see engine/sampling/brownian-noise.ts for a Brownian-tree-like source).
 */
import { fl } from '../torch-float32.js';
import { differenceOver, linearCombination, term } from '../vector-ops.js';
import { percentToSigma } from '../model-sampling.js';
import { asTensor, stepContext, type StepContext } from './step-context.js';
import type { SamplerFn, SamplerOptions } from './types.js';

const logNeg = (sigma: number): number => fl(-fl(Math.log(sigma)));
const expNeg = (t: number): number => fl(Math.exp(fl(-t)));
/** Flow half-logSNR: −logit(σ). */
export const flowHalfLogSnr = (sigma: number): number => fl(-fl(Math.log(fl(sigma / fl(1 - sigma)))));
/** Inverse of flowHalfLogSnr: sigmoid(−λ). */
const flowSigmaFromHalfLogSnr = (lambda: number): number => fl(1 / fl(1 + fl(Math.exp(lambda))));
const expm1 = (v: number): number => fl(Math.expm1(v));

/** `offset_first_sigma_for_snr` for CONST models: a leading σ ≥ 1 becomes percent_to_sigma(1e−4). */
function offsetFirstSigma(sigmas: Float32Array, options: SamplerOptions): Float32Array {
  if (sigmas.length <= 1 || sigmas[0] < 1) return sigmas;
  const out = sigmas.slice();
  out[0] = percentToSigma(options.modelSampling, 1e-4);
  return out;
}

export const sampleDpmpp2m: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('dpmpp_2m', model, x0, options);
  let x = x0.data;
  let oldDenoised: Float32Array | null = null;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    ctx.report(i, x, denoised, sigmas[i]);
    const t = logNeg(sigmas[i]);
    const tNext = logNeg(sigmas[i + 1]);
    const h = fl(tNext - t);
    const ratio = fl(expNeg(tNext) / expNeg(t));
    const gain = fl(-expm1(fl(-h)));
    let target = denoised;
    if (oldDenoised !== null && sigmas[i + 1] !== 0) {
      const r = fl(fl(t - logNeg(sigmas[i - 1])) / h);
      const c = fl(1 / fl(2 * r));
      target = linearCombination(term(fl(1 + c), denoised), term(-c, oldDenoised));
    }
    x = linearCombination(term(ratio, x), term(gain, target));
    oldDenoised = denoised;
  }
  return asTensor(x0.shape, x);
};

/** get_ancestral_step(σ_from, σ_to, η) on float32 scalars. */
function ancestralStep(from: number, to: number, eta: number): { down: number; up: number } {
  if (!eta) return { down: to, up: 0 };
  const toSq = fl(to * to);
  const fromSq = fl(from * from);
  const up = Math.min(to, fl(eta * fl(Math.sqrt(fl(fl(toSq * fl(fromSq - toSq)) / fromSq)))));
  return { down: fl(Math.sqrt(fl(toSq - fl(up * up)))), up };
}

/** x·a + noise·(c₁·c₂·…) in ComfyUI's left-to-right order: ((noise·c₁)·c₂)… */
function addNoise(x: Float32Array, noise: Float32Array, ...coefs: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let n = noise[i];
    for (const c of coefs) n = fl(n * fl(c));
    out[i] = fl(x[i] + n);
  }
  return out;
}

/** One exponential-integrator move from λ_s towards λ_target with ancestral noise (dpmpp_sde's two stages). */
function sdeStage(ctx: StepContext, x: Float32Array, target: Float32Array, s: { lambda: number; alpha: number }, to: { sigma: number; lambda: number }, eta: number, sNoise: number, noiseFrom: number): Float32Array {
  const alphaTo = fl(to.sigma * fl(Math.exp(to.lambda)));
  const { down, up } = ancestralStep(fl(Math.exp(fl(-s.lambda))), fl(Math.exp(fl(-to.lambda))), eta);
  const hEff = fl(fl(-fl(Math.log(down))) - s.lambda);
  const ratio = fl(fl(alphaTo / s.alpha) * fl(Math.exp(fl(-hEff))));
  let out = linearCombination(term(ratio, x), term(-fl(alphaTo * expm1(fl(-hEff))), target));
  if (eta > 0 && sNoise > 0) out = addNoise(out, scaledNoise(ctx.drawNoise(noiseFrom, to.sigma), alphaTo), sNoise, up);
  return out;
}

const scaledNoise = (noise: Float32Array, alpha: number): Float32Array => noise.map((v) => fl(fl(alpha) * v));

export const sampleDpmppSde: SamplerFn = (model, x0, sigmasIn, options) => {
  if (sigmasIn.length <= 1) return x0;
  const ctx = stepContext('dpmpp_sde', model, x0, options);
  const eta = options.eta ?? 1;
  const sNoise = options.sNoise ?? 1;
  const sigmas = offsetFirstSigma(sigmasIn, options);
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    ctx.report(i, x, denoised, sigmas[i]);
    if (sigmas[i + 1] === 0) {
      x = denoised;
      continue;
    }
    const lambdaS = flowHalfLogSnr(sigmas[i]);
    const lambdaT = flowHalfLogSnr(sigmas[i + 1]);
    const lambdaMid = fl(lambdaS + fl(0.5 * fl(lambdaT - lambdaS)));
    const sigmaMid = flowSigmaFromHalfLogSnr(lambdaMid);
    const s = { lambda: lambdaS, alpha: fl(sigmas[i] * fl(Math.exp(lambdaS))) };
    const x2 = sdeStage(ctx, x, denoised, s, { sigma: sigmaMid, lambda: lambdaMid }, eta, sNoise, sigmas[i]);
    const denoised2 = ctx.denoise(x2, sigmaMid);
    // r = 1/2 → fac = 1: (1 − fac)·D + fac·D₂ = D₂ (ComfyUI still evaluates 0·D, which only matters for non-finite D).
    const mixed = linearCombination(term(0, denoised), term(1, denoised2));
    x = sdeStage(ctx, x, mixed, s, { sigma: sigmas[i + 1], lambda: lambdaT }, eta, sNoise, sigmas[i]);
  }
  return asTensor(x0.shape, x);
};

/** Shared body of dpmpp_2m_sde (midpoint) and dpmpp_3m_sde. */
function multistepSde(name: string, maxOrder: 2 | 3): SamplerFn {
  return (model, x0, sigmasIn, options) => {
    if (sigmasIn.length <= 1) return x0;
    const ctx = stepContext(name, model, x0, options);
    const eta = options.eta ?? 1;
    const sNoise = options.sNoise ?? 1;
    const sigmas = offsetFirstSigma(sigmasIn, options);
    let x = x0.data;
    const history: { denoised: Float32Array; h: number | null }[] = [];
    for (let i = 0; i < sigmas.length - 1; i++) {
      const denoised = ctx.denoise(x, sigmas[i]);
      ctx.report(i, x, denoised, sigmas[i]);
      let h: number | null = history.length > 0 ? history[0].h : null;
      if (sigmas[i + 1] === 0) {
        x = denoised;
      } else {
        const lambdaS = flowHalfLogSnr(sigmas[i]);
        const lambdaT = flowHalfLogSnr(sigmas[i + 1]);
        h = fl(lambdaT - lambdaS);
        const hEta = fl(h * fl(eta + 1));
        const alphaT = fl(sigmas[i + 1] * fl(Math.exp(lambdaT)));
        const decay = fl(fl(sigmas[i + 1] / sigmas[i]) * fl(Math.exp(fl(fl(-h) * eta))));
        const gain = fl(-expm1(fl(-hEta)));
        x = linearCombination(term(decay, x), term(fl(alphaT * gain), denoised));
        x = addHistoryCorrection(x, denoised, history, { h, hEta, alphaT, gain }, maxOrder);
        if (eta > 0 && sNoise > 0) {
          const spread = fl(Math.sqrt(fl(-expm1(fl(fl(-2 * h) * eta)))));
          x = addNoise(x, ctx.drawNoise(sigmas[i], sigmas[i + 1]), sigmas[i + 1], spread, sNoise);
        }
      }
      history.unshift({ denoised, h });
      history.length = Math.min(history.length, 2);
    }
    return asTensor(x0.shape, x);
  };
}

interface SdeStepTerms {
  h: number;
  hEta: number;
  alphaT: number;
  gain: number;
}

/** The 2M (midpoint) / 3M multistep corrections from the previous denoised predictions. */
function addHistoryCorrection(x: Float32Array, denoised: Float32Array, history: { denoised: Float32Array; h: number | null }[], s: SdeStepTerms, maxOrder: 2 | 3): Float32Array {
  const [prev1, prev2] = history;
  if (maxOrder === 2) {
    if (!prev1) return x;
    const r = fl((prev1.h as number) / s.h);
    const coef = fl(fl(fl(0.5 * s.alphaT) * s.gain) * fl(1 / r));
    return linearCombination(term(1, x), term(coef, differenceOver(denoised, prev1.denoised, 1)));
  }
  const phi2 = fl(fl(expm1(fl(-s.hEta)) / s.hEta) + 1);
  if (prev2 && prev2.h !== null) {
    const r0 = fl((prev1.h as number) / s.h);
    const r1 = fl(prev2.h / s.h);
    const d10 = differenceOver(denoised, prev1.denoised, r0);
    const d11 = differenceOver(prev1.denoised, prev2.denoised, r1);
    const rSum = fl(r0 + r1);
    const d1 = d10.map((v, k) => fl(v + fl(fl(fl(v - d11[k]) * r0) / rSum)));
    const d2 = d10.map((v, k) => fl(fl(v - d11[k]) / rSum));
    const phi3 = fl(fl(phi2 / s.hEta) - 0.5);
    return linearCombination(term(1, x), term(fl(s.alphaT * phi2), d1), term(-fl(s.alphaT * phi3), d2));
  }
  if (prev1 && prev1.h !== null) {
    const r = fl(prev1.h / s.h);
    return linearCombination(term(1, x), term(fl(s.alphaT * phi2), differenceOver(denoised, prev1.denoised, r)));
  }
  return x;
}

export const sampleDpmpp2mSde = multistepSde('dpmpp_2m_sde', 2);
export const sampleDpmpp3mSde = multistepSde('dpmpp_3m_sde', 3);
