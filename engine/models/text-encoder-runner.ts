/**
 * Loads SD3's text encoders from a standalone file (clip_l.safetensors, clip_g.safetensors,
 * t5xxl_*.safetensors) or an all-in-one checkpoint (prefix `text_encoders.<name>.transformer.`,
 * found by probing), prepares a weight cache (component-weights.ts) and runs the ONNX graph
 * (engine/arch/clip.ts, t5.ts).
 *
 *   const clipL = await loadClip('models/clip/clip_l.safetensors', { kind: 'clip_l' });
 *   const { hidden, pooled } = await clipL.encode(createClipTokenizer('clip_l').tokenize('a cat'));
 *   // hidden [windows, 77, 768] (layer −2), pooled [windows, 768]
 *
 * `encode` takes token windows (ids + optional textual-inversion vectors; weights are ignored here —
 * engine/conditioning/sd3.ts applies them) or plain id lists.
 */
import * as path from 'node:path';
import { clipConfigFromShapes, clipWeightKeys, defineClip, type ClipActivation, type ClipConfig } from '../arch/clip.js';
import { defineT5, t5ConfigFromShapes, t5WeightKeys, type T5Config } from '../arch/t5.js';
import { GraphBuilder } from '../onnx/index.js';
import { createSession, type EngineSession, type SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import type { ClipKind } from '../tokenizers/clip-tokenizer.js';
import type { TokenWindow } from '../tokenizers/sd-tokenizer.js';
import { componentParams, ENCODER_PRECISIONS, openComponent, openComponentCache, type ComponentSource, type EncoderPrecision } from './component-weights.js';

export type TextEncoderKind = ClipKind | 't5xxl';

export interface TextEncoderOutput {
  /** [windows, L, width]: CLIP layer −2 (no final norm), T5 final hidden states. */
  hidden: Tensor<'float32'>;
  /** [windows, pooledWidth]: CLIP-L unprojected, CLIP-G projected; absent for T5. */
  pooled?: Tensor<'float32'>;
}

export interface TextEncoder {
  readonly kind: TextEncoderKind;
  readonly width: number;
  readonly pooledWidth?: number;
  readonly precision: EncoderPrecision;
  readonly cache: { path: string; reused: boolean };
  encode(windows: readonly (TokenWindow | readonly number[])[]): Promise<TextEncoderOutput>;
  release(): Promise<void>;
}

export interface TextEncoderOptions {
  /** 'fp32' (default for CLIP) or 'fp8' (default for T5): see component-weights.ts. */
  precision?: EncoderPrecision;
  /** Key prefix inside the file; default: probed ('' or text_encoders.<kind>.transformer.). */
  prefix?: string;
  /** Folder for the weight cache; default beside the file. */
  cacheDir?: string;
  session?: Omit<SessionOptions, 'externalDataFolder' | 'name'>;
}

export interface ClipOptions extends TextEncoderOptions {
  kind: ClipKind;
  /** Default: quick_gelu for clip_l, gelu for clip_g (ComfyUI's configs). */
  activation?: ClipActivation;
}

const PROBE: Record<TextEncoderKind, string> = {
  clip_l: 'text_model.final_layer_norm.weight',
  clip_g: 'text_model.final_layer_norm.weight',
  t5xxl: 'encoder.final_layer_norm.weight',
};

function openEncoderSource(paths: string | readonly string[], kind: TextEncoderKind, prefix?: string): ComponentSource {
  const candidates = prefix !== undefined ? [prefix] : ['', `text_encoders.${kind}.transformer.`, `text_encoders.${kind}.`];
  for (const candidate of candidates) {
    const src = openComponent(paths, candidate);
    if (src.has(PROBE[kind])) return src;
    src.close();
  }
  const list = typeof paths === 'string' ? [paths] : paths;
  throw new Error(`${list.map((p) => path.basename(p)).join(' + ')}: no ${kind} text encoder (looked for '${PROBE[kind]}' under prefixes ${candidates.map((c) => `'${c}'`).join(', ')})`);
}

function checkPrecision(precision: EncoderPrecision): void {
  if (!ENCODER_PRECISIONS.includes(precision)) throw new Error(`text encoder precision '${precision}'; valid: ${ENCODER_PRECISIONS.join(', ')}`);
}

async function buildSession(
  src: ComponentSource,
  tag: string,
  precision: EncoderPrecision,
  weights: { keys: string[]; linears: string[] },
  define: (g: GraphBuilder, params: ReturnType<typeof componentParams>) => void,
  opts: TextEncoderOptions,
): Promise<{ session: EngineSession; cache: { path: string; reused: boolean } }> {
  const quantizable = (stem: string) => stem.startsWith('text_model.encoder.layers.') || stem.startsWith('encoder.block.');
  const { file, reused } = openComponentCache(src, tag, { precision, ...weights, quantizable }, opts.cacheDir);
  try {
    const g = new GraphBuilder(tag);
    define(g, componentParams(g, file, path.basename(file.path)));
    const session = await createSession(g.toBytes(), { ...opts.session, name: `${tag}(${path.basename(src.paths[0])})`, externalDataFolder: path.dirname(file.path) });
    return { session, cache: { path: file.path, reused } };
  } finally {
    file.close();
  }
}

const idsOf = (w: TokenWindow | readonly number[]): number[] => w.map((t) => (typeof t === 'number' ? t : t.id));

function tokensTensor(windows: readonly (TokenWindow | readonly number[])[]): Tensor<'int64'> {
  const length = windows[0]?.length ?? 0;
  if (windows.some((w) => w.length !== length)) throw new Error(`text encoder: windows have different lengths (${windows.map((w) => w.length).join(', ')}); encode them separately`);
  const data = BigInt64Array.from(windows.flatMap((w) => idsOf(w)), (id) => BigInt(id));
  return { dtype: 'int64', shape: [windows.length, length], data };
}

/** Textual-inversion vectors of the windows as override values + mask. */
function overrides(windows: readonly (TokenWindow | readonly number[])[], width: number): { values: Tensor<'float32'>; mask: Tensor<'float32'> } {
  const length = windows[0].length;
  const values = new Float32Array(windows.length * length * width);
  const mask = new Float32Array(windows.length * length);
  windows.forEach((w, b) =>
    w.forEach((t, i) => {
      if (typeof t === 'number' || !t.embedding) return;
      values.set(t.embedding, (b * length + i) * width);
      mask[b * length + i] = 1;
    }),
  );
  return { values: { dtype: 'float32', shape: [windows.length, length, width], data: values }, mask: { dtype: 'float32', shape: [windows.length, length, 1], data: mask } };
}

export async function loadClip(paths: string | readonly string[], opts: ClipOptions): Promise<TextEncoder> {
  const precision = opts.precision ?? 'fp32';
  checkPrecision(precision);
  const src = openEncoderSource(paths, opts.kind, opts.prefix);
  let cfg: ClipConfig;
  let built: Awaited<ReturnType<typeof buildSession>>;
  try {
    cfg = clipConfigFromShapes(src.shapes, opts.activation ?? (opts.kind === 'clip_l' ? 'quick_gelu' : 'gelu'));
    if (opts.kind === 'clip_g' && cfg.projection === undefined) throw new Error(`${path.basename(src.paths[0])}: CLIP-G needs 'text_projection.weight' for its pooled output`);
    if (opts.kind === 'clip_l') cfg = { ...cfg, projection: undefined }; // SD3 uses CLIP-L's pooled output unprojected
    const c = cfg;
    built = await buildSession(src, opts.kind, precision, clipWeightKeys(c), (g, p) => defineClip(g, c, p), opts);
  } finally {
    src.close();
  }
  const { session, cache } = built;
  const pooledName = cfg.projection !== undefined ? 'pooled_projected' : 'pooled';
  return {
    kind: opts.kind,
    width: cfg.width,
    pooledWidth: cfg.projection ?? cfg.width,
    precision,
    cache,
    async encode(windows) {
      const tokens = tokensTensor(windows);
      const o = overrides(windows, cfg.width);
      const out = await session.run({ tokens, embed_override: o.values, override_mask: o.mask }, { outputs: ['hidden', pooledName] });
      return { hidden: out.hidden as Tensor<'float32'>, pooled: out[pooledName] as Tensor<'float32'> };
    },
    release: () => session.release(),
  };
}

export async function loadT5(paths: string | readonly string[], opts: TextEncoderOptions = {}): Promise<TextEncoder> {
  const precision = opts.precision ?? 'fp8';
  checkPrecision(precision);
  const src = openEncoderSource(paths, 't5xxl', opts.prefix);
  let cfg: T5Config;
  let built: Awaited<ReturnType<typeof buildSession>>;
  try {
    cfg = t5ConfigFromShapes(src.shapes);
    const c = cfg;
    built = await buildSession(src, 't5xxl', precision, t5WeightKeys(c), (g, p) => defineT5(g, c, p), opts);
  } finally {
    src.close();
  }
  const { session, cache } = built;
  return {
    kind: 't5xxl',
    width: cfg.dModel,
    precision,
    cache,
    async encode(windows) {
      if (windows.some((w) => w.some((t) => typeof t !== 'number' && t.embedding))) {
        throw new Error('T5 text encoder: textual-inversion embeddings are not supported for T5; remove embedding:… from the T5 prompt');
      }
      const out = await session.run({ tokens: tokensTensor(windows) });
      return { hidden: out.hidden as Tensor<'float32'> };
    },
    release: () => session.release(),
  };
}
