import { describe, expect, it } from 'vitest';
import { calcCondBatch, cfgDenoiser, type ModelBatch } from '../../engine/sampling/cfg.js';
import { createFlowModelSampling, percentToSigma } from '../../engine/sampling/model-sampling.js';

/** Each cond is a constant the "model" predicts everywhere; records every call's batch layout. */
function constantModel(calls: { sigma: number; conds: number[]; batch: number }[]) {
  return ({ x, sigma, conds }: ModelBatch<number>) => {
    calls.push({ sigma, conds: [...conds], batch: x.shape[0] });
    const item = x.data.length / conds.length;
    const out = new Float32Array(x.data.length);
    conds.forEach((c, k) => out.fill(c, k * item, (k + 1) * item));
    return out;
  };
}

const x = { dtype: 'float32' as const, shape: [1, 2, 1, 1], data: new Float32Array([0.5, -0.5]) };

describe('CFG denoiser', () => {
  it('batches cond and uncond into one call, uncond chunk first, and mixes uncond + (cond − uncond)·cfg', () => {
    const calls: { sigma: number; conds: number[]; batch: number }[] = [];
    const out = cfgDenoiser(constantModel(calls), [{ cond: 3 }], [{ cond: 1 }], 4)(x, 0.5);
    expect(Array.from(out)).toEqual([9, 9]);
    expect(calls).toEqual([{ sigma: 0.5, conds: [1, 3], batch: 2 }]);
  });

  it('runs different batch keys as separate calls', () => {
    const calls: { sigma: number; conds: number[]; batch: number }[] = [];
    cfgDenoiser(constantModel(calls), [{ cond: 3, batchKey: '77' }], [{ cond: 1, batchKey: '154' }], 2)(x, 0.5);
    expect(calls.map((c) => c.conds)).toEqual([[3], [1]]);
  });

  it('averages combined entries by strength (ConditioningCombine)', () => {
    const [cond] = calcCondBatch(constantModel([]), [[{ cond: 2 }, { cond: 8, strength: 3 }], null], x, 0.5);
    expect(cond[0]).toBeCloseTo((2 * 1 + 8 * 3) / 4, 6);
  });

  it('skips entries outside their timestep range; nothing left means a zero prediction', () => {
    const ms = createFlowModelSampling(3);
    const firstTenPercent = { cond: 5, timestepStart: percentToSigma(ms, 0), timestepEnd: percentToSigma(ms, 0.1) };
    const rest = { cond: 7, timestepStart: percentToSigma(ms, 0.1), timestepEnd: percentToSigma(ms, 1) };
    const early = calcCondBatch(constantModel([]), [[firstTenPercent, rest], null], x, 0.99)[0];
    const late = calcCondBatch(constantModel([]), [[firstTenPercent, rest], null], x, 0.5)[0];
    expect(early[0]).toBe(5);
    expect(late[0]).toBe(7);
    expect(calcCondBatch(constantModel([]), [[firstTenPercent], null], x, 0.5)[0][0]).toBe(0);
  });

  it('cfg 1 never evaluates the negative', () => {
    const calls: { sigma: number; conds: number[]; batch: number }[] = [];
    const out = cfgDenoiser(constantModel(calls), [{ cond: 3 }], [{ cond: 1 }], 1.0)(x, 0.5);
    expect(Array.from(out)).toEqual([3, 3]);
    expect(calls).toEqual([{ sigma: 0.5, conds: [3], batch: 1 }]);
  });
});
