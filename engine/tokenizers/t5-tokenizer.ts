/**
 * ComfyUI's T5-XXL tokenization for SD3 (spec/sd3-engine.md §3.4): SentencePiece Unigram from the
 * bundled tokenizer.json (HF fast tokenizer, as ComfyUI's T5TokenizerFast), no start token, each
 * word's trailing `</s>` dropped, one unbounded window, `</s>` (1) appended, padded with `<pad>` (0)
 * up to 77 tokens. Literal `</s>`, `<pad>`, `<extra_id_N>` in a prompt become their special ids.
 *
 *   createT5Tokenizer().tokenize('a photo of a cat')[0].map((t) => t.id)  // 3 9 1202 13 3 9 1712 1, 69 × 0
 */
import { loadHfTokenizer } from './data-files.js';
import { tokenizeWithWeights, type TokenizeOptions, type TokenWindow, type WindowSpec, type WordTokenizer } from './sd-tokenizer.js';

export const T5_PAD = 0;
export const T5_EOS = 1;
export const T5_MIN_LENGTH = 77;

export const T5_WINDOW_SPEC: WindowSpec = {
  maxLength: 99999999,
  endToken: T5_EOS,
  padToken: T5_PAD,
  padToMaxLength: false,
  minLength: T5_MIN_LENGTH,
  embeddingSize: 4096,
  embeddingKey: 't5xxl',
};

export interface T5Tokenizer {
  readonly spec: WindowSpec;
  /** Plain ids of `text` with the trailing `</s>`, as T5TokenizerFast's input_ids. */
  encode(text: string): number[];
  tokenize(text: string, opts?: TokenizeOptions): TokenWindow[];
  /** ComfyUI's gen_empty_tokens for T5: `[1, 0, 0, …]` of `length`. */
  emptyTokens(length?: number): number[];
}

export function createT5Tokenizer(opts: { dataDir?: string; embeddingSize?: number } = {}): T5Tokenizer {
  const spec = { ...T5_WINDOW_SPEC, embeddingSize: opts.embeddingSize ?? T5_WINDOW_SPEC.embeddingSize };
  const hf = loadHfTokenizer('t5', opts.dataDir);
  const encode = (text: string): number[] => hf.encode(text).ids;
  const words: WordTokenizer = {
    tokenizeWord: (word) => encode(word).slice(0, -1),
    exactWordId: (word) => hf.token_to_id(`${word}</w>`),
  };
  return {
    spec,
    encode,
    tokenize: (text, tokenizeOpts = {}) => tokenizeWithWeights(text, words, spec, tokenizeOpts),
    emptyTokens: (length = T5_MIN_LENGTH) => [T5_EOS, ...new Array<number>(Math.max(0, length - 1)).fill(T5_PAD)],
  };
}
