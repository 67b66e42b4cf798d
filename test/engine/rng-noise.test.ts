/**
 * ComfyUI's noise: prepare_noise (with and without batch_index) and the CPU per-step noise sampler
 * of ancestral samplers, bit-exact against tools/gen-rng-golden.py and checked for the semantics
 * ComfyUI relies on.
 */
import { describe, expect, it } from 'vitest';
import { createCpuNoiseSampler, createCpuStepNoiseSource, prepareNoise } from '../../engine/rng/noise.js';
import { TorchGenerator, type RandnKernel } from '../../engine/rng/torch-generator.js';
import { digestOf, readRngGolden, type TensorDigest } from './rng-golden.js';

interface PrepareNoiseCase extends TensorDigest {
  seed: string;
  latent_shape: number[];
  batch_index: number[] | null;
}
interface NoiseSamplerCase {
  seed: string;
  shape: number[];
  steps: TensorDigest[];
}
interface VectorsFile {
  kernels: Record<RandnKernel, { prepare_noise: PrepareNoiseCase[]; cpu_noise_sampler: NoiseSamplerCase[] }>;
}

const vectors = readRngGolden<VectorsFile>('torch_rng_vectors.json');

for (const kernel of ['avx2', 'scalar'] as const) {
  describe(`prepare_noise vs ComfyUI's code run on torch, ${kernel} kernel`, () => {
    for (const { seed, latent_shape, batch_index, ...expected } of vectors.kernels[kernel].prepare_noise) {
      it(`seed ${seed}, latent [${latent_shape.join(',')}], batch_index ${JSON.stringify(batch_index)}`, () => {
        const noise = prepareNoise({ shape: latent_shape }, BigInt(seed), {
          kernel,
          ...(batch_index ? { batchIndex: batch_index } : {}),
        });
        expect(noise.dtype).toBe('float32');
        expect(digestOf(noise.data, noise.shape, expected)).toEqual(expected);
      });
    }
  });

  describe(`default_noise_sampler on the CPU (seed + 1), ${kernel} kernel`, () => {
    for (const { seed, shape, steps } of vectors.kernels[kernel].cpu_noise_sampler) {
      it(`seed ${seed}, x shape [${shape.join(',')}], ${steps.length} steps`, () => {
        const sampler = createCpuNoiseSampler(shape, BigInt(seed), { kernel });
        steps.forEach((expected, step) => {
          const noise = sampler(1 - step / 10, 1 - (step + 1) / 10);
          expect(digestOf(noise.data, noise.shape, expected), `step ${step}`).toEqual(expected);
        });
      });
    }
  });
}

describe('prepare_noise semantics', () => {
  const latentShape = [4, 16, 6, 6];
  const itemShape = [1, 16, 6, 6];
  const itemSize = 16 * 6 * 6;

  it('without batch_index is one randn over the whole latent, float32 with the latent shape', () => {
    const latent = { dtype: 'float32' as const, shape: latentShape, data: new Float32Array(4 * itemSize) };
    const noise = prepareNoise(latent, 123);
    expect(noise.shape).toEqual(latentShape);
    expect(noise.data).toEqual(new TorchGenerator(123).randn(latentShape).data);
  });

  it('with batch_index gives each item the noise of its index drawn in order, duplicates allowed', () => {
    const perIndex = new TorchGenerator(77);
    const draws = [0, 1, 2, 3].map(() => perIndex.randn(itemShape).data);
    const noise = prepareNoise({ shape: [3, 16, 6, 6] }, 77, { batchIndex: [3, 1, 3] });
    expect(noise.shape).toEqual([3, 16, 6, 6]);
    expect(noise.data.subarray(0, itemSize)).toEqual(draws[3]);
    expect(noise.data.subarray(itemSize, 2 * itemSize)).toEqual(draws[1]);
    expect(noise.data.subarray(2 * itemSize)).toEqual(draws[3]);
  });

  it('batch item 0 of a batch_index latent equals a single-image run with the same seed', () => {
    const single = prepareNoise({ shape: itemShape }, 5);
    const picked = prepareNoise({ shape: [1, 16, 6, 6] }, 5, { batchIndex: [0] });
    expect(picked.data).toEqual(single.data);
  });

  it('seeds that differ by a multiple of 2^32 give identical noise (torch keeps the low 32 bits)', () => {
    const low = prepareNoise({ shape: itemShape }, 17);
    expect(prepareNoise({ shape: itemShape }, 17n + 2n ** 32n).data).toEqual(low.data);
    expect(prepareNoise({ shape: itemShape }, 17n + 5n * 2n ** 60n).data).toEqual(low.data);
    expect(prepareNoise({ shape: itemShape }, 18).data).not.toEqual(low.data);
  });

  it('rejects empty or negative batch_index entries, naming the problem', () => {
    expect(() => prepareNoise({ shape: itemShape }, 1, { batchIndex: [] })).toThrow(/batch_index must not be empty/);
    expect(() => prepareNoise({ shape: itemShape }, 1, { batchIndex: [0, -1] })).toThrow(/non-negative integers/);
    expect(() => prepareNoise({ shape: itemShape }, 1, { batchIndex: [0.5] })).toThrow(/non-negative integers/);
  });
});

describe('CPU noise sampler semantics', () => {
  it('continues one generator seeded with seed + 1 across steps', () => {
    const sampler = createCpuNoiseSampler([1, 16, 4, 4], 41);
    const reference = new TorchGenerator(42);
    for (let step = 0; step < 3; step++) expect(sampler().data).toEqual(reference.randn([1, 16, 4, 4]).data);
  });

  it('differs from the initial noise of the same seed', () => {
    const initial = prepareNoise({ shape: [1, 16, 4, 4] }, 9);
    expect(createCpuNoiseSampler([1, 16, 4, 4], 9)().data).not.toEqual(initial.data);
  });

  it('wraps seed 2^64 − 1 to generator seed 0 (torch itself raises an overflow there)', () => {
    const sampler = createCpuNoiseSampler([2, 8], 2n ** 64n - 1n);
    expect(sampler().data).toEqual(new TorchGenerator(0).randn([2, 8]).data);
  });
});

describe('CPU step noise source (sampler noise-source form)', () => {
  it('draws the same values as the k-diffusion style sampler, for whatever shape is asked', () => {
    const source = createCpuStepNoiseSource(42, { kernel: 'scalar' });
    const reference = new TorchGenerator(43, { kernel: 'scalar' });
    expect(source([1, 16, 4, 4])).toEqual(reference.randn([1, 16, 4, 4]).data);
    expect(source([3, 5])).toEqual(reference.randn([3, 5]).data);
  });
});
