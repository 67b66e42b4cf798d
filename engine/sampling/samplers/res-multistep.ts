/**
 * res_multistep (eta 0): the second-order multistep exponential integrator of arXiv 2308.02157,
 * in λ = −ln σ, with an Euler first step. ComfyUI still draws (and multiplies by σ_up = 0) one noise
 * sample per non-final step; that draw is kept so a shared generator stays in step.
 */
import { fl } from '../torch-float32.js';
import { linearCombination, term, toD } from '../vector-ops.js';
import { asTensor, stepContext } from './step-context.js';
import type { SamplerFn } from './types.js';

const tOf = (sigma: number): number => fl(-fl(Math.log(sigma)));
const nanToZero = (v: number): number => (Number.isNaN(v) ? 0 : v);

export const sampleResMultistep: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('res_multistep', model, x0, options);
  let x = x0.data;
  let oldDenoised: Float32Array | null = null;
  let oldSigmaDown = 0;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    const sigmaDown = sigmas[i + 1]; // get_ancestral_step(…, eta = 0) → (σ_{i+1}, 0)
    ctx.report(i, x, denoised, sigmas[i]);
    if (sigmaDown === 0 || oldDenoised === null) {
      x = linearCombination(term(1, x), term(fl(sigmaDown - sigmas[i]), toD(x, sigmas[i], denoised)));
    } else {
      const t = tOf(sigmas[i]);
      const h = fl(tOf(sigmaDown) - t);
      const c2 = fl(fl(tOf(sigmas[i - 1]) - tOf(oldSigmaDown)) / h);
      const phi1 = fl(fl(Math.expm1(fl(-h))) / fl(-h));
      const phi2 = fl(fl(phi1 - 1) / fl(-h));
      const b1 = nanToZero(fl(phi1 - fl(phi2 / c2)));
      const b2 = nanToZero(fl(phi2 / c2));
      const mix = linearCombination(term(b1, denoised), term(b2, oldDenoised));
      x = linearCombination(term(fl(Math.exp(fl(-h))), x), term(h, mix));
    }
    if (sigmas[i + 1] > 0 && options.noise) ctx.drawNoise(sigmas[i], sigmas[i + 1]); // scaled by σ_up = 0
    oldDenoised = denoised;
    oldSigmaDown = sigmaDown;
  }
  return asTensor(x0.shape, x);
};
