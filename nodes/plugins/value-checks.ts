/**
 * Does a value look like the ComfyUI type it is declared as? Returns a problem description or
 * null. Types without a rule here (MODEL, CLIP, custom types, `*`, combos) are not checked.
 *
 * IMAGE float32 [B,H,W,C] in 0..1 · MASK float32 [B,H,W] · LATENT {samples: float tensor} ·
 * INT integer · FLOAT number · STRING · BOOLEAN · CONDITIONING list of [Tensor, dict] pairs.
 */
import { isFloatDType, isTensor, type Tensor } from '../../engine/tensor.js';
import { describe } from './declaration.js';

export interface CheckOptions {
  /** Scan IMAGE/MASK elements for the 0..1 range (outputs; inputs only get the shape check). */
  checkRange: boolean;
}

function shapeText(t: Tensor): string {
  return `${t.dtype} [${t.shape.join(', ')}]`;
}

function outOfUnitRange(t: Tensor<'float32'>): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    // NaN is left to the NaN policy.
    if (v < 0 || v > 1) return i;
  }
  return -1;
}

function checkPixels(value: unknown, type: 'IMAGE' | 'MASK', opts: CheckOptions): string | null {
  const rank = type === 'IMAGE' ? 4 : 3;
  const layout = type === 'IMAGE' ? '[B, H, W, C]' : '[B, H, W]';
  if (!isTensor(value)) return `${type} must be a float32 tensor ${layout}, got ${describe(value)}`;
  if (value.dtype !== 'float32' || value.shape.length !== rank) return `${type} must be a float32 tensor ${layout}, got ${shapeText(value)}`;
  if (opts.checkRange) {
    const i = outOfUnitRange(value as Tensor<'float32'>);
    if (i >= 0) return `${type} values must lie in 0..1 (clamp them), got ${(value.data as Float32Array)[i]} at element ${i}`;
  }
  return null;
}

function checkLatent(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `LATENT must be a dict with 'samples', got ${describe(value)}`;
  const samples = (value as { samples?: unknown }).samples;
  if (!isTensor(samples)) return `LATENT.samples must be a tensor [B, C, H, W], got ${describe(samples)}`;
  if (!isFloatDType(samples.dtype) || samples.shape.length < 3) return `LATENT.samples must be a float tensor [B, C, H, W], got ${shapeText(samples)}`;
  return null;
}

function checkConditioning(value: unknown): string | null {
  if (!Array.isArray(value)) return `CONDITIONING must be a list of [cond tensor, options dict] pairs, got ${describe(value)}`;
  for (let i = 0; i < value.length; i++) {
    const pair = value[i] as unknown;
    if (!Array.isArray(pair) || pair.length !== 2) return `CONDITIONING[${i}] must be a [cond tensor, options dict] pair, got ${describe(pair)}`;
    if (!isTensor(pair[0])) return `CONDITIONING[${i}][0] must be a tensor [B, T, D], got ${describe(pair[0])}`;
    if (typeof pair[1] !== 'object' || pair[1] === null || Array.isArray(pair[1])) return `CONDITIONING[${i}][1] must be an options dict, got ${describe(pair[1])}`;
  }
  return null;
}

type Rule = (value: unknown, opts: CheckOptions) => string | null;

const RULES: Record<string, Rule> = {
  IMAGE: (v, o) => checkPixels(v, 'IMAGE', o),
  MASK: (v, o) => checkPixels(v, 'MASK', o),
  LATENT: (v) => checkLatent(v),
  CONDITIONING: (v) => checkConditioning(v),
  INT: (v) => (typeof v === 'number' && Number.isInteger(v) ? null : `INT must be an integer number, got ${describe(v)}`),
  FLOAT: (v) => (typeof v === 'number' ? null : `FLOAT must be a number, got ${describe(v)}`),
  STRING: (v) => (typeof v === 'string' ? null : `STRING must be a string, got ${describe(v)}`),
  BOOLEAN: (v) => (typeof v === 'boolean' ? null : `BOOLEAN must be true or false, got ${describe(v)}`),
};

/** The problem with `value` as a `type`, or null (also null for types without a rule). */
export function checkValue(type: unknown, value: unknown, opts: CheckOptions): string | null {
  if (typeof type !== 'string') return null;
  const rule = RULES[type];
  return rule ? rule(value, opts) : null;
}
