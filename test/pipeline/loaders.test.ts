/**
 * The loader nodes on real files: slot order does not matter (files are told apart by their
 * weights), split files from every folder kind work, and the same weights are never loaded twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../engine/tensor.js';
import type { ClipHandle } from '../../nodes/conditioning/clip-handle.js';
import { CLIPTextEncode, CLIPTextEncodeSD3 } from '../../nodes/conditioning/conditioning-nodes.js';
import { EmptySD3LatentImage } from '../../nodes/latent/latent-nodes.js';
import { DEMO_CHECKPOINT_NAME, makeDemoCheckpoint } from '../../nodes/loaders/demo-checkpoint.js';
import { CheckpointLoaderSimple, CLIPLoader, DualCLIPLoader, TripleCLIPLoader, VAELoader } from '../../nodes/loaders/loader-nodes.js';
import { ModelManager } from '../../nodes/models/model-manager.js';
import type { NodeEnvironment } from '../../nodes/node-api.js';
import { KSampler } from '../../nodes/sampling/ksampler-nodes.js';
import { UNETLoader } from '../../nodes/sampling/model-nodes.js';
import { VAEDecode } from '../../nodes/vae/vae-nodes.js';
import { makeTestContext } from '../helpers/context.js';
import { makeTestEnv } from '../helpers/env.js';
import { SPLIT, writeSplitFiles } from './split-files.js';

type Cond = [Tensor<'float32'>, { pooled_output: Tensor<'float32'> }][];

let env: NodeEnvironment;
let models: ModelManager;
let files: ReturnType<typeof writeSplitFiles>;

beforeAll(() => {
  models = new ModelManager({});
  env = makeTestEnv({ models });
  files = writeSplitFiles(env);
  makeDemoCheckpoint(path.join(env.folders.searchRoots('checkpoints')![0], DEMO_CHECKPOINT_NAME));
});

const ctx = () => makeTestContext(env);
const fileOf = (handle: ClipHandle, slot: 'clipL' | 'clipG' | 't5') => (handle.parts[slot] ? JSON.parse(handle.parts[slot]!.key).path : undefined);

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

describe('TripleCLIPLoader / DualCLIPLoader slot order', () => {
  it('assigns CLIP-L, CLIP-G and T5 by their weights in all 6 slot orders', async () => {
    for (const [a, b, c] of permutations([SPLIT.clipL, SPLIT.clipG, SPLIT.t5])) {
      const [clip] = (await TripleCLIPLoader.execute({ clip_name1: a, clip_name2: b, clip_name3: c }, ctx())) as [ClipHandle];
      expect([fileOf(clip, 'clipL'), fileOf(clip, 'clipG'), fileOf(clip, 't5')], `${a}, ${b}, ${c}`).toEqual([files.clipL, files.clipG, files.t5]);
    }
  });

  it('gives the same conditioning whatever the order', async () => {
    const encode = async (names: string[]) => {
      const [clip] = (await TripleCLIPLoader.execute({ clip_name1: names[0], clip_name2: names[1], clip_name3: names[2] }, ctx())) as [ClipHandle];
      return ((await CLIPTextEncode.execute({ text: 'a red cat', clip }, ctx())) as [Cond])[0];
    };
    const one = await encode([SPLIT.clipL, SPLIT.clipG, SPLIT.t5]);
    const other = await encode([SPLIT.t5, SPLIT.clipG, SPLIT.clipL]);
    expect(one[0][0].shape).toEqual([1, 154, 48]);
    expect(Array.from(other[0][0].data)).toEqual(Array.from(one[0][0].data));
    expect(Array.from(other[0][1].pooled_output.data)).toEqual(Array.from(one[0][1].pooled_output.data));
  });

  it('DualCLIPLoader (sd3): the narrower CLIP is CLIP-L in either slot; CLIP + T5 works', async () => {
    for (const [a, b] of [[SPLIT.clipG, SPLIT.clipL], [SPLIT.clipL, SPLIT.clipG]]) {
      const [clip] = (await DualCLIPLoader.execute({ clip_name1: a, clip_name2: b, type: 'sd3' }, ctx())) as [ClipHandle];
      expect([fileOf(clip, 'clipL'), fileOf(clip, 'clipG'), fileOf(clip, 't5')]).toEqual([files.clipL, files.clipG, undefined]);
      const [cond] = (await CLIPTextEncode.execute({ text: 'x', clip }, ctx())) as [Cond];
      expect(cond[0][0].shape).toEqual([1, 77, 48]); // no T5: CLIP tokens only
    }
    const [lt5] = (await DualCLIPLoader.execute({ clip_name1: SPLIT.t5, clip_name2: SPLIT.clipL, type: 'sd3' }, ctx())) as [ClipHandle];
    expect([fileOf(lt5, 'clipL'), fileOf(lt5, 't5')]).toEqual([files.clipL, files.t5]);
  });

  it('CLIPLoader (sd3) with a T5 file alone encodes T5 tokens only; CLIPTextEncodeSD3 drops empty parts', async () => {
    const [clip] = (await CLIPLoader.execute({ clip_name: SPLIT.t5, type: 'sd3' }, ctx())) as [ClipHandle];
    const [cond] = (await CLIPTextEncode.execute({ text: 'a cat', clip }, ctx())) as [Cond];
    expect(cond[0][0].shape).toEqual([1, 77, 48]);
    expect(Array.from(cond[0][1].pooled_output.data).every((v) => v === 0)).toBe(true);
    const [triple] = (await TripleCLIPLoader.execute({ clip_name1: SPLIT.clipL, clip_name2: SPLIT.clipG, clip_name3: SPLIT.t5 }, ctx())) as [ClipHandle];
    const [noT5] = (await CLIPTextEncodeSD3.execute({ clip: triple, clip_l: 'a cat', clip_g: 'a cat', t5xxl: '', empty_padding: 'none' }, ctx())) as [Cond];
    expect(noT5[0][0].shape).toEqual([1, 77, 48]);
    const [padded] = (await CLIPTextEncodeSD3.execute({ clip: triple, clip_l: 'a cat', clip_g: 'a cat', t5xxl: '', empty_padding: 'empty_prompt' }, ctx())) as [Cond];
    expect(padded[0][0].shape).toEqual([1, 154, 48]);
  });

  it('unsupported CLIP types fail at execution with a clear error', async () => {
    await expect(CLIPLoader.execute({ clip_name: SPLIT.clipL, type: 'stable_diffusion' }, ctx())).rejects.toThrow(/type 'stable_diffusion' is not supported.*use type 'sd3'/);
    await expect(DualCLIPLoader.execute({ clip_name1: SPLIT.clipL, clip_name2: SPLIT.clipG, type: 'flux' }, ctx())).rejects.toThrow(/'flux'.*'sd3'/);
  });
});

describe('split files and sharing', () => {
  it('UNETLoader + TripleCLIPLoader + VAELoader run the pipeline to an image', async () => {
    const c = ctx();
    const [model] = (await UNETLoader.execute({ unet_name: SPLIT.unet, weight_dtype: 'default' }, c)) as [unknown];
    const [clip] = (await TripleCLIPLoader.execute({ clip_name1: SPLIT.t5, clip_name2: SPLIT.clipL, clip_name3: SPLIT.clipG }, c)) as [ClipHandle];
    const [vae] = (await VAELoader.execute({ vae_name: SPLIT.vae }, c)) as [unknown];
    const [pos] = (await CLIPTextEncode.execute({ text: 'a cat', clip }, c)) as [Cond];
    const [neg] = (await CLIPTextEncode.execute({ text: '', clip }, c)) as [Cond];
    const [latent] = (await EmptySD3LatentImage.execute({ width: 64, height: 64, batch_size: 1 }, c)) as [unknown];
    const [out] = (await KSampler.execute({ model, seed: 3, steps: 2, cfg: 3, sampler_name: 'euler', scheduler: 'sgm_uniform', positive: pos, negative: neg, latent_image: latent, denoise: 1 } as never, c)) as [unknown];
    const [image] = (await VAEDecode.execute({ samples: out, vae }, c)) as [Tensor<'float32'>];
    expect(image.shape).toEqual([1, 64, 64, 3]);
    expect(image.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('never loads the same weights twice for two loaders', async () => {
    await TripleCLIPLoader.execute({ clip_name1: SPLIT.clipL, clip_name2: SPLIT.clipG, clip_name3: SPLIT.t5 }, ctx());
    const before = models.loadCount;
    await CLIPLoader.execute({ clip_name: SPLIT.t5, type: 'sd3' }, ctx());
    await DualCLIPLoader.execute({ clip_name1: SPLIT.clipG, clip_name2: SPLIT.clipL, type: 'sd3' }, ctx());
    await TripleCLIPLoader.execute({ clip_name1: SPLIT.t5, clip_name2: SPLIT.clipG, clip_name3: SPLIT.clipL }, ctx());
    const afterClip = models.loadCount;
    expect(afterClip).toBe(before);
    await CheckpointLoaderSimple.execute({ ckpt_name: DEMO_CHECKPOINT_NAME }, ctx());
    const afterFirst = models.loadCount;
    await CheckpointLoaderSimple.execute({ ckpt_name: DEMO_CHECKPOINT_NAME }, ctx());
    expect(models.loadCount).toBe(afterFirst);
    expect(afterFirst - afterClip).toBe(5); // MMDiT, CLIP-L, CLIP-G, T5, VAE of the checkpoint
  });

  it('finds text encoders in the legacy clip/ folder and in extra_model_paths roots', async () => {
    const legacy = path.join(env.folders.modelsDir, 'clip');
    const extra = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-extra-'));
    env.folders.addRoot('text_encoders', extra);
    fs.mkdirSync(legacy, { recursive: true });
    fs.copyFileSync(files.clipL, path.join(legacy, 'legacy_clip_l.safetensors'));
    fs.copyFileSync(files.clipG, path.join(extra, 'extra_clip_g.safetensors'));
    expect(env.folders.listFiles('text_encoders')).toEqual(expect.arrayContaining(['legacy_clip_l.safetensors', 'extra_clip_g.safetensors']));
    const [clip] = (await DualCLIPLoader.execute({ clip_name1: 'extra_clip_g.safetensors', clip_name2: 'legacy_clip_l.safetensors', type: 'sd3' }, ctx())) as [ClipHandle];
    expect([fileOf(clip, 'clipL'), fileOf(clip, 'clipG')]).toEqual([path.join(legacy, 'legacy_clip_l.safetensors'), path.join(extra, 'extra_clip_g.safetensors')]);
  });
});
