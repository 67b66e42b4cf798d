/**
 * SD3 conditioning end to end (tokenizers → tiny CLIP-L / CLIP-G / T5 graphs → prompt weights →
 * assembly) vs the torch reference of tools/gen-textenc-vae-golden.py, which re-implements ComfyUI's
 * encode_token_weights and SD3ClipModel assembly. The context is compared through a fixed random
 * projection to 8 values per row plus each row's norm (keeps the golden file small).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleSd3Conditioning, emptyTokensFor, encodeSd3, tokenizeSd3, tokenizeSd3Separate, type Sd3Encoders } from '../../engine/conditioning/sd3.js';
import { loadClip, loadT5 } from '../../engine/models/text-encoder-runner.js';
import type { Tensor } from '../../engine/tensor.js';
import { createClipTokenizer, createT5Tokenizer } from '../../engine/tokenizers/index.js';
import { fromBase64, generate, readManifest, relL2, writeTinyFiles, type GenSpec, type TinyFiles } from './helpers/tiny-weights.js';

const GOLDEN = new URL('../golden/textenc/', import.meta.url);
interface Case {
  label: string;
  text: string;
  encoders: ('l' | 'g' | 't5')[];
  context_shape: number[];
  projected: string;
  row_norms: string;
  pooled: number[];
}
const golden = readManifest<{ projection: GenSpec; conditioning: Case[] }>(new URL('outputs.json', GOLDEN));
const manifest = readManifest<{ context_width: number; clip: Record<string, { width: number }> }>(new URL('manifest.json', GOLDEN));
const tokenizers = { clipL: createClipTokenizer('clip_l'), clipG: createClipTokenizer('clip_g'), t5: createT5Tokenizer() };
const widths = { contextWidth: manifest.context_width, clipLWidth: manifest.clip.clip_l.width, clipGWidth: manifest.clip.clip_g.width };

function fingerprint(ctx: Tensor<'float32'>): { projected: Float64Array; norms: Float64Array } {
  const [, rows, width] = ctx.shape;
  const p = generate(golden.projection).values; // [width, 8]
  const projected = new Float64Array(rows * 8);
  const norms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) {
      const v = ctx.data[r * width + c];
      norms[r] += v * v;
      for (let k = 0; k < 8; k++) projected[r * 8 + k] += v * p[c * 8 + k];
    }
    norms[r] = Math.sqrt(norms[r]);
  }
  return { projected, norms };
}

let files: TinyFiles;
let all: Required<Sd3Encoders>;
beforeAll(async () => {
  files = writeTinyFiles(new URL('manifest.json', GOLDEN));
  all = {
    clipL: await loadClip(files.path('clip_l.safetensors'), { kind: 'clip_l', cacheDir: files.dir }),
    clipG: await loadClip(files.path('clip_g.safetensors'), { kind: 'clip_g', cacheDir: files.dir }),
    t5: await loadT5(files.path('t5xxl_fp8_e4m3fn_scaled.safetensors'), { cacheDir: files.dir }),
  };
});
afterAll(async () => {
  for (const e of Object.values(all ?? {})) await e.release();
  files?.cleanup();
});

describe('SD3 conditioning vs the torch reference', () => {
  it.each(golden.conditioning.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const encoders: Sd3Encoders = { clipL: c.encoders.includes('l') ? all.clipL : undefined, clipG: c.encoders.includes('g') ? all.clipG : undefined, t5: c.encoders.includes('t5') ? all.t5 : undefined };
    const cond = await encodeSd3(encoders, tokenizeSd3(tokenizers, c.text), widths);
    expect(cond.context.shape).toEqual([1, ...c.context_shape]);
    expect(cond.pooled.shape).toEqual([1, widths.clipLWidth + widths.clipGWidth]);
    const fp = fingerprint(cond.context);
    expect(relL2(fp.projected, fromBase64(c.projected))).toBeLessThanOrEqual(2e-5);
    expect(relL2(fp.norms, fromBase64(c.row_norms))).toBeLessThanOrEqual(2e-5);
    expect(relL2(cond.pooled.data, c.pooled)).toBeLessThanOrEqual(2e-5);
  });
});

describe('SD3 conditioning rules', () => {
  const part = (rows: number, width: number, value: number, pooledWidth?: number) => ({
    hidden: { dtype: 'float32' as const, shape: [1, rows, width], data: new Float32Array(rows * width).fill(value) },
    pooled: pooledWidth ? { dtype: 'float32' as const, shape: [1, pooledWidth], data: new Float32Array(pooledWidth).fill(value) } : undefined,
  });
  it('real widths: L ‖ G zero-padded to 4096, T5 appended, pooled 2048', () => {
    const c = assembleSd3Conditioning({ l: part(77, 768, 1, 768), g: part(77, 1280, 2, 1280), t5: part(77, 4096, 3) }, { contextWidth: 4096 });
    expect(c.context.shape).toEqual([1, 154, 4096]);
    expect([c.context.data[0], c.context.data[767], c.context.data[768], c.context.data[2047], c.context.data[2048], c.context.data[4095]]).toEqual([1, 1, 2, 2, 0, 0]);
    expect(c.context.data[77 * 4096]).toBe(3);
    expect(c.pooled.shape).toEqual([1, 2048]);
    expect([c.pooled.data[767], c.pooled.data[768]]).toEqual([1, 2]);
  });
  it('missing CLIP-L prepends 768 zero channels and zero pooled; missing CLIP-G leaves 768… zero', () => {
    const noL = assembleSd3Conditioning({ g: part(77, 1280, 2, 1280) }, { contextWidth: 4096 });
    expect([noL.context.data[767], noL.context.data[768], noL.context.data[2047], noL.context.data[2048]]).toEqual([0, 2, 2, 0]);
    expect([noL.pooled.data[0], noL.pooled.data[768]]).toEqual([0, 2]);
    const noG = assembleSd3Conditioning({ l: part(77, 768, 1, 768) }, { contextWidth: 4096 });
    expect([noG.context.data[767], noG.context.data[768]]).toEqual([1, 0]);
    expect(noG.pooled.shape).toEqual([1, 2048]);
  });
  it('nothing at all: zeros [1, 77, width] and zero pooled', () => {
    const c = assembleSd3Conditioning({}, { contextWidth: 4096 });
    expect(c.context.shape).toEqual([1, 77, 4096]);
    expect(c.pooled.shape).toEqual([1, 2048]);
    expect(c.context.data.every((v) => v === 0)).toBe(true);
  });
  it('different L/G window counts are cut to the shorter one', () => {
    const c = assembleSd3Conditioning({ l: part(154, 768, 1, 768), g: part(77, 1280, 2, 1280) }, { contextWidth: 4096 });
    expect(c.context.shape).toEqual([1, 77, 4096]);
  });
  it('CLIPTextEncodeSD3 empty_padding none: one empty CLIP text becomes the empty prompt; both empty drop CLIP; empty T5 drops T5', () => {
    const one = tokenizeSd3Separate(tokenizers, { clipL: '', clipG: 'a cat', t5xxl: 'a cat' }, 'none');
    expect(one.l.length).toBe(1);
    expect(one.l[0].slice(0, 3).map((t) => t.id)).toEqual([49406, 49407, 49407]);
    const both = tokenizeSd3Separate(tokenizers, { clipL: '', clipG: '', t5xxl: '' }, 'none');
    expect([both.l.length, both.g.length, both.t5xxl.length]).toEqual([0, 0, 0]);
    const padded = tokenizeSd3Separate(tokenizers, { clipL: '', clipG: '', t5xxl: '' }, 'empty_prompt');
    expect([padded.l.length, padded.g.length, padded.t5xxl[0].length]).toEqual([1, 1, 77]);
  });
  it('empty token sequences for weighting', () => {
    expect(emptyTokensFor('clip_l', 5)).toEqual([49406, 49407, 49407, 49407, 49407]);
    expect(emptyTokensFor('clip_g', 5)).toEqual([49406, 49407, 0, 0, 0]);
    expect(emptyTokensFor('t5xxl', 4)).toEqual([1, 0, 0, 0]);
  });
});

describe('finding the text encoders', () => {
  it('probes an all-in-one checkpoint and standalone files', async () => {
    const { detectSd3TextEncoders, detectTextEncoderKinds } = await import('../../engine/models/sd3-text-encoders.js');
    expect(detectSd3TextEncoders(files.path('sd3_tiny_incl_clips_t5.safetensors'))).toEqual({ clipL: true, clipG: true, t5: true, t5Dtype: 'float16', t5ScaledFp8: true });
    expect(detectTextEncoderKinds(['clip_l', 'clip_g', 't5xxl_fp16', 't5xxl_fp8_e4m3fn', 'sd3_tiny_incl_clips_t5'].map((n) => files.path(`${n}.safetensors`)))).toEqual([
      'clip_l', 'clip_g', 't5xxl', 't5xxl', undefined,
    ]);
  });
  it('loadSd3TextEncoders from the checkpoint gives the same conditioning as the standalone files', async () => {
    const { loadSd3TextEncoders } = await import('../../engine/models/sd3-text-encoders.js');
    const fromCkpt = await loadSd3TextEncoders([files.path('sd3_tiny_incl_clips_t5.safetensors')], { clip: { cacheDir: files.dir }, t5: { cacheDir: files.dir } });
    const tokens = tokenizeSd3(tokenizers, 'a photo of a (red:1.3) cat');
    const a = await encodeSd3(fromCkpt, tokens, widths);
    const b = await encodeSd3(all, tokens, widths);
    expect(relL2(a.context.data, b.context.data)).toBeLessThanOrEqual(1e-6);
    expect(relL2(a.pooled.data, b.pooled.data)).toBeLessThanOrEqual(1e-6);
    for (const e of Object.values(fromCkpt)) await e?.release();
  });
});
