/**
 * ComfyUI's SDTokenizer.tokenize_with_weights (comfy/sd1_clip.py), independent of the BPE/Unigram
 * model underneath: weights → words → per-word token groups → windows of `maxLength` with start,
 * end and pad tokens (spec/sd3-engine.md §3.2–3.4).
 *
 * Two ComfyUI revisions split text into "words" differently, and that decides where long prompts
 * break into 77-token windows:
 *   'words'    (ComfyUI 2023 – early 2025, the SD3 release era; spec §3.2): each weighted segment is
 *              split on spaces/newlines; a word that is itself a vocabulary entry `word</w>` uses
 *              that id; a word that does not fit the current window moves whole to the next one
 *              unless it has ≥ 8 tokens.
 *   'segments' (current ComfyUI): a weighted segment is tokenized whole (split only before
 *              `embedding:`), so an unweighted long prompt splits exactly at the window boundary.
 */
import { parsePromptWeights } from './prompt-weights.js';

/** One position of a token window: a vocabulary id, or a textual-inversion vector in its place. */
export interface WeightedToken {
  /** The vocabulary id; for an embedding vector, the pad id stands here as a placeholder. */
  id: number;
  weight: number;
  /** A textual-inversion vector that replaces the token embedding at this position. */
  embedding?: Float32Array;
}

/** One window of tokens (77 for CLIP; one unbounded window for T5). */
export type TokenWindow = WeightedToken[];

export type WordSplitting = 'words' | 'segments';
export const WORD_SPLITTINGS: readonly WordSplitting[] = ['words', 'segments'];

/**
 * Looks up a textual-inversion embedding by the name written after `embedding:`; returns its
 * vectors (one per token it stands for) of the encoder's width, or null when there is none.
 * `size` is the encoder width and `key` ComfyUI's embedding key (clip_l, clip_g, t5xxl), so a
 * caller can pick the right tensor of a multi-encoder file (e.g. SDXL's `clip_g` / `clip_l`).
 */
export type EmbeddingLookup = (name: string, want: { size: number; key: string }) => Float32Array[] | null;

/** What the windowing needs from the underlying tokenizer. */
export interface WordTokenizer {
  /** ids of `word` without the start/end tokens the tokenizer adds. */
  tokenizeWord(word: string): number[];
  /** The id of the vocabulary entry `word</w>` if there is one ('words' splitting's shortcut). */
  exactWordId(word: string): number | undefined;
}

export interface WindowSpec {
  /** Window length including start/end (77 for CLIP, effectively unbounded for T5). */
  maxLength: number;
  startToken?: number;
  endToken?: number;
  padToken: number;
  /** Pad every window to maxLength (CLIP) or only the last to minLength (T5). */
  padToMaxLength: boolean;
  minLength?: number;
  /** The encoder width and ComfyUI embedding key, given to the embedding lookup. */
  embeddingSize: number;
  embeddingKey: string;
}

export interface TokenizeOptions {
  splitting?: WordSplitting;
  /** Treat `(`, `)` and `:` as plain text (ComfyUI's disable_weights). */
  disableWeights?: boolean;
  /** Resolves `embedding:name` words; without it they are tokenized as text, as ComfyUI without an embeddings folder. */
  embeddings?: EmbeddingLookup;
  /** Called with ComfyUI's warnings (a missing embedding). */
  warn?: (message: string) => void;
  /** Overrides the spec's minimum length (ComfyUI's `min_length` option). */
  minLength?: number;
}

const EMBEDDING_PREFIX = 'embedding:';
const MAX_WORD_LENGTH = 8;

type Group = WeightedToken[];

function embeddingGroup(vectors: Float32Array[], weight: number, spec: WindowSpec): Group {
  return vectors.map((v) => {
    if (v.length !== spec.embeddingSize) {
      throw new Error(`embedding for ${spec.embeddingKey}: vector has ${v.length} values, the encoder is ${spec.embeddingSize} wide`);
    }
    return { id: spec.padToken, weight, embedding: v };
  });
}

/** ComfyUI (older) `_try_get_embedding`: retry without surrounding commas; the commas are left over. */
function lookupWordEmbedding(name: string, lookup: EmbeddingLookup, spec: WindowSpec): { vectors: Float32Array[] | null; leftover: string } {
  const want = { size: spec.embeddingSize, key: spec.embeddingKey };
  const found = lookup(name, want);
  if (found) return { vectors: found, leftover: '' };
  const stripped = name.replace(/^,+|,+$/g, '');
  if (stripped.length < name.length) return { vectors: lookup(stripped, want), leftover: name.slice(stripped.length) };
  return { vectors: null, leftover: '' };
}

