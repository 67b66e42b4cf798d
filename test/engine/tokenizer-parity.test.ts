/**
 * Token-id parity with an independent Python reference (tools/gen-tokenizer-golden.py: OpenAI's BPE
 * on bpe_simple_vocab_16e6.txt.gz, SentencePiece on spiece.model, ComfyUI's sd1_clip.py logic
 * re-typed) on 320 seeded prompts: weights, escapes, malformed syntax, long prompts, unicode,
 * `embedding:` words. Ids and weights must agree exactly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createClipTokenizer, createT5Tokenizer, type EmbeddingLookup, type TokenWindow, type WordSplitting } from '../../engine/tokenizers/index.js';

const GOLDEN = new URL('../golden/tokenizers/', import.meta.url);
const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, GOLDEN), 'utf8')) as T;

interface GoldenWindow {
  ids: (number | string)[];
  weights: [number, number | string][];
}
interface GoldenFile {
  embeddings: Record<string, number>;
  cases: { prompt: string; windows: GoldenWindow[] }[];
}

/** Embedding vectors whose first value names them (`name#k` in the golden files). */
function labelledLookup(counts: Record<string, number>): { lookup: EmbeddingLookup; labelOf: (v: Float32Array) => string } {
  const names = Object.keys(counts);
  const lookup: EmbeddingLookup = (name, want) => {
    const index = names.indexOf(name);
    if (index < 0) return null;
    return Array.from({ length: counts[name] }, (_, k) => {
      const v = new Float32Array(want.size);
      v[0] = index * 100 + k;
      return v;
    });
  };
  const labelOf = (v: Float32Array) => `${names[Math.floor(v[0] / 100)]}#${v[0] % 100}`;
  return { lookup, labelOf };
}

/** Non-finite weights as Python writes them ('inf', '-inf', 'nan'). */
const pyRepr = (w: number): number | string => (Number.isFinite(w) ? w : Number.isNaN(w) ? 'nan' : w > 0 ? 'inf' : '-inf');

function asGolden(windows: TokenWindow[], labelOf: (v: Float32Array) => string): GoldenWindow[] {
  return windows.map((w) => ({
    ids: w.map((t) => (t.embedding ? labelOf(t.embedding) : t.id)),
    weights: w.flatMap((t, i): [number, number | string][] => (t.weight !== 1 ? [[i, pyRepr(t.weight)]] : [])),
  }));
}

const encoders = {
  clip_l: createClipTokenizer('clip_l'),
  clip_g: createClipTokenizer('clip_g'),
  t5xxl: createT5Tokenizer(),
};

describe.each(['words', 'segments'] as WordSplitting[])('ComfyUI tokenization, %s splitting', (splitting) => {
  it.each(Object.keys(encoders) as (keyof typeof encoders)[])('%s matches the reference on every prompt', (key) => {
    const golden = read<GoldenFile>(`${key}-${splitting}.json`);
    const { lookup, labelOf } = labelledLookup(golden.embeddings);
    expect(golden.cases.length).toBeGreaterThanOrEqual(100);
    const mismatches: string[] = [];
    for (const c of golden.cases) {
      const got = asGolden(encoders[key].tokenize(c.prompt, { splitting, embeddings: lookup }), labelOf);
      if (JSON.stringify(got) !== JSON.stringify(c.windows)) mismatches.push(JSON.stringify(c.prompt));
    }
    expect(mismatches).toEqual([]);
  });
});

describe('plain tokenizer ids', () => {
  const plain = read<{ prompts: string[]; clip: number[][]; t5: number[][] }>('plain.json');
  it('CLIP BPE (with the slow tokenizer clean-up) equals OpenAI BPE for all prompts', () => {
    const bad = plain.prompts.filter((p, i) => JSON.stringify(encoders.clip_l.encode(p)) !== JSON.stringify(plain.clip[i]));
    expect(bad).toEqual([]);
  });
  it('T5 equals SentencePiece for all prompts', () => {
    const bad = plain.prompts.filter((p, i) => JSON.stringify(encoders.t5xxl.encode(p)) !== JSON.stringify(plain.t5[i]));
    expect(bad).toEqual([]);
  });
});
