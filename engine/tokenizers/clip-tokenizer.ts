/**
 * ComfyUI's CLIP tokenization for SD3's two CLIP towers (spec/sd3-engine.md §3.2): byte-level BPE
 * from the bundled tokenizer.json through @huggingface/tokenizers, after the slow tokenizer's text
 * clean-up (basic-clean.ts); 77-token windows `[49406] + ≤ 75 tokens + [49407] + pad`.
 * CLIP-L pads with 49407 (its end token), CLIP-G with 0 (`!`).
 *
 *   const tok = createClipTokenizer('clip_l');
 *   tok.tokenize('a (red:1.3) cat')  // → [[{id: 49406, weight: 1}, {id: 320, weight: 1}, {id: 736, weight: 1.3}, …]]
 */
import { basicClean } from './basic-clean.js';
import { loadHfTokenizer } from './data-files.js';
import { tokenizeWithWeights, type TokenizeOptions, type TokenWindow, type WindowSpec, type WordTokenizer } from './sd-tokenizer.js';

export type ClipKind = 'clip_l' | 'clip_g';
export const CLIP_KINDS: readonly ClipKind[] = ['clip_l', 'clip_g'];

export const CLIP_BOS = 49406;
export const CLIP_EOS = 49407;
export const CLIP_WINDOW = 77;

export interface ClipTokenizer {
  readonly kind: ClipKind;
  readonly spec: WindowSpec;
  /** Plain BPE ids of `text` with start/end tokens, as the slow CLIPTokenizer's input_ids. */
  encode(text: string): number[];
  tokenize(text: string, opts?: TokenizeOptions): TokenWindow[];
  /** ComfyUI's gen_empty_tokens: `[BOS, EOS, pad…]` of `length`. */
  emptyTokens(length?: number): number[];
}

const WIDTH: Record<ClipKind, number> = { clip_l: 768, clip_g: 1280 };

export function clipWindowSpec(kind: ClipKind): WindowSpec {
  if (!CLIP_KINDS.includes(kind)) throw new Error(`CLIP tokenizer kind '${String(kind)}'; valid: ${CLIP_KINDS.join(', ')}`);
  return {
    maxLength: CLIP_WINDOW,
    startToken: CLIP_BOS,
    endToken: CLIP_EOS,
    padToken: kind === 'clip_l' ? CLIP_EOS : 0,
    padToMaxLength: true,
    embeddingSize: WIDTH[kind],
    embeddingKey: kind,
  };
}

/** `embeddingSize`: the encoder's width when it is not the released one (textual-inversion vectors must match it). */
export function createClipTokenizer(kind: ClipKind, opts: { dataDir?: string; embeddingSize?: number } = {}): ClipTokenizer {
  const spec = { ...clipWindowSpec(kind), ...(opts.embeddingSize !== undefined ? { embeddingSize: opts.embeddingSize } : {}) };
  const hf = loadHfTokenizer('clip', opts.dataDir);
  const encode = (text: string): number[] => hf.encode(basicClean(text)).ids;
  const words: WordTokenizer = {
    tokenizeWord: (word) => encode(word).slice(1, -1),
    exactWordId: (word) => hf.token_to_id(`${word}</w>`),
  };
  return {
    kind,
    spec,
    encode,
    tokenize: (text, tokenizeOpts = {}) => tokenizeWithWeights(text, words, spec, tokenizeOpts),
    emptyTokens: (length = CLIP_WINDOW) => [CLIP_BOS, CLIP_EOS, ...new Array<number>(Math.max(0, length - 2)).fill(spec.padToken)],
  };
}
