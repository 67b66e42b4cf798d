/**
 * SD3 text conditioning as ComfyUI builds it (spec/sd3-engine.md §3.3, §3.9; comfy/sd3_clip.py
 * SD3Tokenizer / SD3ClipModel.encode_token_weights, CLIPTextEncodeSD3):
 *   tokens per encoder → each encoder's windows run in one batch → prompt weights applied against an
 *   "empty" sequence (z ← (z − z_empty)·w + z_empty) → CLIP-L ‖ CLIP-G along channels, zero-padded to
 *   the MMDiT's context width → T5 tokens appended along the sequence; pooled = L ‖ G (2048).
 *
 *   const cond = await encodeSd3(encoders, tokenizeSd3(tokenizers, 'a (red:1.3) cat'), { contextWidth: 4096 });
 *   // cond.context [1, 154, 4096], cond.pooled [1, 2048]
 *
 * The context width is the MMDiT's context_embedder input width (4096 in the released models), so it
 * is a parameter; the zero fill for a missing CLIP-L / CLIP-G uses the standard widths 768 / 1280
 * unless told otherwise.
 */
import type { TextEncoder, TextEncoderOutput } from '../models/text-encoder-runner.js';
import type { Tensor } from '../tensor.js';
import type { ClipTokenizer } from '../tokenizers/clip-tokenizer.js';
import type { TokenizeOptions, TokenWindow } from '../tokenizers/sd-tokenizer.js';
import type { T5Tokenizer } from '../tokenizers/t5-tokenizer.js';

export interface Sd3Tokenizers {
  clipL: ClipTokenizer;
  clipG: ClipTokenizer;
  t5: T5Tokenizer;
}

/** ComfyUI's token dict: `l`, `g`, `t5xxl` (an empty list = that encoder takes no part). */
export interface Sd3Tokens {
  l: TokenWindow[];
  g: TokenWindow[];
  t5xxl: TokenWindow[];
}

export interface Sd3Encoders {
  clipL?: TextEncoder;
  clipG?: TextEncoder;
  t5?: TextEncoder;
}

export interface Sd3Conditioning {
  /** float32 [1, T, contextWidth]. */
  context: Tensor<'float32'>;
  /** float32 [1, clipLWidth + clipGWidth]. */
  pooled: Tensor<'float32'>;
}

export interface Sd3EncodeOptions {
  /** The MMDiT's context width (4096 for SD3/SD3.5). */
  contextWidth: number;
  /** Width of the zeros standing for an absent CLIP-L (768) / CLIP-G (1280). */
  clipLWidth?: number;
  clipGWidth?: number;
}

/** CLIPTextEncode: the same text for all three encoders. */
export function tokenizeSd3(tok: Sd3Tokenizers, text: string, opts: TokenizeOptions = {}): Sd3Tokens {
  return { g: tok.clipG.tokenize(text, opts), l: tok.clipL.tokenize(text, opts), t5xxl: tok.t5.tokenize(text, opts) };
}

export type EmptyPadding = 'none' | 'empty_prompt';

/** CLIPTextEncodeSD3: one text per encoder; with 'none' an empty text drops that encoder's tokens. */
export function tokenizeSd3Separate(
  tok: Sd3Tokenizers,
  texts: { clipL: string; clipG: string; t5xxl: string },
  emptyPadding: EmptyPadding,
  opts: TokenizeOptions = {},
): Sd3Tokens {
  const drop = (text: string) => text.length === 0 && emptyPadding === 'none';
  const tokens: Sd3Tokens = {
    g: drop(texts.clipG) ? [] : tok.clipG.tokenize(texts.clipG, opts),
    l: drop(texts.clipL) ? [] : tok.clipL.tokenize(texts.clipL, opts),
    t5xxl: drop(texts.t5xxl) ? [] : tok.t5.tokenize(texts.t5xxl, opts),
  };
  // ComfyUI extends the shorter CLIP list with empty-prompt windows so L and G line up.
  while (tokens.l.length < tokens.g.length) tokens.l.push(...tok.clipL.tokenize(''));
  while (tokens.g.length < tokens.l.length) tokens.g.push(...tok.clipG.tokenize(''));
  return tokens;
}

/** ComfyUI's gen_empty_tokens for an encoder: [BOS, EOS, pad…] for CLIP, [EOS, pad…] for T5. */
export function emptyTokensFor(kind: TextEncoder['kind'], length: number): number[] {
  const ids = kind === 't5xxl' ? [1] : [49406, 49407];
  const pad = kind === 'clip_g' || kind === 't5xxl' ? 0 : 49407;
  while (ids.length < length) ids.push(pad);
  return ids.slice(0, Math.max(length, kind === 't5xxl' ? 1 : 2));
}

export interface WeightedEncoding {
  /** [1, windows·L, width] with prompt weights applied. */
  hidden: Tensor<'float32'>;
  /** [1, pooledWidth] of the first window (never weighted); absent for T5. */
  pooled?: Tensor<'float32'>;
}

