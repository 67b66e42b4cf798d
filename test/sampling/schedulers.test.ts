import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  calculateDenoised,
  createFlowModelSampling,
  inverseNoiseScaling,
  noiseScaling,
  percentToSigma,
  sigmaFromTimestep,
  timestepFromSigma,
} from '../../engine/sampling/model-sampling.js';
import {
  SCHEDULER_NAMES,
  applyStepRange,
  calculateSigmas,
  ksamplerSigmas,
} from '../../engine/sampling/schedulers.js';

const golden = (name: string) => JSON.parse(readFileSync(new URL(`../golden/sampling/${name}`, import.meta.url), 'utf8'));
const schedulers = golden('schedulers.json');
const reference = golden('sigmas_sd3_shift3.json');

const fromHex = (hex: string): number => Buffer.from(hex, 'hex').readFloatBE(0);
const toHex = (values: Float32Array): string[] =>
  Array.from(values, (v) => {
    const b = Buffer.alloc(4);
    b.writeFloatBE(v);
    return b.toString('hex');
  });

describe('model sampling (flow, shift)', () => {
  it('reproduces the 1000-entry sigma table bit for bit', () => {
    for (const entry of schedulers.model_sampling) {
      expect(toHex(createFlowModelSampling(entry.shift).sigmas)).toEqual(entry.sigmas_hex);
    }
    const ms = createFlowModelSampling(3);
    expect(ms.sigmaMin).toBe(reference['model_sampling shift=3'].sigma_min);
    expect(ms.sigmaMax).toBe(1);
  });

  it('timestep(σ) = σ·1000 is not the inverse of σ(t) when shift ≠ 1', () => {
    const ms = createFlowModelSampling(3);
    expect(timestepFromSigma(ms, 0.5)).toBe(500);
    expect(sigmaFromTimestep(ms, 500)).toBe(Math.fround(0.75));
    expect(sigmaFromTimestep(createFlowModelSampling(1), 500)).toBe(0.5);
  });

  it('CONST denoised / noise scaling / inverse noise scaling, per batch item', () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    const v = Float32Array.from([0.5, 0.5, -1, 2]);
    expect(Array.from(calculateDenoised([0.5, 0.25], v, x))).toEqual([0.75, 1.75, 3.25, 3.5]);
    const noised = noiseScaling(0.25, Float32Array.from([4, 0, -4, 8]), x);
    expect(Array.from(noised)).toEqual([1.75, 1.5, 1.25, 5]);
    expect(Array.from(inverseNoiseScaling(0.5, x))).toEqual([2, 4, 6, 8]);
    expect(inverseNoiseScaling(0, x)).toEqual(x);
  });

  it('percent_to_sigma matches ComfyUI (double precision)', () => {
    for (const { shift, percent, sigma } of schedulers.percent_to_sigma) {
      expect(percentToSigma({ shift }, percent)).toBe(sigma);
    }
  });
});

describe('schedulers', () => {
  it('lists ComfyUI names in ComfyUI order', () => {
    expect(SCHEDULER_NAMES).toEqual(['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal']);
  });

  it('match the reference generator for every scheduler, shift and step count', () => {
    const mismatches: string[] = [];
    for (const table of schedulers.tables) {
      const got = calculateSigmas(createFlowModelSampling(table.shift), table.scheduler, table.steps);
      const want = table.hex.map(fromHex);
      expect(got.length, `${table.scheduler} ${table.steps}`).toBe(want.length);
      got.forEach((v: number, i: number) => {
        // Bit-exact is the goal; karras/kl_optimal/exponential go through pow/tan/exp, where glibc's float
        // functions and a double-rounded JS result may differ by one float32 ulp (≤ 1.2e-7 relative).
        const exactExpected = !['karras', 'kl_optimal', 'exponential'].includes(table.scheduler);
        const ok = exactExpected ? Object.is(v, want[i]) : Math.abs(v - want[i]) <= 1.2e-7 * Math.abs(want[i]);
        if (!ok) mismatches.push(`${table.scheduler} shift=${table.shift} steps=${table.steps} [${i}]: ${v} vs ${want[i]}`);
      });
    }
    expect(mismatches).toEqual([]);
  });

  it('match the copied research reference (sigmas_sd3_shift3.json) bit for bit', () => {
    const ms = createFlowModelSampling(3);
    for (const [key, entry] of Object.entries<{ f32hex?: string[] }>(reference)) {
      const m = /^shift=3 steps=(\d+) (\w+)$/.exec(key);
      if (!m || !entry.f32hex) continue;
      const got = calculateSigmas(ms, m[2], Number(m[1]));
      if (m[2] === 'karras' || m[2] === 'exponential') {
        // pow/exp: one float32 ulp of freedom between glibc's float kernels and double-then-round.
        const want = entry.f32hex.map(fromHex);
        got.forEach((v, i) => expect(Math.abs(v - want[i]), `${key} [${i}]`).toBeLessThanOrEqual(1.2e-7 * want[i]));
      } else {
        expect(toHex(got), key).toEqual(entry.f32hex);
      }
    }
    const denoised = ksamplerSigmas(ms, { scheduler: 'sgm_uniform', sampler: 'euler', steps: 20, denoise: 0.6 });
    const key = 'shift=3 steps=20 denoise=0.6 sgm_uniform (computed with 33 steps, last 21 kept)';
    expect(Array.from(denoised)).toEqual(reference[key].values);
  });

  it('rejects unknown names with the list of valid ones', () => {
    expect(() => calculateSigmas(createFlowModelSampling(3), 'fancy', 4)).toThrow(/unknown scheduler 'fancy'; valid: simple, sgm_uniform/);
  });
});

describe('KSampler step selection', () => {
  const ms = createFlowModelSampling(3);

  it('denoise < 1 and the discard-penultimate samplers', () => {
    for (const c of schedulers.ksampler) {
      const got = ksamplerSigmas(ms, { scheduler: c.scheduler, sampler: c.sampler, steps: c.steps, denoise: c.denoise });
      expect(toHex(got), `${c.sampler} ${c.scheduler} ${c.steps} ${c.denoise}`).toEqual(c.hex);
    }
  });

  it('KSamplerAdvanced start/end steps and leftover noise', () => {
    const base = ksamplerSigmas(ms, { scheduler: 'simple', sampler: 'euler', steps: 6 });
    for (const c of schedulers.advanced) {
      const got = applyStepRange(base, { startStep: c.start_at_step, lastStep: c.end_at_step, forceFullDenoise: !c.return_with_leftover_noise });
      expect(got === null ? null : toHex(got), JSON.stringify(c)).toEqual(c.hex);
    }
  });

  it('unknown scheduler names fall back to simple, as the KSampler class does', () => {
    expect(ksamplerSigmas(ms, { scheduler: 'nope', sampler: 'euler', steps: 4 })).toEqual(calculateSigmas(ms, 'simple', 4));
  });
});
