/**
 * The contract every sampler follows: ComfyUI's k-diffusion signature
 * `sample(model, x, sigmas, extra_args, callback, …)` in TypeScript.
 */
import type { Tensor } from '../../tensor.js';
import type { FlowModelSampling } from '../model-sampling.js';

/**
 * Draws standard normal noise of a shape. `interval` names the sigma step the noise is for
 * (ComfyUI's `noise_sampler(sigma, sigma_next)`): a plain generator ignores it, a Brownian-tree
 * source uses it. Example: `(shape) => torchRandn(generator, shape)`.
 */
export type NoiseSource = (shape: readonly number[], interval: NoiseInterval) => Float32Array;

export interface NoiseInterval {
  readonly sigma: number;
  readonly sigmaNext: number;
}

/** The guided denoiser D(x, σ): CFG already applied, returns the predicted clean latent (x0). */
export type DenoiseFn = (x: Tensor<'float32'>, sigma: number) => Float32Array;

export interface StepInfo {
  /** 0-based step index. */
  readonly step: number;
  /** The latent the step started from (after the step for uni_pc, as in ComfyUI). */
  readonly x: Float32Array;
  readonly denoised: Float32Array;
  readonly sigma: number;
}

export interface SamplerOptions {
  /** Model sampling of the model (noise scaling, percent_to_sigma); SD3 uses the flow one. */
  readonly modelSampling: FlowModelSampling;
  /** Needed by ancestral/SDE samplers and lcm; ComfyUI uses its seed+1 CPU generator (or a Brownian tree). */
  readonly noise?: NoiseSource;
  /** Called once per step, like ComfyUI's k_callback. */
  readonly callback?: (info: StepInfo) => void;
  /** Called before every model evaluation; throw from it to interrupt sampling. */
  readonly checkInterrupt?: () => void;
  /** Ancestral/SDE noise amount (ComfyUI default 1). */
  readonly eta?: number;
  /** Noise multiplier (ComfyUI default 1). */
  readonly sNoise?: number;
}

/** Runs the whole schedule and returns the final latent (before inverse noise scaling). */
export type SamplerFn = (model: DenoiseFn, x: Tensor<'float32'>, sigmas: Float32Array, options: SamplerOptions) => Tensor<'float32'>;
