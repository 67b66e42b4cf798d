/**
 * ComfyUI prompt syntax and windowing rules (spec/sd3-engine.md §3.2–3.4), from the examples in
 * ComfyUI's own docstrings and the spec; the broad parity run is tokenizer-parity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createClipTokenizer, createT5Tokenizer, packWindows, parsePromptWeights, parsePythonFloat, type WindowSpec } from '../../engine/tokenizers/index.js';

const ids = (w: { id: number }[]) => w.map((t) => t.id);
const clipL = createClipTokenizer('clip_l');
const clipG = createClipTokenizer('clip_g');
const t5 = createT5Tokenizer();

describe('prompt weights (ComfyUI token_weights docstring examples)', () => {
  it.each([
    ['(foo)', [['foo', 1.1]]],
    ['(foo)(bar)', [['foo', 1.1], ['bar', 1.1]]],
    ['(foo:2.0)', [['foo', 2]]],
    ['((foo))', [['foo', 1.1 * 1.1]]],
    ['((foo):1.1)', [['foo', 1.1 * 1.1]]],
    ['((foo:1.1))', [['foo', 1.1]]],
    ['(foo:0.0)', [['foo', 0]]],
    ['((foo:1.0):0.0)', [['foo', 1]]],
    ['foo ((((lol (cat:666) attack:100)))) baz', [['foo ', 1], ['lol ', 100], ['cat', 666], [' attack', 100], [' baz', 1]]],
    ['foo ((((lol (cat:666) attack):100))) baz', [['foo ', 1], ['lol ', 100 * 1.1], ['cat', 666], [' attack', 100 * 1.1], [' baz', 1]]],
    ['\\(foo\\) [bar]', [['(foo) [bar]', 1]]],
    ['(a:b)', [['a:b', 1.1]]],
    ['(x:1_5)', [['x', 15]]],
  ] as const)('%s', (text, want) => {
    expect(parsePromptWeights(text).map((s) => [s.text, s.weight])).toEqual(want);
  });
  it('parses numbers like Python float()', () => {
    expect([' 1.5 ', '1e-1', '.5', '5.', '+2', '-inf', 'NaN', '1_000.5'].map(parsePythonFloat)).toEqual([1.5, 0.1, 0.5, 5, 2, -Infinity, NaN, 1000.5]);
    expect(['', 'abc', '1.2.3', '1__0', '_1', '0x10', '1e'].map(parsePythonFloat)).toEqual(new Array(7).fill(undefined));
  });
});

describe('CLIP windows', () => {
  it('spec example: L pads with 49407, G with 0', () => {
    const l = clipL.tokenize('a photo of a cat');
    const g = clipG.tokenize('a photo of a cat');
    expect(ids(l[0]).slice(0, 7)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(l[0]).toHaveLength(77);
    expect(new Set(ids(l[0]).slice(7))).toEqual(new Set([49407]));
    expect(new Set(ids(g[0]).slice(7))).toEqual(new Set([0]));
  });
  it('empty prompt: one window [BOS, EOS, pad…]', () => {
    expect(clipL.tokenize('').map(ids)).toEqual([[49406, 49407, ...new Array(75).fill(49407)]]);
  });
  it('76 one-token words need two windows; a word never splits unless it has ≥ 8 tokens', () => {
    const w = clipL.tokenize(new Array(76).fill('cat').join(' '));
    expect(w).toHaveLength(2);
    expect(ids(w[0])[76]).toBe(49407);
    expect(ids(w[1]).slice(0, 3)).toEqual([49406, 2368, 49407]);
  });
  it('weights go to the tokens of the weighted words only', () => {
    const [w] = clipL.tokenize('a (red:1.3) cat');
    expect(w.slice(0, 5).map((t) => t.weight)).toEqual([1, 1, 1.3, 1, 1]);
  });
  it('embedding:name puts the vectors in place; unknown names warn and are dropped', () => {
    const warnings: string[] = [];
    const vec = new Float32Array(768).fill(0.5);
    const windows = clipL.tokenize('a embedding:mine, embedding:nope cat', {
      embeddings: (name) => (name === 'mine' ? [vec, vec] : null),
      warn: (m) => warnings.push(m),
    });
    const w = windows[0];
    expect(w[2].embedding).toBe(vec);
    expect(w[3].embedding).toBe(vec);
    expect(ids(w).slice(0, 7)).toEqual([49406, 320, 49407, 49407, 267, 2368, 49407]);
    expect(warnings).toEqual(['warning, embedding:nope does not exist, ignoring']);
  });
  it('without an embedding lookup, embedding:name is plain text', () => {
    const bpe = clipL.encode('embedding:x'); // [BOS, …, EOS]
    expect(ids(clipL.tokenize('embedding:x')[0]).slice(0, bpe.length)).toEqual(bpe);
    expect(clipL.tokenize('embedding:x')[0].every((t) => t.embedding === undefined)).toBe(true);
  });
});

describe('T5 window', () => {
  it('spec example: no BOS, EOS appended, padded to 77 with 0', () => {
    const [w] = t5.tokenize('a photo of a cat');
    expect(ids(w)).toEqual([3, 9, 1202, 13, 3, 9, 1712, 1, ...new Array(69).fill(0)]);
  });
  it('long prompts are not truncated or chunked', () => {
    const windows = t5.tokenize(new Array(150).fill('cat').join(' '));
    expect(windows).toHaveLength(1);
    expect(windows[0].length).toBeGreaterThan(150);
    expect(ids(windows[0]).at(-1)).toBe(1);
  });
});

describe('packWindows', () => {
  const spec: WindowSpec = { maxLength: 6, startToken: 100, endToken: 101, padToken: 0, padToMaxLength: true, embeddingSize: 1, embeddingKey: 'x' };
  const group = (...xs: number[]) => xs.map((id) => ({ id, weight: 1 }));
  it('moves a short word whole, splits a ≥ 8-token word at the boundary', () => {
    expect(packWindows([group(1, 2, 3), group(4, 5)], spec).map(ids)).toEqual([[100, 1, 2, 3, 101, 0], [100, 4, 5, 101, 0, 0]]);
    expect(packWindows([group(1, 2, 3, 4, 5, 6, 7, 8)], spec).map(ids)).toEqual([[100, 1, 2, 3, 4, 101], [100, 5, 6, 7, 8, 101]]);
  });
});
