/**
 * The toy flow model of tools/gen-sampling-golden.py, batched the way the engine's MMDiT callback is:
 * v = tanh(W·x + c + (t/1000)·u)·0.8 + 0.1·x per batch item (t = σ·1000), denoised = x − σ·v.
 */
import { readFileSync } from 'node:fs';
import type { BatchedModelFn } from '../../engine/sampling/cfg.js';
export { relL2 } from '../helpers/rel-l2.js';

export interface SamplerGolden {
  shape: number[];
  cfg: number;
  shift: number;
  W: number[];
  u: number[];
  cond: number[];
  uncond: number[];
  latent: number[];
  noise: number[];
  step_noise: number[];
  pipeline: {
    mask_rows: number[];
    cases: {
      name: string; sampler: string; scheduler: string; steps: number; denoise?: number; start?: number; end?: number;
      leftover?: boolean; empty?: boolean; masked?: boolean; add_noise?: boolean; input?: string; out: number[];
    }[];
  };
  runs: { sampler: string; sigmas_hex: string[]; noise_draws: number; model_calls: number; callback_steps: number[]; out: number[] }[];
}

export const loadSamplerGolden = (): SamplerGolden =>
  JSON.parse(readFileSync(new URL('../golden/sampling/samplers.json', import.meta.url), 'utf8'));

const fl = Math.fround;

export function toyModel(g: SamplerGolden, counter: { calls: number }): BatchedModelFn<Float32Array> {
  const n = g.u.length;
  const W = Float32Array.from(g.W);
  const u = Float32Array.from(g.u);
  return ({ x, sigma, conds }) => {
    counter.calls++;
    const out = new Float32Array(x.data.length);
    const s = fl(sigma);
    const tScaled = fl(fl(fl(s * 1000)) / 1000);
    conds.forEach((c, b) => {
      const item = x.data.subarray(b * n, (b + 1) * n);
      for (let r = 0; r < n; r++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += W[r * n + k] * item[k];
        const pre = fl(fl(fl(acc) + c[r]) + fl(tScaled * u[r]));
        const v = fl(fl(fl(Math.tanh(pre)) * fl(0.8)) + fl(fl(0.1) * item[r]));
        out[b * n + r] = fl(item[r] - fl(v * s));
      }
    });
    return out;
  };
}
