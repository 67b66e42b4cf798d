/**
 * The deterministic first/second-order ODE samplers: euler, heun, dpm_2 (k-diffusion, s_churn = 0,
 * which is how ComfyUI's KSampler runs them). For flow models d = (x − D)/σ is the velocity.
 */
import { fl } from '../torch-float32.js';
import { linearCombination, term, toD } from '../vector-ops.js';
import { asTensor, stepContext } from './step-context.js';
import type { SamplerFn } from './types.js';

export const sampleEuler: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('euler', model, x0, options);
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    const d = toD(x, sigmas[i], denoised);
    ctx.report(i, x, denoised, sigmas[i]);
    x = linearCombination(term(1, x), term(fl(sigmas[i + 1] - sigmas[i]), d));
  }
  return asTensor(x0.shape, x);
};

export const sampleHeun: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('heun', model, x0, options);
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    const d = toD(x, sigmas[i], denoised);
    ctx.report(i, x, denoised, sigmas[i]);
    const dt = fl(sigmas[i + 1] - sigmas[i]);
    if (sigmas[i + 1] === 0) {
      x = linearCombination(term(1, x), term(dt, d));
      continue;
    }
    const x2 = linearCombination(term(1, x), term(dt, d));
    const d2 = toD(x2, sigmas[i + 1], ctx.denoise(x2, sigmas[i + 1]));
    const dPrime = linearCombination(term(1, d), term(1, d2)).map((v) => fl(v / 2));
    x = linearCombination(term(1, x), term(dt, dPrime));
  }
  return asTensor(x0.shape, x);
};

/** `a.log().lerp(b.log(), 0.5).exp()` in float32 (torch's lerp takes the `end − (end−start)·(1−w)` branch at w = 0.5). */
export function logMidpoint32(a: number, b: number): number {
  const la = fl(Math.log(a));
  const lb = fl(Math.log(b));
  return fl(Math.exp(fl(lb - fl(fl(lb - la) * 0.5))));
}

export const sampleDpm2: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('dpm_2', model, x0, options);
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    const d = toD(x, sigmas[i], denoised);
    ctx.report(i, x, denoised, sigmas[i]);
    if (sigmas[i + 1] === 0) {
      x = linearCombination(term(1, x), term(fl(sigmas[i + 1] - sigmas[i]), d));
      continue;
    }
    const sigmaMid = logMidpoint32(sigmas[i], sigmas[i + 1]);
    const x2 = linearCombination(term(1, x), term(fl(sigmaMid - sigmas[i]), d));
    const d2 = toD(x2, sigmaMid, ctx.denoise(x2, sigmaMid));
    x = linearCombination(term(1, x), term(fl(sigmas[i + 1] - sigmas[i]), d2));
  }
  return asTensor(x0.shape, x);
};
