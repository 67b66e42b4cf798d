/**
 * What a plugin node's inputs go through before it runs, and the NaN/Inf scan of its outputs.
 *
 * The FP16 guard: a node that does not declare `ACCEPTS_FP8 = true` never sees an FP8 tensor;
 * each one — passed directly, inside a LATENT dict, inside CONDITIONING pairs or inside lists —
 * is cast to float16 (exact: every FP8 value is a float16 value). A node declaring
 * `REQUIRES_FP32 = true` gets every float16/bfloat16/FP8 tensor as float32.
 *
 * Input protection: typed arrays cannot be frozen, so a plugin gets copies of the tensors (and
 * of the plain lists/dicts holding them) it is given; whatever it does to them, the cached values
 * other nodes read stay intact. A tensor the guard casts is already new and is not copied again.
 * With `copy: false` and nothing to cast, the very same objects pass through (no allocation).
 */
import { castTensor } from '../../engine/dtypes.js';
import { isFp8DType, isTensor, type DType, type Tensor } from '../../engine/tensor.js';
import type { InputTypes } from '../node-api.js';

/**
 * Input types that are handles to loaded models, not data: passed as they are (never copied,
 * never cast — a LoRA node must get the FP8 model, not a float16 copy of its weights).
 */
export const HANDLE_TYPES: ReadonlySet<string> = new Set([
  'MODEL', 'CLIP', 'VAE', 'CLIP_VISION', 'CONTROL_NET', 'STYLE_MODEL', 'GLIGEN', 'UPSCALE_MODEL',
  'LATENT_UPSCALE_MODEL', 'MODEL_PATCH', 'AUDIO_ENCODER', 'HOOKS', 'PHOTOMAKER',
]);

export interface PrepareOptions {
  acceptsFp8: boolean;
  requiresFp32: boolean;
  /** Copy tensors and plain containers (input protection). */
  copy: boolean;
  /** Told about every cast (the loader logs it at debug level). */
  onCast?: (from: DType, to: DType, shape: readonly number[]) => void;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function targetDType(dtype: DType, opts: PrepareOptions): DType | null {
  if (opts.requiresFp32 && (dtype === 'float16' || dtype === 'bfloat16' || isFp8DType(dtype))) return 'float32';
  if (!opts.acceptsFp8 && isFp8DType(dtype)) return 'float16';
  return null;
}

function prepareTensor(t: Tensor, opts: PrepareOptions): Tensor {
  const to = targetDType(t.dtype, opts);
  if (to) {
    opts.onCast?.(t.dtype, to, t.shape);
    return castTensor(t, to);
  }
  if (!opts.copy) return t;
  return { ...t, shape: [...t.shape], data: t.data.slice() } as Tensor;
}

/**
 * The value a plugin receives: cast and/or copied as described at the top of this file. Class
 * instances (model handles, blockers) pass through untouched: they are not plain data.
 */
export function prepareValue<T>(value: T, opts: PrepareOptions): T {
  if (isTensor(value)) return prepareTensor(value, opts) as T;
  if (Array.isArray(value)) {
    let changed = opts.copy;
    const out = value.map((v) => {
      const p = prepareValue(v, opts);
      if (p !== v) changed = true;
      return p;
    });
    return (changed ? out : value) as T;
  }
  if (isPlainObject(value)) {
    let changed = opts.copy;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prepareValue(v, opts);
      if (p !== v) changed = true;
      out[k] = p;
    }
    return (changed ? out : value) as T;
  }
  return value;
}

/** prepareValue for each input, except inputs declared with a HANDLE_TYPES type. */
export function prepareInputs(inputs: Record<string, unknown>, types: InputTypes, opts: PrepareOptions): Record<string, unknown> {
  const declared = { ...types.optional, ...types.required };
  let changed = opts.copy;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inputs)) {
    const type = declared[name]?.[0];
    const prepared = typeof type === 'string' && HANDLE_TYPES.has(type) ? value : prepareValue(value, opts);
    if (prepared !== value) changed = true;
    out[name] = prepared;
  }
  return changed ? out : inputs;
}

function nonFiniteIndex(t: Tensor): number {
  const d = t.data;
  switch (t.dtype) {
    case 'float32':
      for (let i = 0; i < d.length; i++) if (!Number.isFinite((d as Float32Array)[i])) return i;
      return -1;
    case 'float16':
      for (let i = 0; i < d.length; i++) if (((d as Uint16Array)[i] & 0x7c00) === 0x7c00) return i;
      return -1;
    case 'bfloat16':
      for (let i = 0; i < d.length; i++) if (((d as Uint16Array)[i] & 0x7f80) === 0x7f80) return i;
      return -1;
    case 'float8_e4m3fn':
      for (let i = 0; i < d.length; i++) if (((d as Uint8Array)[i] & 0x7f) === 0x7f) return i;
      return -1;
    case 'float8_e5m2':
      for (let i = 0; i < d.length; i++) if (((d as Uint8Array)[i] & 0x7c) === 0x7c) return i;
      return -1;
    default:
      return -1;
  }
}

/**
 * Where the first NaN/±Inf in a value is (`"samples[12]"`, `"[0][0][3]"`), or null. Walks tensors,
 * numbers, lists and plain dicts.
 */
export function findNonFinite(value: unknown, at = ''): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${at || 'value'} = ${value}`;
  if (isTensor(value)) {
    const i = nonFiniteIndex(value);
    return i < 0 ? null : `${at || 'tensor'} element ${i} of ${value.dtype} [${value.shape.join(', ')}]`;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonFinite(value[i], `${at}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const found = findNonFinite(v, at ? `${at}.${k}` : k);
      if (found) return found;
    }
  }
  return null;
}