/** ComfyUI (current) `_try_get_embedding`: the name ends at whitespace, '<' or '['; the rest is text. */
function lookupSegmentEmbedding(text: string, lookup: EmbeddingLookup, spec: WindowSpec): { name: string; vectors: Float32Array[] | null; leftover: string } {
  const parts = text.split(/[\s\x1c-\x1f\x85]+/).filter((p) => p !== '');
  let name = parts[0] ?? '';
  let leftover = parts.slice(1).join(' ');
  const bracket = name.search(/[<[]/);
  if (bracket >= 0) {
    leftover = name.slice(bracket) + (leftover ? ` ${leftover}` : '');
    name = name.slice(0, bracket);
  }
  const want = { size: spec.embeddingSize, key: spec.embeddingKey };
  const found = lookup(name, want);
  if (found) return { name, vectors: found, leftover };
  const stripped = name.replace(/^,+|,+$/g, '');
  if (stripped.length < name.length) return { name, vectors: lookup(stripped, want), leftover: `${name.slice(stripped.length)} ${leftover}` };
  return { name, vectors: null, leftover };
}

function wordsOf(segment: string, splitting: WordSplitting): string[] {
  if (splitting === 'words') return segment.replaceAll('\n', ' ').split(' ').filter((w) => w !== '');
  const pieces = segment.split(/(?<=\s)embedding:/);
  return [pieces[0], ...pieces.slice(1).map((p) => EMBEDDING_PREFIX + p)].filter((w) => w !== '');
}

/** Per-word token groups in prompt order (ComfyUI's `tokens` list before windowing). */
export function tokenGroups(text: string, tok: WordTokenizer, spec: WindowSpec, opts: TokenizeOptions = {}): Group[] {
  const splitting = opts.splitting ?? 'words';
  const groups: Group[] = [];
  for (const { text: segment, weight } of parsePromptWeights(text, { disableWeights: opts.disableWeights })) {
    for (let word of wordsOf(segment, splitting)) {
      if (word.startsWith(EMBEDDING_PREFIX) && opts.embeddings) {
        const rawName = word.slice(EMBEDDING_PREFIX.length).replace(/^\n+|\n+$/g, '');
        const found =
          splitting === 'words'
            ? { name: rawName, ...lookupWordEmbedding(rawName, opts.embeddings, spec) }
            : lookupSegmentEmbedding(rawName, opts.embeddings, spec);
        if (found.vectors) groups.push(embeddingGroup(found.vectors, weight, spec));
        else opts.warn?.(`warning, embedding:${found.name} does not exist, ignoring`);
        if (found.leftover === '') continue;
        word = found.leftover;
      }
      const exact = splitting === 'words' ? tok.exactWordId(word) : undefined;
      const ids = exact !== undefined ? [exact] : tok.tokenizeWord(word);
      groups.push(ids.map((id) => ({ id, weight })));
    }
  }
  return groups;
}

const special = (id: number): WeightedToken => ({ id, weight: 1 });

function padWindow(window: TokenWindow, count: number, spec: WindowSpec): void {
  for (let i = 0; i < count; i++) window.push(special(spec.padToken));
}

/** ComfyUI's "reshape token array to CLIP input size": start, groups, end, pad. */
export function packWindows(groups: readonly Group[], spec: WindowSpec, minLength = spec.minLength): TokenWindow[] {
  const endCount = spec.endToken === undefined ? 0 : 1;
  const windows: TokenWindow[] = [];
  let window: TokenWindow = spec.startToken === undefined ? [] : [special(spec.startToken)];
  windows.push(window);
  for (const group of groups) {
    const isLarge = group.length >= MAX_WORD_LENGTH;
    let rest = group;
    while (rest.length > 0) {
      if (rest.length + window.length <= spec.maxLength - endCount) {
        window.push(...rest);
        rest = [];
        continue;
      }
      const remaining = spec.maxLength - window.length - endCount;
      if (isLarge) {
        window.push(...rest.slice(0, remaining));
        if (spec.endToken !== undefined) window.push(special(spec.endToken));
        rest = rest.slice(remaining);
      } else {
        if (spec.endToken !== undefined) window.push(special(spec.endToken));
        if (spec.padToMaxLength) padWindow(window, remaining, spec);
      }
      window = spec.startToken === undefined ? [] : [special(spec.startToken)];
      windows.push(window);
    }
  }
  if (spec.endToken !== undefined) window.push(special(spec.endToken));
  if (spec.padToMaxLength && window.length < spec.maxLength) padWindow(window, spec.maxLength - window.length, spec);
  if (minLength !== undefined && window.length < minLength) padWindow(window, minLength - window.length, spec);
  return windows;
}

/** tokenize_with_weights: the prompt as windows of weighted tokens. */
export function tokenizeWithWeights(text: string, tok: WordTokenizer, spec: WindowSpec, opts: TokenizeOptions = {}): TokenWindow[] {
  return packWindows(tokenGroups(text, tok, spec, opts), spec, opts.minLength ?? spec.minLength);
}
