/**
 * A Brownian-motion noise source for the SDE samplers (dpmpp_sde, dpmpp_2m_sde, dpmpp_3m_sde), in
 * the role of ComfyUI's BrownianTreeNoiseSampler: a query for the step σ → σ' returns
 * (W(σ') − W(σ)) / √|σ' − σ| for one Brownian path W on [σ_min, σ_max], so overlapping queries
 * (dpmpp_sde asks for σ→σ_mid, then σ→σ_next) get correctly correlated noise.
 *
 * Not bit-identical to ComfyUI: torchsde builds its tree from its own PRNG (seeded by the KSampler
 * seed) and bisects to each query time; here W is refined lazily by Brownian-bridge draws from the
 * given normal source, in query order. The statistics are the same, the numbers are not.
 */
import type { NoiseInterval, NoiseSource } from './samplers/types.js';

interface PathPoint {
  t: number;
  w: Float64Array;
}

export function createBrownianNoiseSource(normal: NoiseSource, sigmaMin: number, sigmaMax: number): NoiseSource {
  if (!(sigmaMax > sigmaMin)) throw new Error(`brownian noise: need sigmaMin < sigmaMax, got ${sigmaMin}, ${sigmaMax}`);
  let path: PathPoint[] | null = null;
  const interval: NoiseInterval = { sigma: sigmaMax, sigmaNext: sigmaMin };

  const valueAt = (shape: readonly number[], t: number): Float64Array => {
    if (path === null) {
      const z = normal(shape, interval);
      const scale = Math.sqrt(sigmaMax - sigmaMin);
      path = [
        { t: sigmaMin, w: new Float64Array(z.length) },
        { t: sigmaMax, w: Float64Array.from(z, (v) => v * scale) },
      ];
    }
    const clamped = Math.min(Math.max(t, sigmaMin), sigmaMax);
    const right = path.findIndex((p) => p.t >= clamped);
    if (path[right].t === clamped) return path[right].w;
    const a = path[right - 1];
    const b = path[right];
    const z = normal(shape, interval);
    const frac = (clamped - a.t) / (b.t - a.t);
    const spread = Math.sqrt(((clamped - a.t) * (b.t - clamped)) / (b.t - a.t));
    const w = a.w.map((wa, i) => wa + frac * (b.w[i] - wa) + spread * z[i]);
    path.splice(right, 0, { t: clamped, w });
    return w;
  };

  return (shape, { sigma, sigmaNext }) => {
    const lo = Math.min(sigma, sigmaNext);
    const hi = Math.max(sigma, sigmaNext);
    const wLo = valueAt(shape, lo);
    const wHi = valueAt(shape, hi);
    const sign = sigmaNext >= sigma ? 1 : -1;
    const norm = Math.sqrt(Math.abs(hi - lo));
    return Float32Array.from(wHi, (v, i) => (sign * (v - wLo[i])) / norm);
  };
}
