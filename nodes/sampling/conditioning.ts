/**
 * CONDITIONING as ComfyUI passes it: a list of `[cond Tensor[B, T, D], {pooled_output?, start_percent?,
 * end_percent?, strength?, …}]`. This turns it into the engine's CFG entries (engine/sampling/cfg.ts)
 * and builds the MMDiT's context / pooled batches for one model call.
 */
import { percentToSigma, type FlowModelSampling } from '../../engine/sampling/model-sampling.js';
import type { CondEntry } from '../../engine/sampling/cfg.js';
import type { Tensor } from '../../engine/tensor.js';

export interface ConditioningOptions {
  pooled_output?: Tensor<'float32'> | null;
  start_percent?: number;
  end_percent?: number;
  strength?: number;
  [key: string]: unknown;
}

export type ConditioningEntry = readonly [Tensor<'float32'>, ConditioningOptions];
export type Conditioning = readonly ConditioningEntry[];

/** What the model callback receives per entry. */
export interface MmditCond {
  readonly context: Tensor<'float32'>; // [Bc, T, D]
  readonly pooled: Tensor<'float32'> | null; // [Bc, adm] or null (zeros, as ComfyUI's SD3 encode_adm)
}

function checkEntry(entry: unknown, input: string, index: number): ConditioningEntry {
  if (!Array.isArray(entry) || entry.length < 2) throw new Error(`${input}[${index}] is not a [tensor, options] conditioning entry`);
  const [cond, opts] = entry as [Tensor, ConditioningOptions];
  if (cond?.dtype !== 'float32' || cond.shape.length !== 3) throw new Error(`${input}[${index}]: the cond tensor must be float32 [B, T, D], got ${cond?.dtype} [${cond?.shape}]`);
  return [cond as Tensor<'float32'>, opts ?? {}];
}

/** ComfyUI's conds → CFG entries: timestep ranges via percent_to_sigma, batched by context length. */
export function toCondEntries(conditioning: unknown, ms: FlowModelSampling, input: string): CondEntry<MmditCond>[] {
  if (!Array.isArray(conditioning)) throw new Error(`input '${input}' is not a CONDITIONING list`);
  return conditioning.map((raw, i) => {
    const [context, opts] = checkEntry(raw, input, i);
    const pooled = opts.pooled_output ?? null;
    return {
      cond: { context, pooled },
      // ComfyUI concatenates conds whose tensors have equal shapes into one model call.
      batchKey: `${context.shape[1]}x${context.shape[2]}/${pooled?.shape[1] ?? 0}`,
      strength: opts.strength,
      timestepStart: opts.start_percent !== undefined ? percentToSigma(ms, opts.start_percent) : undefined,
      timestepEnd: opts.end_percent !== undefined ? percentToSigma(ms, opts.end_percent) : undefined,
    };
  });
}

/** Rows of `t` ([Bc, …]) repeated/cycled to `batch` rows (comfy.utils.repeat_to_batch_size). */
function rowsToBatch(t: Tensor<'float32'>, batch: number): Float32Array {
  const row = t.data.length / t.shape[0];
  const out = new Float32Array(row * batch);
  for (let b = 0; b < batch; b++) out.set(t.data.subarray((b % t.shape[0]) * row, ((b % t.shape[0]) + 1) * row), b * row);
  return out;
}

/** Context [n·B, T, D] and pooled [n·B, adm] for a model call over `conds` × a latent batch of B. */
export function batchConds(conds: readonly MmditCond[], latentBatch: number, admChannels: number): { context: Tensor<'float32'>; pooled: Tensor<'float32'> } {
  const [, tokens, dim] = conds[0].context.shape;
  const rows = conds.length * latentBatch;
  const context = new Float32Array(rows * tokens * dim);
  const pooled = new Float32Array(rows * admChannels);
  conds.forEach((c, k) => {
    context.set(rowsToBatch(c.context, latentBatch), k * latentBatch * tokens * dim);
    if (c.pooled) {
      if (c.pooled.shape[c.pooled.shape.length - 1] !== admChannels) {
        throw new Error(`pooled_output has ${c.pooled.shape[c.pooled.shape.length - 1]} channels; the model takes ${admChannels}`);
      }
      pooled.set(rowsToBatch(c.pooled, latentBatch), k * latentBatch * admChannels);
    }
  });
  return {
    context: { dtype: 'float32', shape: [rows, tokens, dim], data: context },
    pooled: { dtype: 'float32', shape: [rows, admChannels], data: pooled },
  };
}
