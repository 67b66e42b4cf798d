/**
 * CLIP values: what the CLIP loaders return and CLIPTextEncode consumes (ComfyUI's `CLIP` object
 * for SD3: up to three encoders plus their tokenizers). A handle names model-manager parts; the
 * encoders are loaded by the loader node (so broken files fail there) and leased while encoding.
 *
 *   const cond = await encodeSd3Text(handle, { clipL: t, clipG: t, t5xxl: t }, 'empty_prompt', ctx.env);
 */
import { encodeSd3, tokenizeSd3Separate, type EmptyPadding, type Sd3Encoders, type Sd3Tokenizers } from '../../engine/conditioning/sd3.js';
import type { TextEncoder } from '../../engine/models/text-encoder-runner.js';
import { createClipTokenizer, createT5Tokenizer, type TokenizeOptions } from '../../engine/tokenizers/index.js';
import { modelStoreOf } from '../models/model-manager.js';
import type { ModelLease, ModelPartSpec, NodeEnvironment } from '../node-api.js';
import type { Sd3EncoderSet } from '../loaders/detect.js';
import { encoderPrecision, textEncoderPart } from '../loaders/model-parts.js';
import type { Conditioning } from '../sampling/conditioning.js';
import { embeddingLookupFor } from './embeddings.js';

export interface ClipHandle {
  readonly kind: 'sd3_clip';
  readonly parts: { readonly clipL?: ModelPartSpec<TextEncoder>; readonly clipG?: ModelPartSpec<TextEncoder>; readonly t5?: ModelPartSpec<TextEncoder> };
  /** The MMDiT context width the conditioning is padded to (4096 for the released models). */
  readonly contextWidth: number;
  /** Pooled widths; an absent encoder's part of `pooled_output` is this many zeros. */
  readonly clipLWidth: number;
  readonly clipGWidth: number;
  readonly t5Width: number;
  /** Hidden widths by ComfyUI's embedding key: what a textual-inversion vector must match. */
  readonly encoderWidths: Readonly<Record<'clip_l' | 'clip_g' | 't5xxl', number>>;
}

const SD3_CONTEXT = 4096;

/**
 * ComfyUI pads SD3 conditioning to T5-XXL's 4096 channels. Smaller (demo) models have no such
 * constant: their context is as wide as the widest of CLIP-L ‖ CLIP-G and T5.
 */
function contextWidthOf(set: Sd3EncoderSet): number {
  const lg = (set.clipL?.width ?? 0) + (set.clipG?.width ?? 0);
  const real = set.clipL?.width === 768 || set.clipG?.width === 1280 || set.t5?.width === SD3_CONTEXT;
  return real ? SD3_CONTEXT : Math.max(lg, set.t5?.width ?? 0);
}

export function createClipHandle(set: Sd3EncoderSet, env: NodeEnvironment): ClipHandle {
  const store = modelStoreOf(env);
  const part = (at: NonNullable<Sd3EncoderSet['clipL' | 'clipG' | 't5']>) => textEncoderPart(at, encoderPrecision(store, at.kind));
  return Object.freeze({
    kind: 'sd3_clip' as const,
    parts: Object.freeze({ clipL: set.clipL && part(set.clipL), clipG: set.clipG && part(set.clipG), t5: set.t5 && part(set.t5) }),
    contextWidth: contextWidthOf(set),
    clipLWidth: set.clipL?.pooledWidth ?? 768,
    clipGWidth: set.clipG?.pooledWidth ?? 1280,
    t5Width: set.t5?.width ?? SD3_CONTEXT,
    encoderWidths: Object.freeze({ clip_l: set.clipL?.width ?? 768, clip_g: set.clipG?.width ?? 1280, t5xxl: set.t5?.width ?? SD3_CONTEXT }),
  });
}

export function requireClip(value: unknown, input = 'clip'): ClipHandle {
  if (value === null || value === undefined) {
    throw new Error(`ERROR: clip input is invalid: None\n\nIf the clip is from a checkpoint loader node your checkpoint does not contain a valid clip or text encoder model.`);
  }
  if (typeof value !== 'object' || (value as ClipHandle).kind !== 'sd3_clip') throw new Error(`input '${input}' is not a CLIP loaded by this server (CheckpointLoaderSimple, CLIPLoader, DualCLIPLoader, TripleCLIPLoader)`);
  return value as ClipHandle;
}

/** Leases every encoder of the handle (loading those not resident); release them when done. */
export async function acquireEncoders(handle: ClipHandle, env: NodeEnvironment): Promise<{ encoders: Sd3Encoders; release(): void }> {
  const store = modelStoreOf(env);
  const leases: ModelLease<TextEncoder>[] = [];
  const encoders: Sd3Encoders = {};
  try {
    for (const name of ['clipL', 'clipG', 't5'] as const) {
      const spec = handle.parts[name];
      if (!spec) continue;
      const lease = await store.acquire(spec);
      leases.push(lease);
      encoders[name] = lease.value;
    }
  } catch (error) {
    leases.forEach((l) => l.release());
    throw error;
  }
  return { encoders, release: () => leases.forEach((l) => l.release()) };
}

export function sd3Tokenizers(handle: ClipHandle): Sd3Tokenizers {
  const w = handle.encoderWidths;
  return { clipL: createClipTokenizer('clip_l', { embeddingSize: w.clip_l }), clipG: createClipTokenizer('clip_g', { embeddingSize: w.clip_g }), t5: createT5Tokenizer({ embeddingSize: w.t5xxl }) };
}

export interface Sd3Texts {
  clipL: string;
  clipG: string;
  t5xxl: string;
}

/** Tokenizes and encodes one prompt per encoder → ComfyUI's `[[cond, {pooled_output}]]`. */
export async function encodeSd3Text(handle: ClipHandle, texts: Sd3Texts, emptyPadding: EmptyPadding, env: NodeEnvironment): Promise<Conditioning> {
  const opts: TokenizeOptions = { embeddings: embeddingLookupFor(env), warn: (m) => env.log.warn(m) };
  const tokens = tokenizeSd3Separate(sd3Tokenizers(handle), texts, emptyPadding, opts);
  const { encoders, release } = await acquireEncoders(handle, env);
  try {
    const cond = await encodeSd3(encoders, tokens, { contextWidth: handle.contextWidth, clipLWidth: handle.clipLWidth, clipGWidth: handle.clipGWidth });
    return [[cond.context, { pooled_output: cond.pooled }]];
  } finally {
    release();
  }
}
