/**
 * ModelSamplingDiscreteFlow + CONST: how SD3 (and every rectified-flow model ComfyUI runs) maps
 * between sigma, model timestep and latents (engine spec §5.1).
 *
 * σ(t) = shift·(t/m) / (1 + (shift−1)·(t/m)) with multiplier m = 1000; the model is fed
 * timestep(σ) = σ·m, which is *not* σ's inverse when shift ≠ 1. All table and tensor values are
 * float32, computed in PyTorch's operation order.
 *
 * Example: createFlowModelSampling(3).sigmaMin === Math.fround(0.0029940121)
 */
import { fl } from './torch-float32.js';

export interface FlowModelSampling {
  readonly shift: number;
  readonly multiplier: number;
  /** sigma(k+1) for k = 0…999, ascending; sigmas[999] = 1. */
  readonly sigmas: Float32Array;
  readonly sigmaMin: number;
  readonly sigmaMax: number;
}

const TIMESTEPS = 1000;

/** `time_snr_shift(shift, t)` on a float32 tensor value. */
export function timeSnrShift32(shift: number, t: number): number {
  if (shift === 1) return fl(t);
  return fl(fl(fl(shift) * t) / fl(1 + fl(fl(shift - 1) * t)));
}

export function createFlowModelSampling(shift = 3.0, multiplier = 1000): FlowModelSampling {
  if (!(shift > 0)) throw new Error(`ModelSamplingDiscreteFlow: shift must be > 0, got ${shift}`);
  const sigmas = new Float32Array(TIMESTEPS);
  const partial = { shift, multiplier };
  for (let k = 0; k < TIMESTEPS; k++) {
    const t = fl(fl((k + 1) / TIMESTEPS) * multiplier); // (arange(1, 1001) / 1000) * multiplier
    sigmas[k] = sigmaFromTimestep(partial, t);
  }
  return { shift, multiplier, sigmas, sigmaMin: sigmas[0], sigmaMax: sigmas[TIMESTEPS - 1] };
}

/** `ModelSamplingDiscreteFlow.sigma(timestep)` for a float32 timestep. */
export function sigmaFromTimestep(ms: Pick<FlowModelSampling, 'shift' | 'multiplier'>, timestep: number): number {
  return timeSnrShift32(ms.shift, fl(fl(timestep) / ms.multiplier));
}

/** `timestep(σ) = σ·multiplier` (float32): what the MMDiT's timestep embedder receives. */
export function timestepFromSigma(ms: Pick<FlowModelSampling, 'multiplier'>, sigma: number): number {
  return fl(fl(sigma) * ms.multiplier);
}

/**
 * `percent_to_sigma` in double precision, as ComfyUI computes it with Python floats (ConditioningSetTimestepRange,
 * ControlNet ranges). 0 % → 1.0, 100 % → 0.0.
 */
export function percentToSigma(ms: Pick<FlowModelSampling, 'shift'>, percent: number): number {
  if (percent <= 0) return 1.0;
  if (percent >= 1) return 0.0;
  const t = 1.0 - percent;
  if (ms.shift === 1) return t;
  return (ms.shift * t) / (1 + (ms.shift - 1) * t);
}

/** CONST `calculate_input`: flow models take x unscaled. Returns the same array. */
export function calculateInput(_sigma: number, x: Float32Array): Float32Array {
  return x;
}

/**
 * CONST `calculate_denoised`: x0 = x − v·σ, per batch item (`sigmas[b]` applies to the b-th block of
 * `x.length / sigmas.length` elements).
 */
export function calculateDenoised(sigmas: ArrayLike<number>, modelOutput: Float32Array, modelInput: Float32Array): Float32Array {
  const out = new Float32Array(modelInput.length);
  const itemSize = modelInput.length / sigmas.length;
  for (let b = 0; b < sigmas.length; b++) {
    const s = fl(sigmas[b]);
    for (let i = b * itemSize; i < (b + 1) * itemSize; i++) out[i] = fl(modelInput[i] - fl(modelOutput[i] * s));
  }
  return out;
}

/** CONST `noise_scaling`: x = σ·ε + (1 − σ)·x0 (ComfyUI's `max_denoise` flag has no effect here). */
export function noiseScaling(sigma: number, noise: Float32Array, latent: Float32Array): Float32Array {
  const s = fl(sigma);
  const keep = fl(1 - s);
  const out = new Float32Array(noise.length);
  for (let i = 0; i < out.length; i++) out[i] = fl(fl(s * noise[i]) + fl(keep * latent[i]));
  return out;
}

/** CONST `inverse_noise_scaling`: x / (1 − σ); identity for σ = 0. */
export function inverseNoiseScaling(sigma: number, x: Float32Array): Float32Array {
  const keep = fl(1 - fl(sigma));
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = fl(x[i] / keep);
  return out;
}
