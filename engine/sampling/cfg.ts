/**
 * ComfyUI's guidance step (comfy/samplers.py `sampling_function` / `calc_cond_batch` / `cfg_function`)
 * for conds without areas or masks: per polarity, every active entry is run through the model and
 * the predictions are averaged by strength; then denoised = uncond + (cond − uncond)·cfg.
 *
 * Entries whose `batchKey` is equal (ComfyUI: equal tensor shapes, e.g. same context length) are
 * concatenated into one model call — cond and uncond share one batched call in the usual case.
 * Within a call the chunks come in ComfyUI's order (the runnable list reversed: uncond first).
 * With cfg ≈ 1 the negative is not evaluated at all.
 */
import type { Tensor } from '../tensor.js';
import type { DenoiseFn } from './samplers/types.js';
import { fl } from './torch-float32.js';

export interface CondEntry<C> {
  /** Opaque conditioning handed to the model callback (context, pooled vector, …). */
  readonly cond: C;
  /** Entries with equal keys can share one model call; omitted keys all compare equal. */
  readonly batchKey?: string;
  /** ConditioningSetAreaStrength's multiplier; default 1. */
  readonly strength?: number;
  /** Sigma bound from percent_to_sigma(start_percent): the entry is skipped while σ > timestepStart. */
  readonly timestepStart?: number;
  /** Sigma bound from percent_to_sigma(end_percent): the entry is skipped while σ < timestepEnd. */
  readonly timestepEnd?: number;
}

/** One batched model call: `x` holds `conds.length` copies of the latent batch, back to back. */
export interface ModelBatch<C> {
  readonly x: Tensor<'float32'>;
  readonly sigma: number;
  readonly conds: readonly C[];
}

/** The model: returns the denoised prediction (x0, CONST: x − σ·v) for the whole batch. */
export type BatchedModelFn<C> = (batch: ModelBatch<C>) => Float32Array;

const COND = 0;
const UNCOND = 1;

interface Runnable<C> {
  entry: CondEntry<C>;
  polarity: typeof COND | typeof UNCOND;
}

function isActive(entry: CondEntry<unknown>, sigma: number): boolean {
  if (entry.timestepStart !== undefined && sigma > fl(entry.timestepStart)) return false;
  if (entry.timestepEnd !== undefined && sigma < fl(entry.timestepEnd)) return false;
  return true;
}

/** calc_cond_batch: the strength-weighted mean prediction per polarity ([cond, uncond]). */
export function calcCondBatch<C>(model: BatchedModelFn<C>, conds: readonly (readonly CondEntry<C>[] | null)[], x: Tensor<'float32'>, sigma: number): Float32Array[] {
  const n = x.data.length;
  const sums = conds.map(() => new Float32Array(n));
  const counts = conds.map(() => new Float32Array(n).fill(fl(1e-37)));
  const toRun: Runnable<C>[] = [];
  conds.forEach((list, polarity) => list?.forEach((entry) => isActive(entry, sigma) && toRun.push({ entry, polarity: polarity as 0 | 1 })));
  while (toRun.length > 0) {
    const key = toRun[0].entry.batchKey;
    const picked = toRun.map((r, i) => ({ r, i })).filter(({ r }) => r.entry.batchKey === key).reverse();
    for (const { i } of picked) toRun.splice(i, 1);
    const input = new Float32Array(n * picked.length);
    picked.forEach((_, k) => input.set(x.data, k * n));
    const shape = [x.shape[0] * picked.length, ...x.shape.slice(1)];
    const out = model({ x: { dtype: 'float32', shape, data: input }, sigma, conds: picked.map(({ r }) => r.entry.cond) });
    if (out.length !== input.length) throw new Error(`cfg: model returned ${out.length} values for a batch of ${input.length}`);
    picked.forEach(({ r }, k) => {
      const mult = fl(r.entry.strength ?? 1);
      const sum = sums[r.polarity];
      const count = counts[r.polarity];
      for (let i = 0; i < n; i++) {
        sum[i] = fl(sum[i] + fl(out[k * n + i] * mult));
        count[i] = fl(count[i] + mult);
      }
    });
  }
  return sums.map((sum, p) => sum.map((v, i) => fl(v / counts[p][i])));
}

/** cfg_function without custom cfg hooks: uncond + (cond − uncond)·scale. */
export function cfgCombine(cond: Float32Array, uncond: Float32Array, scale: number): Float32Array {
  const s = fl(scale);
  return cond.map((c, i) => fl(uncond[i] + fl(fl(c - uncond[i]) * s)));
}

/** Relative tolerance of Python's math.isclose default. */
const isCloseToOne = (v: number): boolean => Math.abs(v - 1) <= 1e-9 * Math.max(Math.abs(v), 1);

/** sampling_function as a DenoiseFn for the samplers: guided x0 prediction at σ. */
export function cfgDenoiser<C>(model: BatchedModelFn<C>, positive: readonly CondEntry<C>[], negative: readonly CondEntry<C>[], cfg: number): DenoiseFn {
  const skipNegative = isCloseToOne(cfg);
  return (x, sigma) => {
    const [cond, uncond] = calcCondBatch(model, [positive, skipNegative ? null : negative], x, fl(sigma));
    return cfgCombine(cond, uncond, cfg);
  };
}
