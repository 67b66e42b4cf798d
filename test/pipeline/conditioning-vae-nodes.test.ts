/**
 * The conditioning list nodes, the VAE nodes and textual-inversion embeddings, called directly on
 * real values (the demo checkpoint's VAE for the VAE nodes).
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../engine/safetensors.js';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { createClipTokenizer } from '../../engine/tokenizers/index.js';
import { embeddingLookupFor } from '../../nodes/conditioning/embeddings.js';
import { CLIPTextEncode, ConditioningAverage, ConditioningCombine, ConditioningConcat, ConditioningSetTimestepRange, ConditioningZeroOut } from '../../nodes/conditioning/conditioning-nodes.js';
import { DEMO_CHECKPOINT_NAME, makeDemoCheckpoint } from '../../nodes/loaders/demo-checkpoint.js';
import { CheckpointLoaderSimple } from '../../nodes/loaders/loader-nodes.js';
import { ModelManager } from '../../nodes/models/model-manager.js';
import type { NodeEnvironment } from '../../nodes/node-api.js';
import { SetLatentNoiseMask, VAEDecode, VAEDecodeTiled, VAEEncode, VAEEncodeForInpaint, VAEEncodeTiled } from '../../nodes/vae/vae-nodes.js';
import { makeTestContext } from '../helpers/context.js';
import { makeTestEnv } from '../helpers/env.js';

type Entry = [Tensor<'float32'>, Record<string, unknown> & { pooled_output?: Tensor<'float32'> }];
const t = (shape: number[], values: number[]) => tensor('float32', shape, Float32Array.from(values));
const cond = (values: number[], tokens: number, pooled?: number[], extra: Record<string, unknown> = {}): Entry => [t([1, tokens, values.length / tokens], values), { ...(pooled ? { pooled_output: t([1, pooled.length], pooled) } : {}), ...extra }];

let env: NodeEnvironment;
let vae: unknown;
let clip: unknown;
beforeAll(async () => {
  env = makeTestEnv({ models: new ModelManager({}) });
  makeDemoCheckpoint(path.join(env.folders.searchRoots('checkpoints')![0], DEMO_CHECKPOINT_NAME));
  [, clip, vae] = (await CheckpointLoaderSimple.execute({ ckpt_name: DEMO_CHECKPOINT_NAME }, makeTestContext(env))) as unknown[];
}, 120_000);
const ctx = () => makeTestContext(env);

describe('conditioning list nodes', () => {
  const a = cond([1, 2, 3, 4], 2, [10, 20], { start_percent: 0.2 });
  const b = cond([5, 6], 1, [30, 40]);

  it('ConditioningZeroOut zeroes cond and pooled_output and keeps the other options', () => {
    const [[out]] = ConditioningZeroOut.execute({ conditioning: [a] }, ctx()) as [Entry[]];
    expect(Array.from(out[0].data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(out[1].pooled_output!.data)).toEqual([0, 0]);
    expect(out[1].start_percent).toBe(0.2);
    expect(Array.from(a[0].data)).toEqual([1, 2, 3, 4]); // input untouched
  });

  it('ConditioningCombine concatenates the lists', () => {
    const [out] = ConditioningCombine.execute({ conditioning_1: [a], conditioning_2: [b] }, ctx()) as [Entry[]];
    expect(out).toEqual([a, b]);
  });

  it('ConditioningConcat appends the first from-cond along the tokens', () => {
    const [[out]] = ConditioningConcat.execute({ conditioning_to: [a], conditioning_from: [b] }, ctx()) as [Entry[]];
    expect(out[0].shape).toEqual([1, 3, 2]);
    expect(Array.from(out[0].data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out[1].pooled_output).toBe(a[1].pooled_output);
  });

  it('ConditioningAverage mixes conds (from cut/zero-padded to the target length) and pooled outputs', () => {
    const [[out]] = ConditioningAverage.execute({ conditioning_to: [a], conditioning_from: [b], conditioning_to_strength: 0.25 }, ctx()) as [Entry[]];
    // from [5, 6] padded with a zero token: a·0.25 + from·0.75
    expect(Array.from(out[0].data)).toEqual([1 * 0.25 + 5 * 0.75, 2 * 0.25 + 6 * 0.75, 3 * 0.25, 4 * 0.25]);
    expect(Array.from(out[1].pooled_output!.data)).toEqual([10 * 0.25 + 30 * 0.75, 20 * 0.25 + 40 * 0.75]);
  });

  it('ConditioningSetTimestepRange sets start/end percent on copies', () => {
    const [[out]] = ConditioningSetTimestepRange.execute({ conditioning: [a], start: 0.1, end: 0.6 }, ctx()) as [Entry[]];
    expect(out[1]).toMatchObject({ start_percent: 0.1, end_percent: 0.6, pooled_output: a[1].pooled_output });
    expect(a[1].start_percent).toBe(0.2);
  });
});

describe('VAE nodes on the demo VAE', () => {
  const image = (h: number, w: number) => {
    const data = new Float32Array(h * w * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.fround(((i * 37) % 256) / 255);
    return tensor('float32', [1, h, w, 3], data);
  };

  it('VAEEncode → [1, 16, H/8, W/8], cropping to multiples of 8; VAEDecode → IMAGE in [0, 1]', async () => {
    const [latent] = (await VAEEncode.execute({ pixels: image(70, 83), vae }, ctx())) as [{ samples: Tensor<'float32'> }];
    expect(latent.samples.shape).toEqual([1, 16, 8, 10]);
    const [decoded] = (await VAEDecode.execute({ samples: latent, vae }, ctx())) as [Tensor<'float32'>];
    expect(decoded.shape).toEqual([1, 64, 80, 3]);
    expect(decoded.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('tiled decode/encode with one tile covering everything equal the plain ones', async () => {
    const [latent] = (await VAEEncode.execute({ pixels: image(64, 64), vae }, ctx())) as [{ samples: Tensor<'float32'> }];
    const [plain] = (await VAEDecode.execute({ samples: latent, vae }, ctx())) as [Tensor<'float32'>];
    const [tiled] = (await VAEDecodeTiled.execute({ samples: latent, vae, tile_size: 512, overlap: 64 }, ctx())) as [Tensor<'float32'>];
    expect(tiled.shape).toEqual(plain.shape);
    let worst = 0;
    for (let i = 0; i < plain.data.length; i++) worst = Math.max(worst, Math.abs(plain.data[i] - tiled.data[i]));
    expect(worst).toBeLessThan(1e-5);
    const [enc] = (await VAEEncodeTiled.execute({ pixels: image(64, 64), vae, tile_size: 512, overlap: 64 }, ctx())) as [{ samples: Tensor<'float32'> }];
    expect(enc.samples.shape).toEqual(latent.samples.shape);
  });

  it('VAEEncodeForInpaint greys out the masked pixels and returns the grown, rounded noise mask', async () => {
    const mask = new Float32Array(64 * 64);
    mask[10 * 64 + 20] = 1; // one masked pixel at (y 10, x 20)
    const pixels = image(64, 64);
    const [latent] = (await VAEEncodeForInpaint.execute({ pixels, vae, mask: tensor('float32', [1, 64, 64], mask), grow_mask_by: 3 }, ctx())) as [{ samples: Tensor<'float32'>; noise_mask: Tensor<'float32'> }];
    expect(latent.noise_mask.shape).toEqual([1, 1, 64, 64]);
    const ones: number[] = [];
    latent.noise_mask.data.forEach((v, i) => v === 1 && ones.push(i));
    const expected = [9, 10, 11].flatMap((y) => [19, 20, 21].map((x) => y * 64 + x));
    expect(ones).toEqual(expected);
    const grey = pixels.data.slice();
    for (let c = 0; c < 3; c++) grey[(10 * 64 + 20) * 3 + c] = 0.5;
    const [direct] = (await VAEEncode.execute({ pixels: tensor('float32', [1, 64, 64, 3], grey), vae }, ctx())) as [{ samples: Tensor<'float32'> }];
    expect(Array.from(latent.samples.data)).toEqual(Array.from(direct.samples.data));
  });

  it('SetLatentNoiseMask attaches the mask as [B, 1, H, W] to a copy', () => {
    const samples = { samples: tensor('float32', [1, 16, 2, 2], new Float32Array(64)), batch_index: [3] };
    const [out] = SetLatentNoiseMask.execute({ samples, mask: tensor('float32', [4, 4], new Float32Array(16).fill(1)) }, ctx()) as [Record<string, unknown> & { noise_mask: Tensor<'float32'> }];
    expect(out.noise_mask.shape).toEqual([1, 1, 4, 4]);
    expect(out.batch_index).toEqual([3]);
    expect(samples).not.toHaveProperty('noise_mask');
  });
});

describe('textual-inversion embeddings', () => {
  it('embedding:name in a prompt takes the vectors from models/embeddings, per encoder width', async () => {
    const dir = env.folders.searchRoots('embeddings')![0];
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const l = Float32Array.from({ length: 2 * 16 }, (_, i) => i / 32);
    const g = Float32Array.from({ length: 2 * 32 }, (_, i) => -i / 64);
    writeSafetensors(path.join(dir, 'myemb.safetensors'), { clip_l: tensor('float32', [2, 16], l), clip_g: tensor('float32', [2, 32], g) });
    const lookup = embeddingLookupFor(env);
    const windows = createClipTokenizer('clip_l', { embeddingSize: 16 }).tokenize('a embedding:myemb cat', { embeddings: lookup });
    expect(Array.from(windows[0][2].embedding!)).toEqual(Array.from(l.slice(0, 16)));
    expect(Array.from(windows[0][3].embedding!)).toEqual(Array.from(l.slice(16)));
    expect(lookup('myemb', { size: 32, key: 'clip_g' })!.map((v) => v.length)).toEqual([32, 32]);
    expect(lookup('myemb', { size: 48, key: 't5xxl' })).toBeNull();
    const encode = async (text: string) => ((await CLIPTextEncode.execute({ text, clip }, ctx())) as [Entry[]])[0][0][0];
    const withEmb = await encode('a embedding:myemb cat');
    const without = await encode('a cat');
    expect(withEmb.shape).toEqual(without.shape);
    expect(Array.from(withEmb.data)).not.toEqual(Array.from(without.data));
  });
});
