/**
 * Which SD3 text encoders a file holds (spec/sd3-engine.md §1.2, §3.6) and loading them together.
 *
 *   const found = detectSd3TextEncoders('sd3.5_large_fp8_scaled.safetensors'); // {clipL: true, clipG: true, t5: true, …}
 *   const encoders = await loadSd3TextEncoders(['clip_l.safetensors', 'clip_g.safetensors', 't5xxl_fp16.safetensors']);
 */
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

interface StandaloneProbe {
  kind: 't5xxl' | 'clip' | undefined;
  width: number;
  comfyClipG: boolean;
}

function probeStandalone(path: string): StandaloneProbe {
  const file = openSafetensors(path);
  try {
    if (file.has('encoder.final_layer_norm.weight') && file.has('encoder.block.0.layer.0.SelfAttention.q.weight')) return { kind: 't5xxl', width: 0, comfyClipG: false };
    if (!file.has('text_model.final_layer_norm.weight')) return { kind: undefined, width: 0, comfyClipG: false };
    return { kind: 'clip', width: file.info('text_model.final_layer_norm.weight').shape[0], comfyClipG: file.has('text_model.encoder.layers.30.mlp.fc1.weight') };
  } finally {
    file.close();
  }
}

const CLIP_G_WIDTH = 1280;

/**
 * The kind of each standalone text-encoder file, from its weights only (never the file name): a T5
 * encoder block → t5xxl; of two CLIP towers the narrower is CLIP-L and the wider CLIP-G; a lone
 * tower is CLIP-G when ComfyUI's probe (layers.30) finds it or it is 1280 wide, else CLIP-L.
 * Undefined for a file that is none of them (e.g. an all-in-one checkpoint).
 */
export function detectTextEncoderKinds(paths: readonly string[]): (TextEncoderKind | undefined)[] {
  const probes = paths.map(probeStandalone);
  const clips = probes.filter((p) => p.kind === 'clip');
  const widths = clips.map((p) => p.width);
  const pair = clips.length === 2 && widths[0] !== widths[1];
  return probes.map((p) => {
    if (p.kind !== 'clip') return p.kind;
    if (pair) return p.width === Math.max(...widths) ? 'clip_g' : 'clip_l';
    return p.comfyClipG || p.width >= CLIP_G_WIDTH ? 'clip_g' : 'clip_l';
  });
}

/** One file's kind as detectTextEncoderKinds sees it alone. */
export function detectTextEncoderFileKind(path: string): TextEncoderKind | undefined {
  return detectTextEncoderKinds([path])[0];
}

/** Loads every SD3 text encoder found in `paths` (standalone files and/or one checkpoint). */
export async function loadSd3TextEncoders(paths: readonly string[], opts: { clip?: TextEncoderOptions; t5?: TextEncoderOptions } = {}): Promise<Sd3Encoders> {
  const out: Sd3Encoders = {};
  const kinds = detectTextEncoderKinds(paths);
  for (const [i, p] of paths.entries()) {
    const kind = kinds[i];
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
