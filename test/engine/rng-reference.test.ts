/**
 * Bit-exactness against the research session's reference (test/golden/rng/torch_cpu_randn.json,
 * copied from the project's shared data): whole SD3 latents from torch.manual_seed + torch.randn.
 */
import { describe, expect, it } from 'vitest';
import { Mt19937 } from '../../engine/rng/mt19937.js';
import { TorchGenerator, type RandnKernel } from '../../engine/rng/torch-generator.js';
import { readRngGolden, sha256F32le } from './rng-golden.js';

interface ReferenceCase {
  sha256_f32le: string;
  first8: number[];
  last2: number[];
}
type ReferenceFile = {
  mt19937_first_outputs: Record<string, number[]>;
} & Record<'avx2_path' | 'scalar_path', Record<string, ReferenceCase>>;

const reference = readRngGolden<ReferenceFile>('torch_cpu_randn.json');

describe('MT19937 first outputs (reference)', () => {
  for (const [name, expected] of Object.entries(reference.mt19937_first_outputs)) {
    it(name, () => {
      const engine = new Mt19937(Number(name.replace('seed=', '')));
      expect(expected.map(() => engine.nextUint32())).toEqual(expected);
    });
  }
});

const kernelsByKey: Array<{ key: 'avx2_path' | 'scalar_path'; kernel: RandnKernel }> = [
  { key: 'avx2_path', kernel: 'avx2' },
  { key: 'scalar_path', kernel: 'scalar' },
];

for (const { key, kernel } of kernelsByKey) {
  describe(`torch.randn latents, ${kernel} kernel (reference ${key})`, () => {
    for (const [name, expected] of Object.entries(reference[key])) {
      it(name, () => {
        const match = /^seed=(\d+) shape=([\dx]+)$/.exec(name);
        expect(match, `unexpected case name ${name}`).not.toBeNull();
        const shape = match![2].split('x').map(Number);
        const noise = new TorchGenerator(BigInt(match![1]), { kernel }).randn(shape);
        expect(noise.shape).toEqual(shape);
        expect(Array.from(noise.data.subarray(0, 8))).toEqual(expected.first8);
        expect(Array.from(noise.data.subarray(noise.data.length - 2))).toEqual(expected.last2);
        expect(sha256F32le(noise.data)).toBe(expected.sha256_f32le);
      });
    }
  });
}
