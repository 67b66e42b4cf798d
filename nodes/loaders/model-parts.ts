/**
 * Text encoders and VAEs as model-manager parts (the MMDiT's is nodes/models/mmdit-part.ts): the
 * key names file + key prefix + precision, so two loaders naming the same weights share one load.
 *
 *   const lease = await modelStoreOf(env).acquire(textEncoderPart({ kind: 'clip_l', path, prefix: '' }, 'fp32'));
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { loadClip, loadT5, type TextEncoder, type TextEncoderKind } from '../../engine/models/text-encoder-runner.js';
import { loadVae, type Vae } from '../../engine/models/vae-runner.js';
import { openSafetensors } from '../../engine/safetensors.js';
import type { EncoderPrecision } from '../../engine/models/component-weights.js';
import type { ModelPartSpec, ModelStore } from '../node-api.js';

/** Where one encoder's weights are: a file and the key prefix inside it. */
export interface EncoderLocation {
  readonly kind: TextEncoderKind;
  readonly path: string;
  readonly prefix: string;
}

export interface VaeLocation {
  readonly path: string;
  readonly prefix: string;
}

/** The store's text-encoder policy for one encoder ('auto': CLIP fp32, T5 fp8). */
export function encoderPrecision(store: ModelStore, kind: TextEncoderKind): EncoderPrecision {
  const policy = store.precision.textEncoder;
  if (policy !== 'auto') return policy;
  return kind === 't5xxl' ? 'fp8' : 'fp32';
}

/** Stored bytes of the tensors under `prefix` (what a float32 / FP8 cache roughly holds). */
function bytesUnder(file: string, prefix: string, perElement?: number): number {
  const f = openSafetensors(file);
  try {
    let total = 0;
    for (const key of f.keys()) {
      if (!key.startsWith(prefix)) continue;
      const info = f.info(key);
      total += perElement === undefined ? info.byteLength : info.shape.reduce((a, b) => a * b, 1) * perElement;
    }
    return total;
  } finally {
    f.close();
  }
}

export function textEncoderPart(at: EncoderLocation, precision: EncoderPrecision): ModelPartSpec<TextEncoder> {
  const file = path.resolve(at.path);
  return {
    key: JSON.stringify({ part: 'text_encoder', kind: at.kind, path: file, prefix: at.prefix, precision }),
    label: `${at.kind} ${path.basename(file)}${at.prefix ? ` [${at.prefix}]` : ''} (${precision})`,
    async load() {
      const encoder = at.kind === 't5xxl' ? await loadT5(file, { prefix: at.prefix, precision }) : await loadClip(file, { kind: at.kind, prefix: at.prefix, precision });
      return { value: encoder, bytes: statSync(encoder.cache.path).size, release: () => encoder.release() };
    },
  };
}

export function vaePart(at: VaeLocation): ModelPartSpec<Vae> {
  const file = path.resolve(at.path);
  return {
    key: JSON.stringify({ part: 'vae', path: file, prefix: at.prefix, precision: 'fp32' }),
    label: `vae ${path.basename(file)}${at.prefix ? ` [${at.prefix}]` : ''} (fp32)`,
    async load() {
      const vae = await loadVae(file, { prefix: at.prefix });
      // The encoder/decoder sessions are built on first use; count the float32 weights they hold.
      return { value: vae, bytes: bytesUnder(file, at.prefix, 4), release: () => vae.release() };
    },
  };
}
