/**
 * lms: linear multistep (Adams–Bashforth in σ) of order ≤ 4. ComfyUI integrates each Lagrange
 * basis polynomial with scipy's `quad`; the integrand is a polynomial of degree ≤ 3, so 4-point
 * Gauss–Legendre integrates it exactly (quad's 21-point rule is exact there too).
 */
import { linearCombination, term, toD } from '../vector-ops.js';
import { asTensor, stepContext } from './step-context.js';
import type { SamplerFn } from './types.js';

const GAUSS_NODES = [-0.8611363115940526, -0.33998104358485626, 0.33998104358485626, 0.8611363115940526];
const GAUSS_WEIGHTS = [0.34785484513745385, 0.6521451548625461, 0.6521451548625461, 0.34785484513745385];

/** ∫_{t[i]}^{t[i+1]} Π_{k≠j} (τ − t[i−k]) / (t[i−j] − t[i−k]) dτ, in double like ComfyUI. */
export function linearMultistepCoefficient(order: number, t: ArrayLike<number>, i: number, j: number): number {
  if (order - 1 > i) throw new Error(`lms: order ${order} too high for step ${i}`);
  const basis = (tau: number): number => {
    let prod = 1;
    for (let k = 0; k < order; k++) if (k !== j) prod *= (tau - t[i - k]) / (t[i - j] - t[i - k]);
    return prod;
  };
  const a = t[i];
  const b = t[i + 1];
  const half = (b - a) / 2;
  const mid = (a + b) / 2;
  let sum = 0;
  for (let q = 0; q < GAUSS_NODES.length; q++) sum += GAUSS_WEIGHTS[q] * basis(mid + half * GAUSS_NODES[q]);
  return sum * half;
}

export const sampleLms: SamplerFn = (model, x0, sigmas, options) => {
  const ctx = stepContext('lms', model, x0, options);
  const maxOrder = 4;
  const ds: Float32Array[] = [];
  let x = x0.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = ctx.denoise(x, sigmas[i]);
    ds.push(toD(x, sigmas[i], denoised));
    if (ds.length > maxOrder) ds.shift();
    ctx.report(i, x, denoised, sigmas[i]);
    if (sigmas[i + 1] === 0) {
      x = denoised;
      continue;
    }
    const order = Math.min(i + 1, maxOrder);
    const terms = Array.from({ length: order }, (_, j) => term(linearMultistepCoefficient(order, sigmas, i, j), ds[ds.length - 1 - j]));
    // Python's sum(): the history terms are added together first, then added to x.
    x = linearCombination(term(1, x), term(1, linearCombination(...terms)));
  }
  return asTensor(x0.shape, x);
};
