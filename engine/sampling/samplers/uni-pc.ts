/**
 * uni_pc / uni_pc_bh2: ComfyUI's UniPC (comfy/extra_samplers/uni_pc.py, B(h) variants bh1 and bh2),
 * multistep order min(3, len(σ) − 2) with lower-order final steps.
 *
 * ComfyUI runs it through its VE/VP converter for every model (flow ones included): x is divided
 * by √(1+σ₀²), the model is wrapped as an ε-predictor, and the final σ = 0 is replaced by 0.001.
 * That replacement happens in place on the caller's sigma tensor (`timesteps = sigmas[:]`), so
 * KSampler's inverse noise scaling afterwards divides by 1 − 0.001; this sampler writes 0.001 into
 * `sigmas` likewise, for parity.
 */
import { fl } from '../torch-float32.js';
import { differenceOver, divided, linearCombination, term } from '../vector-ops.js';
import { solveLinearSystem } from './linear-solve.js';
import { asTensor, stepContext, type StepContext } from './step-context.js';
import type { SamplerFn } from './types.js';

type Variant = 'bh1' | 'bh2';

/** SigmaConvert: the VP view of a VE sigma, in float32 as ComfyUI computes it. */
const logMeanCoeff = (s: number): number => fl(0.5 * fl(Math.log(fl(1 / fl(fl(s * s) + 1)))));
const marginalAlpha = (s: number): number => fl(Math.exp(logMeanCoeff(s)));
const oneMinusAlphaSq = (s: number): number => fl(1 - fl(Math.exp(fl(2 * logMeanCoeff(s)))));
const marginalStd = (s: number): number => fl(Math.sqrt(oneMinusAlphaSq(s)));
const marginalLambda = (s: number): number => fl(logMeanCoeff(s) - fl(0.5 * fl(Math.log(oneMinusAlphaSq(s)))));

/** ε-prediction wrapper (predict_eps_sigma) followed by UniPC's data prediction x0 = (x − σ_t·ε)/α_t. */
function dataPrediction(ctx: StepContext, x: Float32Array, sigma: number): Float32Array {
  const inputScale = fl(Math.sqrt(fl(fl(sigma * sigma) + 1)));
  const input = x.map((v) => fl(v * inputScale));
  const eps = differenceOver(input, ctx.denoise(input, sigma), sigma);
  const std = marginalStd(sigma);
  const alpha = marginalAlpha(sigma);
  return x.map((v, i) => fl(fl(v - fl(std * eps[i])) / alpha));
}

interface History {
  models: Float32Array[];
  sigmas: number[];
}

/** multistep_uni_pc_bh_update with predict_x0 = True. Returns the new x and the corrector's model value. */
function bhUpdate(ctx: StepContext, variant: Variant, x: Float32Array, hist: History, sigma: number, order: number, useCorrector: boolean): { x: Float32Array; model: Float32Array | null } {
  const prev0 = hist.models[hist.models.length - 1];
  const lambdaPrev0 = marginalLambda(hist.sigmas[hist.sigmas.length - 1]);
  const h = fl(marginalLambda(sigma) - lambdaPrev0);
  const rks: number[] = [];
  const d1s: Float32Array[] = [];
  for (let i = 1; i < order; i++) {
    const rk = fl(fl(marginalLambda(hist.sigmas[hist.sigmas.length - 1 - i]) - lambdaPrev0) / h);
    rks.push(rk);
    d1s.push(differenceOver(hist.models[hist.models.length - 1 - i], prev0, rk));
  }
  rks.push(1);
  const hh = fl(-h);
  const hPhi1 = fl(Math.expm1(hh));
  const bH = variant === 'bh1' ? hh : fl(Math.expm1(hh));
  const { rows, b } = bhSystem(rks, hh, hPhi1, bH, order);
  const alphaT = marginalAlpha(sigma);
  const base = linearCombination(term(fl(marginalStd(sigma) / marginalStd(hist.sigmas[hist.sigmas.length - 1])), x), term(-fl(alphaT * hPhi1), prev0));
  const step = fl(alphaT * bH);
  let xt = base;
  if (d1s.length > 0) {
    const rhosP = order === 2 ? [0.5] : solveLinearSystem(rows.slice(0, -1).map((r) => r.slice(0, -1)), b.slice(0, -1));
    xt = linearCombination(term(1, base), term(-step, weightedSum(rhosP, d1s)));
  }
  if (!useCorrector) return { x: xt, model: null };
  const rhosC = order === 1 ? [0.5] : solveLinearSystem(rows, b);
  const modelT = dataPrediction(ctx, xt, sigma);
  const d1t = differenceOver(modelT, prev0, 1);
  const lastTerm = d1t.map((v) => fl(fl(rhosC[rhosC.length - 1]) * v));
  const correction = d1s.length > 0 ? linearCombination(term(1, weightedSum(rhosC.slice(0, -1), d1s)), term(1, lastTerm)) : lastTerm;
  return { x: linearCombination(term(1, base), term(-step, correction)), model: modelT };
}

