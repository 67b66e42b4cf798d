/**
 * Which SD3 text encoders a file holds (spec/sd3-engine.md §1.2, §3.6) and loading them together.
 *
 *   const found = detectSd3TextEncoders('sd3.5_large_fp8_scaled.safetensors'); // {clipL: true, clipG: true, t5: true, …}
 *   const encoders = await loadSd3TextEncoders(['clip_l.safetensors', 'clip_g.safetensors', 't5xxl_fp16.safetensors']);
 */
import { basename } from 'node:path';
import { openSafetensors } from '../safetensors.js';
import type { DType } from '../tensor.js';
import type { Sd3Encoders } from '../conditioning/sd3.js';
import { loadClip, loadT5, type TextEncoderKind, type TextEncoderOptions } from './text-encoder-runner.js';

export interface Sd3TextEncoderPresence {
  clipL: boolean;
  clipG: boolean;
  t5: boolean;
  /** dtype of the T5 final_layer_norm weight (ComfyUI's "dtype_t5"). */
  t5Dtype?: DType;
  /** `text_encoders.t5xxl.transformer.scaled_fp8` present. */
  t5ScaledFp8: boolean;
}

const CKPT = (name: string) => `text_encoders.${name}.transformer.`;

/** ComfyUI's probes of an all-in-one checkpoint. */
export function detectSd3TextEncoders(path: string): Sd3TextEncoderPresence {
  const file = openSafetensors(path);
  try {
    const t5Norm = `${CKPT('t5xxl')}encoder.final_layer_norm.weight`;
    return {
      clipL: file.has(`${CKPT('clip_l')}text_model.final_layer_norm.weight`),
      clipG: file.has(`${CKPT('clip_g')}text_model.final_layer_norm.weight`),
      t5: file.has(t5Norm),
      t5Dtype: file.has(t5Norm) ? file.info(t5Norm).dtype : undefined,
      t5ScaledFp8: file.has(`${CKPT('t5xxl')}scaled_fp8`),
    };
  } finally {
    file.close();
  }
}

/**
 * The kind of a standalone text-encoder file: ComfyUI's rules (layers.30 → CLIP-G, layers.1 →
 * CLIP-L, a T5 encoder block) with fallbacks for smaller files: width above 768, or failing that a
 * file name containing 'clip_g', means CLIP-G. Undefined when it is none of them.
 */
export function detectTextEncoderFileKind(path: string): TextEncoderKind | undefined {
  const file = openSafetensors(path);
  try {
    if (file.has('encoder.final_layer_norm.weight') && file.has('encoder.block.0.layer.0.SelfAttention.q.weight')) return 't5xxl';
    if (file.has('text_model.encoder.layers.30.mlp.fc1.weight')) return 'clip_g';
    if (!file.has('text_model.final_layer_norm.weight')) return undefined;
    const width = file.info('text_model.final_layer_norm.weight').shape[0];
    return width > 768 || /clip_g/i.test(basename(path)) ? 'clip_g' : 'clip_l';
  } finally {
    file.close();
  }
}

/** Loads every SD3 text encoder found in `paths` (standalone files and/or one checkpoint). */
export async function loadSd3TextEncoders(paths: readonly string[], opts: { clip?: TextEncoderOptions; t5?: TextEncoderOptions } = {}): Promise<Sd3Encoders> {
  const out: Sd3Encoders = {};
  for (const p of paths) {
    const kind = detectTextEncoderFileKind(p);
    if (kind === 't5xxl') out.t5 ??= await loadT5(p, opts.t5);
    else if (kind === 'clip_l') out.clipL ??= await loadClip(p, { ...opts.clip, kind });
    else if (kind === 'clip_g') out.clipG ??= await loadClip(p, { ...opts.clip, kind });
    else {
      const found = detectSd3TextEncoders(p);
      if (found.clipL) out.clipL ??= await loadClip(p, { ...opts.clip, kind: 'clip_l' });
      if (found.clipG) out.clipG ??= await loadClip(p, { ...opts.clip, kind: 'clip_g' });
      if (found.t5) out.t5 ??= await loadT5(p, opts.t5);
    }
  }
  return out;
}
