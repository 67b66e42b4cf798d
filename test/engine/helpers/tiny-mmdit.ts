/**
 * Rebuilds the tiny MMDiT checkpoints of tools/gen-mmdit-golden.py from the same counter-based
 * hash (the weights are not committed), and reads the torch goldens it wrote. The manifest holds
 * the sha256 of each checkpoint Python wrote; `writeTinyCheckpoint` returns ours to compare.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expectedMmditShapes, type MmditConfig } from '../../../engine/arch/mmdit-config.js';
import { encodeFromFloat32 } from '../../../engine/dtypes.js';
import { quantizeFp8 } from '../../../engine/quantize.js';
import { encodeSafetensors, openSafetensors } from '../../../engine/safetensors.js';
import type { Tensor } from '../../../engine/tensor.js';

export const MMDIT_GOLDEN_DIR = fileURLToPath(new URL('../../golden/mmdit/', import.meta.url));

export interface TinyVariant {
  name: string;
  storage: 'f16' | 'bf16' | 'fp8';
  hidden: number;
  blocks: number;
  context_in: number;
  adm_in: number;
  pos_max: number;
  qk_norm: boolean;
  dual: number[];
  vae_key: boolean;
  params: number;
  checkpoint_sha256: string;
  golden: string;
  cases: string[];
}

export interface TinyManifest {
  prefix: string;
  variants: TinyVariant[];
}

export const manifest: TinyManifest = JSON.parse(readFileSync(MMDIT_GOLDEN_DIR + 'manifest.json', 'utf8')) as TinyManifest;

export function variant(name: string): TinyVariant {
  const v = manifest.variants.find((x) => x.name === name);
  if (!v) throw new Error(`no tiny variant '${name}'; have ${manifest.variants.map((x) => x.name).join(', ')}`);
  return v;
}

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** Same values as the script's hash_uniform: exact float32 in [-1, 1). */
export function hashUniform(tag: string, n: number): Float32Array {
  const seed = fnv1a32(tag);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let x = (seed ^ Math.imul(i, 0x9e3779b9)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b) >>> 0;
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35) >>> 0;
    x ^= x >>> 16;
    out[i] = ((x >>> 8) - 2 ** 23) * 2 ** -23;
  }
  return out;
}

function valueKind(key: string): { amp: number; offset: number } {
  if (key.endsWith('.ln_q.weight') || key.endsWith('.ln_k.weight')) return { amp: 2 ** -2, offset: 1 };
  if (key.endsWith('pos_embed')) return { amp: 2 ** -1, offset: 0 };
  if (key.endsWith('.bias')) return { amp: 2 ** -4, offset: 0 };
  if (key.includes('adaLN_modulation')) return { amp: 2 ** -2, offset: 0 };
  return { amp: 2 ** -3, offset: 0 };
}

function makeValue(tag: string, key: string, n: number): Float32Array {
  const { amp, offset } = valueKind(key);
  return hashUniform(`${tag}:${key}`, n).map((u) => Math.fround(u * amp + offset));
}

function isFp8Layer(key: string): boolean {
  if (!key.endsWith('.weight')) return false;
  if (key === 'context_embedder.weight') return true;
  return key.includes('joint_blocks.') && !key.endsWith('ln_q.weight') && !key.endsWith('ln_k.weight');
}

/** The MmditConfig the variant should be detected as. */
export function tinyConfig(v: TinyVariant): MmditConfig {
  return {
    keyFormat: 'original',
    prefix: manifest.prefix,
    hiddenSize: v.hidden,
    numHeads: v.hidden / 64,
    headDim: 64,
    depth: v.blocks,
    patchSize: 2,
    inChannels: 16,
    outChannels: 16,
    posEmbedMaxSize: v.pos_max,
    contextInChannels: v.context_in,
    admInChannels: v.adm_in,
    mlpHiddenSize: 4 * v.hidden,
    qkNorm: v.qk_norm ? 'rms' : null,
    dualAttentionBlocks: v.dual,
    preOnlyLastContextBlock: true,
  };
}

/** The checkpoint's tensors (keys with prefix), in the variant's storage dtypes. */
export function tinyTensors(v: TinyVariant): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const P = manifest.prefix;
  for (const [key, shape] of expectedMmditShapes(tinyConfig(v))) {
    const values = makeValue(v.name, key, shape.reduce((a, b) => a * b, 1));
    const f32: Tensor<'float32'> = { dtype: 'float32', shape, data: values };
    if (v.storage === 'fp8' && isFp8Layer(key)) {
      const q = quantizeFp8(f32, { format: 'float8_e4m3fn', granularity: 'tensor' });
      out[P + key] = q.weight;
      out[P + key.replace(/weight$/, 'scale_weight')] = q.scale;
    } else {
      const dtype = v.storage === 'bf16' ? 'bfloat16' : 'float16';
      out[P + key] = { dtype, shape, data: encodeFromFloat32(values, dtype) };
    }
  }
  if (v.storage === 'fp8') out[P + 'scaled_fp8'] = { dtype: 'float8_e4m3fn', shape: [0], data: new Uint8Array(0) };
  if (v.vae_key) out['first_stage_model.decoder.conv_in.bias'] = { dtype: 'float16', shape: [4], data: new Uint16Array(4).fill(0x3c00) };
  return out;
}

/** The checkpoint's bytes and sha256 (to compare with the manifest's). */
export function tinyCheckpointBytes(v: TinyVariant): { bytes: Buffer; sha256: string } {
  const bytes = encodeSafetensors(tinyTensors(v));
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Golden tensors of a variant: `<case>/<stage>` and `timestep_freqs`. */
export function readGolden(v: TinyVariant): Map<string, Tensor<'float32'>> {
  const file = openSafetensors(MMDIT_GOLDEN_DIR + v.golden);
  try {
    return new Map(file.keys().map((k) => [k, file.readFloat32(k)]));
  } finally {
    file.close();
  }
}

export interface Diff {
  relL2: number;
  maxAbs: number;
}

export function diff(actual: Tensor, expected: Tensor): Diff {
  const a = actual.data as Float32Array;
  const e = expected.data as Float32Array;
  if (actual.shape.join(',') !== expected.shape.join(',')) {
    throw new Error(`shape [${actual.shape.join(', ')}] differs from expected [${expected.shape.join(', ')}]`);
  }
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  for (let i = 0; i < e.length; i++) {
    const d = a[i] - e[i];
    num += d * d;
    den += e[i] * e[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
    if (Number.isNaN(d)) return { relL2: NaN, maxAbs: NaN };
  }
  return { relL2: Math.sqrt(num / den), maxAbs };
}
