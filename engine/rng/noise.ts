/**
 * The noise ComfyUI feeds its samplers, reproduced as ComfyUI computes it on the CPU.
 *
 * - `prepareNoise` = comfy/sample.py `prepare_noise(latent_image, seed, noise_inds)`: the initial
 *   KSampler noise, one `torch.randn` over the latent's whole shape from `torch.manual_seed(seed)`.
 * - `createCpuNoiseSampler` = k-diffusion's `default_noise_sampler(x, seed)` for a CPU `x`: the
 *   per-step noise of euler_ancestral & co, from a separate generator seeded with `seed + 1`.
 *
 * Example:
 *   const noise = prepareNoise({ shape: [1, 16, 128, 128] }, 42);   // float32 tensor, same shape
 */
import type { Tensor } from '../tensor.js';
import { TorchGenerator, type RandnKernel } from './torch-generator.js';
import { normalizeSeed, type Seed } from './seed.js';

export interface NoiseOptions {
  /** PyTorch CPU kernel to imitate; default 'avx2' (x86-64 ComfyUI hosts). */
  readonly kernel?: RandnKernel;
}

export interface PrepareNoiseOptions extends NoiseOptions {
  /**
   * The latent's `batch_index` (set by latent-batch nodes). Noise is drawn as `[1, …]` tensors for
   * indices 0 … max(batchIndex) in order and the requested ones are picked, so a batch item gets the
   * same noise as when it was generated on its own. The result has one item per entry.
   */
  readonly batchIndex?: readonly number[];
}

/** Anything with a shape: a latent Tensor, or just `{ shape }`. */
export interface Shaped {
  readonly shape: readonly number[];
}

export function prepareNoise(latent: Shaped, seed: Seed, options: PrepareNoiseOptions = {}): Tensor<'float32'> {
  const generator = new TorchGenerator(seed, { kernel: options.kernel });
  if (options.batchIndex === undefined) return generator.randn(latent.shape);
  return noiseForBatchIndex(generator, latent.shape, options.batchIndex);
}

function noiseForBatchIndex(
  generator: TorchGenerator,
  latentShape: readonly number[],
  batchIndex: readonly number[],
): Tensor<'float32'> {
  if (latentShape.length === 0) throw new RangeError('prepareNoise: a latent with batch_index needs a batch dimension');
  if (batchIndex.length === 0) throw new RangeError('prepareNoise: batch_index must not be empty');
  for (const index of batchIndex) {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`prepareNoise: batch_index entries must be non-negative integers, got ${index}`);
    }
  }
  const itemShape = [1, ...latentShape.slice(1)];
  const wanted = new Set(batchIndex);
  const drawn = new Map<number, Float32Array>();
  const maxIndex = Math.max(...batchIndex);
  for (let i = 0; i <= maxIndex; i++) {
    const item = generator.randn(itemShape).data;
    if (wanted.has(i)) drawn.set(i, item);
  }
  const itemSize = itemShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(itemSize * batchIndex.length);
  batchIndex.forEach((index, position) => data.set(drawn.get(index)!, position * itemSize));
  return { dtype: 'float32', shape: [batchIndex.length, ...latentShape.slice(1)], data };
}

/** One call per sampler step; the sigmas k-diffusion passes are ignored by the default sampler. */
export type NoiseSampler = (sigma?: number, sigmaNext?: number) => Tensor<'float32'>;

/**
 * Per-step noise of ancestral samplers running on the CPU: `randn(x.shape)` from a generator seeded
 * with `seed + 1` (ComfyUI adds 1 on the CPU so it does not repeat the initial noise). Torch itself
 * rejects `seed + 1 = 2⁶⁴` ("Overflow when unpacking long"); only the low 32 bits matter, so here
 * it wraps to 0.
 */
export function createCpuNoiseSampler(shape: readonly number[], seed: Seed, options: NoiseOptions = {}): NoiseSampler {
  const generator = stepNoiseGenerator(seed, options);
  const fixedShape = [...shape];
  return () => generator.randn(fixedShape);
}

/**
 * The same per-step noise as a shape-taking function returning raw values, the form the engine's
 * samplers accept as their noise source (`(shape, interval) => Float32Array`; the interval is unused).
 */
export function createCpuStepNoiseSource(
  seed: Seed,
  options: NoiseOptions = {},
): (shape: readonly number[]) => Float32Array {
  const generator = stepNoiseGenerator(seed, options);
  return (shape) => generator.randn(shape).data;
}

/** ComfyUI seeds the CPU step-noise generator with `seed + 1`; 2⁶⁴ wraps to 0 (see createCpuNoiseSampler). */
function stepNoiseGenerator(seed: Seed, options: NoiseOptions): TorchGenerator {
  const stepSeed = BigInt.asUintN(64, normalizeSeed(seed) + 1n);
  return new TorchGenerator(stepSeed, { kernel: options.kernel });
}