/** UniPC-B(h)'s order conditions: R[i][k] = r_k^i, b[i] = (i+1)!·h·φ_{i+1}(h)/B(h). */
function bhSystem(rks: number[], hh: number, hPhi1: number, bH: number, order: number): { rows: number[][]; b: number[] } {
  const rows: number[][] = [];
  const b: number[] = [];
  let hPhiK = fl(fl(hPhi1 / hh) - 1);
  let factorial = 1;
  for (let i = 1; i <= order; i++) {
    rows.push(rks.map((r) => fl(r ** (i - 1))));
    b.push(fl(fl(hPhiK * factorial) / bH));
    factorial *= i + 1;
    hPhiK = fl(fl(hPhiK / hh) - fl(1 / factorial));
  }
  return { rows, b };
}

/** einsum('k,bkchw->bchw'): Σ_k w_k·D_k, accumulated in float32. */
function weightedSum(weights: number[], values: Float32Array[]): Float32Array {
  return linearCombination(...values.map((v, k) => term(weights[k], v)));
}

function sampleUniPc(variant: Variant): SamplerFn {
  return (model, x0, sigmas, options) => {
    const ctx = stepContext(variant === 'bh1' ? 'uni_pc' : 'uni_pc_bh2', model, x0, options);
    if (sigmas[sigmas.length - 1] === 0) sigmas[sigmas.length - 1] = fl(0.001); // ComfyUI parity, see header
    const steps = sigmas.length - 1;
    const order = Math.min(3, sigmas.length - 2);
    if (steps < order || order < 1) throw new Error(`uni_pc needs at least 2 steps, got ${steps}`);
    let x = divided(x0.data, fl(Math.sqrt(fl(1 + fl(sigmas[0] * sigmas[0])))));
    const hist: History = { models: [dataPrediction(ctx, x, sigmas[0])], sigmas: [sigmas[0]] };
    ctx.report(0, x, hist.models[0], sigmas[0]);
    for (let stepIndex = 1; stepIndex < steps; stepIndex++) {
      if (stepIndex < order) {
        const result = bhUpdate(ctx, variant, x, hist, sigmas[stepIndex], stepIndex, true);
        x = result.x;
        hist.models.push(result.model ?? dataPrediction(ctx, x, sigmas[stepIndex]));
        hist.sigmas.push(sigmas[stepIndex]);
      } else {
        const last = stepIndex === steps - 1 ? steps : stepIndex;
        for (let step = stepIndex; step <= last; step++) {
          const result = bhUpdate(ctx, variant, x, hist, sigmas[step], Math.min(order, steps + 1 - step), step !== steps);
          x = result.x;
          hist.models.push(hist.models[hist.models.length - 1]);
          hist.sigmas.push(sigmas[step]);
          hist.models.shift();
          hist.sigmas.shift();
          if (step < steps) hist.models[hist.models.length - 1] = result.model ?? dataPrediction(ctx, x, sigmas[step]);
        }
      }
      ctx.report(stepIndex, x, hist.models[hist.models.length - 1], sigmas[stepIndex]);
    }
    return asTensor(x0.shape, divided(x, marginalAlpha(sigmas[sigmas.length - 1])));
  };
}

export const sampleUniPcBh1 = sampleUniPc('bh1');
export const sampleUniPcBh2 = sampleUniPc('bh2');
