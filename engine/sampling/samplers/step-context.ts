/**
 * Plumbing shared by the samplers: model calls that honour interrupts, the per-step callback and
 * noise draws that fail with a clear message when a sampler needs noise and none was given.
 */
import type { Tensor } from '../../tensor.js';
import type { DenoiseFn, SamplerOptions } from './types.js';

export interface StepContext {
  readonly shape: readonly number[];
  denoise(x: Float32Array, sigma: number): Float32Array;
  report(step: number, x: Float32Array, denoised: Float32Array, sigma: number): void;
  drawNoise(sigma: number, sigmaNext: number): Float32Array;
}

export function stepContext(samplerName: string, model: DenoiseFn, x: Tensor<'float32'>, options: SamplerOptions): StepContext {
  const shape = x.shape;
  return {
    shape,
    denoise(values, sigma) {
      options.checkInterrupt?.();
      return model({ dtype: 'float32', shape, data: values }, sigma);
    },
    report(step, values, denoised, sigma) {
      options.callback?.({ step, x: values, denoised, sigma });
    },
    drawNoise(sigma, sigmaNext) {
      if (!options.noise) throw new Error(`sampler '${samplerName}' draws noise: pass options.noise (a NoiseSource)`);
      const out = options.noise(shape, { sigma, sigmaNext });
      if (out.length !== x.data.length) {
        throw new Error(`sampler '${samplerName}': noise source returned ${out.length} values for shape [${shape.join(', ')}]`);
      }
      return out;
    },
  };
}

export const asTensor = (shape: readonly number[], data: Float32Array): Tensor<'float32'> => ({ dtype: 'float32', shape: [...shape], data });
