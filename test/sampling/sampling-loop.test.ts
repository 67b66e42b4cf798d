import { describe, expect, it } from 'vitest';
import { createFlowModelSampling } from '../../engine/sampling/model-sampling.js';
import { SD3_LATENT_FORMAT, processIn, processOut, runKSampler, type KSamplerRunOptions } from '../../engine/sampling/sampling-loop.js';
import type { NoiseSource } from '../../engine/sampling/samplers/types.js';
import { loadSamplerGolden, relL2, toyModel } from './toy-model.js';

const golden = loadSamplerGolden();
const ms = createFlowModelSampling(golden.shift);
const itemSize = golden.latent.length;
const [, , h, w] = golden.shape;

function queuedNoise(): NoiseSource {
  let next = 0;
  return () => Float32Array.from(golden.step_noise.slice(next * itemSize, ++next * itemSize));
}

function baseRun(counter = { calls: 0 }): KSamplerRunOptions<Float32Array> {
  return {
    modelSampling: ms,
    model: toyModel(golden, counter),
    positive: [{ cond: Float32Array.from(golden.cond) }],
    negative: [{ cond: Float32Array.from(golden.uncond) }],
    cfg: golden.cfg,
    latent: { dtype: 'float32', shape: golden.shape, data: Float32Array.from(golden.latent) },
    noise: Float32Array.from(golden.noise),
    stepNoise: queuedNoise(),
    sampler: 'euler',
    scheduler: 'simple',
    steps: 4,
  };
}

const rowMask = (): Float32Array => {
  const m = new Float32Array(h * w);
  for (const r of golden.pipeline.mask_rows) m.fill(1, r * w, (r + 1) * w);
  return m;
};

describe('KSampler run (noise scaling, denoise, step ranges, masks) vs the torch reference', () => {
  const cases = golden.pipeline.cases;
  let previousOut: number[] | null = null;
  for (const c of cases) {
    it(c.name, () => {
      const run = baseRun();
      run.sampler = c.sampler;
      run.scheduler = c.scheduler;
      run.steps = c.steps;
      run.denoise = c.denoise;
      if (c.start !== undefined) {
        run.startStep = c.start;
        run.lastStep = c.end;
        run.forceFullDenoise = !c.leftover;
      }
      if (c.empty) run.latent = { dtype: 'float32', shape: golden.shape, data: new Float32Array(itemSize) };
      if (c.input === 'previous') run.latent = { dtype: 'float32', shape: golden.shape, data: Float32Array.from(previousOut ?? []) };
      if (c.add_noise === false) run.noise = null;
      if (c.masked) run.denoiseMask = { dtype: 'float32', shape: [1, 1, h, w], data: rowMask() };
      const out = runKSampler(run).data;
      previousOut = Array.from(out);
      expect(relL2(out, c.out)).toBeLessThanOrEqual(1e-5);
    });
  }
});

describe('KSampler run behaviour', () => {
  it('calls the callback once per step with the total', () => {
    const seen: { step: number; totalSteps: number }[] = [];
    runKSampler({ ...baseRun(), sampler: 'heun', callback: ({ step, totalSteps }) => seen.push({ step, totalSteps }) });
    expect(seen).toEqual([0, 1, 2, 3].map((step) => ({ step, totalSteps: 4 })));
  });

  it('stops at the first model call after checkInterrupt throws', () => {
    const counter = { calls: 0 };
    class Interrupted extends Error {}
    const run = { ...baseRun(counter), steps: 10, checkInterrupt: () => { if (counter.calls >= 3) throw new Interrupted('stop'); } };
    expect(() => runKSampler(run)).toThrow(Interrupted);
    expect(counter.calls).toBe(3);
  });

  it('returns the input latent untouched for denoise 0 and for a start step past the end', () => {
    const run = baseRun();
    expect(runKSampler({ ...run, denoise: 0 })).toBe(run.latent);
    expect(runKSampler({ ...run, startStep: 4 })).toBe(run.latent);
  });

  it('cfg 1 skips the negative: one model call per step', () => {
    const counter = { calls: 0 };
    runKSampler({ ...baseRun(counter), cfg: 1, negative: [{ cond: new Float32Array(itemSize).fill(Number.NaN) }] });
    expect(counter.calls).toBe(4);
  });

  it('a mask of zeros keeps the latent, a mask of ones equals the unmasked run', () => {
    const keep = runKSampler({ ...baseRun(), denoiseMask: { dtype: 'float32', shape: [h, w], data: new Float32Array(h * w) } });
    expect(relL2(keep.data, golden.latent)).toBeLessThan(1e-6);
    const all = runKSampler({ ...baseRun(), denoiseMask: { dtype: 'float32', shape: [h, w], data: new Float32Array(h * w).fill(1) } });
    expect(all.data).toEqual(runKSampler(baseRun()).data);
  });

  it('rejects a mask at the wrong resolution', () => {
    expect(() => runKSampler({ ...baseRun(), denoiseMask: { dtype: 'float32', shape: [1, 1, 8, 8], data: new Float32Array(64) } })).toThrow(/resize it to the latent first/);
  });

  it('SD3 latent format round-trips', () => {
    const x = Float32Array.from(golden.latent);
    expect(relL2(processOut(SD3_LATENT_FORMAT, processIn(SD3_LATENT_FORMAT, x)), x)).toBeLessThan(1e-6);
  });
});

describe('KSampler run: noise from the seed', () => {
  it('ancestral steps draw from the seed + 1 CPU generator', async () => {
    const { createCpuStepNoiseSource } = await import('../../engine/rng/index.js');
    const bySeed = runKSampler({ ...baseRun(), sampler: 'euler_ancestral', stepNoise: undefined, seed: 42 });
    const explicit = runKSampler({ ...baseRun(), sampler: 'euler_ancestral', stepNoise: createCpuStepNoiseSource(42) });
    expect(bySeed.data).toEqual(explicit.data);
    const otherSeed = runKSampler({ ...baseRun(), sampler: 'euler_ancestral', stepNoise: undefined, seed: 43 });
    expect(relL2(otherSeed.data, bySeed.data)).toBeGreaterThan(1e-3);
  });

  it('SDE samplers run on a Brownian path from the seed', () => {
    for (const sampler of ['dpmpp_sde', 'dpmpp_2m_sde', 'dpmpp_3m_sde']) {
      const a = runKSampler({ ...baseRun(), sampler, stepNoise: undefined, seed: 5 });
      const b = runKSampler({ ...baseRun(), sampler, stepNoise: undefined, seed: 5 });
      expect(a.data.every(Number.isFinite), sampler).toBe(true);
      expect(a.data).toEqual(b.data);
    }
  });
});