/** ClipTokenWeightEncoder.encode_token_weights: one batch of all windows (+ the empty one when weighted). */
export async function encodeTokenWeights(encoder: TextEncoder, windows: TokenWindow[]): Promise<WeightedEncoding> {
  if (windows.length === 0) throw new Error(`${encoder.kind}: no token windows to encode`);
  const hasWeights = windows.some((w) => w.some((t) => t.weight !== 1));
  const length = Math.max(...windows.map((w) => w.length));
  const batch: (TokenWindow | number[])[] = hasWeights ? [...windows, emptyTokensFor(encoder.kind, length)] : [...windows];
  const out: TextEncoderOutput = await encoder.encode(batch);
  const [, L, W] = out.hidden.shape;
  const hidden = out.hidden.data.slice(0, windows.length * L * W);
  if (hasWeights) {
    const empty = out.hidden.data.subarray(windows.length * L * W);
    windows.forEach((w, k) =>
      w.forEach((t, j) => {
        if (t.weight === 1) return;
        const wgt = Math.fround(t.weight);
        for (let c = 0; c < W; c++) {
          const i = (k * L + j) * W + c;
          hidden[i] = Math.fround(Math.fround(Math.fround(hidden[i] - empty[j * W + c]) * wgt) + empty[j * W + c]);
        }
      }),
    );
  }
  const pooled = out.pooled ? { dtype: 'float32' as const, shape: [1, out.pooled.shape[1]], data: out.pooled.data.slice(0, out.pooled.shape[1]) } : undefined;
  return { hidden: { dtype: 'float32', shape: [1, windows.length * L, W], data: hidden }, pooled };
}

/** Rows [T, srcWidth] placed at channel `offset` of rows [T, width] (zeros elsewhere). */
function placeColumns(target: Float32Array, width: number, rowStart: number, src: Tensor<'float32'>, rows: number, offset: number): void {
  const srcWidth = src.shape[src.shape.length - 1];
  if (offset + srcWidth > width) throw new Error(`SD3 conditioning: ${srcWidth} channels at offset ${offset} do not fit the context width ${width}`);
  for (let r = 0; r < rows; r++) target.set(src.data.subarray(r * srcWidth, (r + 1) * srcWidth), (rowStart + r) * width + offset);
}

export interface Sd3Parts {
  l?: WeightedEncoding;
  g?: WeightedEncoding;
  t5?: WeightedEncoding;
}

/** SD3ClipModel.encode_token_weights' assembly of already-encoded parts. */
export function assembleSd3Conditioning(parts: Sd3Parts, opts: Sd3EncodeOptions): Sd3Conditioning {
  const width = opts.contextWidth;
  const lw = parts.l?.pooled?.shape[1] ?? opts.clipLWidth ?? 768;
  const gw = parts.g?.pooled?.shape[1] ?? opts.clipGWidth ?? 1280;
  const lRows = parts.l?.hidden.shape[1];
  const gRows = parts.g?.hidden.shape[1];
  const clipRows = lRows !== undefined && gRows !== undefined ? Math.min(lRows, gRows) : (lRows ?? gRows ?? 0);
  const t5Rows = parts.t5?.hidden.shape[1] ?? 0;
  const hasClip = parts.l !== undefined || parts.g !== undefined;
  const rows = hasClip || t5Rows > 0 ? clipRows + t5Rows : 77;
  const context = new Float32Array(rows * width);
  if (parts.l) placeColumns(context, width, 0, parts.l.hidden, clipRows, 0);
  if (parts.g) placeColumns(context, width, 0, parts.g.hidden, clipRows, parts.l ? parts.l.hidden.shape[2] : (opts.clipLWidth ?? 768));
  if (parts.t5) placeColumns(context, width, clipRows, parts.t5.hidden, t5Rows, 0);
  const pooled = new Float32Array(lw + gw);
  if (hasClip && parts.l?.pooled) pooled.set(parts.l.pooled.data, 0);
  if (hasClip && parts.g?.pooled) pooled.set(parts.g.pooled.data, lw);
  return { context: { dtype: 'float32', shape: [1, rows, width], data: context }, pooled: { dtype: 'float32', shape: [1, lw + gw], data: pooled } };
}

/** Encodes SD3 tokens with whichever encoders are loaded and assembles the conditioning. */
export async function encodeSd3(encoders: Sd3Encoders, tokens: Sd3Tokens, opts: Sd3EncodeOptions): Promise<Sd3Conditioning> {
  const parts: Sd3Parts = {};
  if (tokens.l.length > 0 || tokens.g.length > 0) {
    if (encoders.clipL) parts.l = await encodeTokenWeights(encoders.clipL, tokens.l);
    if (encoders.clipG) parts.g = await encodeTokenWeights(encoders.clipG, tokens.g);
  }
  if (encoders.t5 && tokens.t5xxl.length > 0) parts.t5 = await encodeTokenWeights(encoders.t5, tokens.t5xxl);
  return assembleSd3Conditioning(parts, { clipLWidth: encoders.clipL?.pooledWidth, clipGWidth: encoders.clipG?.pooledWidth, ...opts });
}
