import { describe, expect, it } from 'vitest';
import { createBrownianNoiseSource } from '../../engine/sampling/brownian-noise.js';
import { createCpuStepNoiseSource } from '../../engine/rng/index.js';

const shape = [1, 4, 32, 32];
const n = 4096;

function moments(values: Float32Array): { mean: number; variance: number } {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  return { mean, variance: values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length };
}

describe('Brownian noise source', () => {
  it('returns unit-variance noise for every step', () => {
    const source = createBrownianNoiseSource(createCpuStepNoiseSource(7), 0.03, 1);
    for (const [a, b] of [[1, 0.75], [0.75, 0.5], [0.5, 0.25], [0.25, 0.03]]) {
      const { mean, variance } = moments(source(shape, { sigma: a, sigmaNext: b }));
      expect(Math.abs(mean)).toBeLessThan(0.08); // 5 standard errors at n = 4096
      expect(Math.abs(variance - 1)).toBeLessThan(0.12);
    }
  });

  it('correlates overlapping queries as one Brownian path does', () => {
    const source = createBrownianNoiseSource(createCpuStepNoiseSource(3), 0.1, 1);
    const first = source(shape, { sigma: 0.9, sigmaNext: 0.6 });
    const second = source(shape, { sigma: 0.6, sigmaNext: 0.2 });
    const whole = source(shape, { sigma: 0.9, sigmaNext: 0.2 });
    // W(0.2) − W(0.9) = (W(0.6) − W(0.9)) + (W(0.2) − W(0.6)), each scaled by √|Δσ|.
    for (let i = 0; i < n; i++) {
      const sum = first[i] * Math.sqrt(0.3) + second[i] * Math.sqrt(0.4);
      expect(whole[i] * Math.sqrt(0.7)).toBeCloseTo(sum, 5);
    }
    // Disjoint steps are independent: their correlation is near 0.
    let dot = 0;
    for (let i = 0; i < n; i++) dot += first[i] * second[i];
    expect(Math.abs(dot / n)).toBeLessThan(0.08);
  });

  it('is deterministic for a seed', () => {
    const a = createBrownianNoiseSource(createCpuStepNoiseSource(11), 0.1, 1)(shape, { sigma: 1, sigmaNext: 0.5 });
    const b = createBrownianNoiseSource(createCpuStepNoiseSource(11), 0.1, 1)(shape, { sigma: 1, sigmaNext: 0.5 });
    expect(a).toEqual(b);
  });
});
