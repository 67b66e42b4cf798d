import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../engine/tensor.js';
import type { Latent } from '../../nodes/latent/latent.js';
import { EmptyLatentImage, EmptySD3LatentImage, LatentFromBatch, LatentUpscale, LatentUpscaleBy, RepeatLatentBatch } from '../../nodes/latent/latent-nodes.js';
import { ImageToMask, InvertMask, MaskToImage, SolidMask } from '../../nodes/mask/mask-nodes.js';
import { makeTestContext } from '../helpers/context.js';
import { makeTestEnv } from '../helpers/env.js';

const env = makeTestEnv();

async function run<R>(node: { execute: (i: never, c: never) => unknown }, inputs: Record<string, unknown>): Promise<R[]> {
  return (await node.execute(inputs as never, makeTestContext(env) as never)) as R[];
}

function latent(batch: number, c = 4, h = 8, w = 8): Latent {
  const data = new Float32Array(batch * c * h * w);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(i / (c * h * w)); // value = batch position
  return { samples: tensor('float32', [batch, c, h, w], data) };
}

describe('empty latents', () => {
  it('EmptyLatentImage gives 4 zero channels at 1/8 size', async () => {
    const [l] = await run<Latent>(EmptyLatentImage, { width: 512, height: 520, batch_size: 2 });
    expect(l!.samples.shape).toEqual([2, 4, 65, 64]);
    expect(l!.samples.data.every((v) => v === 0)).toBe(true);
    expect(l!.downscale_ratio_spacial).toBe(8);
  });

  it('EmptySD3LatentImage gives 16 channels', async () => {
    const [l] = await run<Latent>(EmptySD3LatentImage, { width: 1024, height: 768, batch_size: 1 });
    expect(l!.samples.shape).toEqual([1, 16, 96, 128]);
  });
});

describe('latent upscale', () => {
  it('LatentUpscale applies the 64-pixel minimum and the aspect rule, and keeps other keys', async () => {
    const input = { ...latent(1, 4, 8, 16), batch_index: [3] };
    const [a] = await run<Latent>(LatentUpscale, { samples: input, upscale_method: 'nearest-exact', width: 0, height: 32, crop: 'disabled' });
    // height → max(64, 32) = 64; width = max(64, round(16 · 64 / 8)) = 128 → latent 8×16
    expect(a!.samples.shape).toEqual([1, 4, 8, 16]);
    expect(a!.batch_index).toEqual([3]);
    const [b] = await run<Latent>(LatentUpscale, { samples: input, upscale_method: 'bislerp', width: 256, height: 128, crop: 'center' });
    expect(b!.samples.shape).toEqual([1, 4, 16, 32]);
  });

  it('LatentUpscaleBy scales the latent size', async () => {
    const [l] = await run<Latent>(LatentUpscaleBy, { samples: latent(1), upscale_method: 'bilinear', scale_by: 1.5 });
    expect(l!.samples.shape).toEqual([1, 4, 12, 12]);
    expect(l!.samples.data.every((v) => v === 0)).toBe(true);
  });
});

describe('latent batches', () => {
  it('LatentFromBatch picks a range, clamps it, and records batch_index', async () => {
    const [l] = await run<Latent>(LatentFromBatch, { samples: latent(4), batch_index: -2, length: 5 });
    expect(l!.samples.shape[0]).toBe(2);
    expect(l!.samples.data[0]).toBe(2);
    expect(l!.batch_index).toEqual([2, 3]);
    const masked = { ...latent(3), noise_mask: tensor('float32', [1, 1, 8, 8], new Float32Array(64).fill(0.5)), batch_index: [7, 8, 9] };
    const [m] = await run<Latent>(LatentFromBatch, { samples: masked, batch_index: 1, length: 1 });
    expect(m!.batch_index).toEqual([8]);
    expect(m!.noise_mask!.shape).toEqual([1, 1, 8, 8]);
  });

  it('RepeatLatentBatch repeats samples and offsets batch_index', async () => {
    const [l] = await run<Latent>(RepeatLatentBatch, { samples: { ...latent(2), batch_index: [4, 5] }, amount: 3 });
    expect(l!.samples.shape[0]).toBe(6);
    expect([0, 1, 2, 3].map((b) => l!.samples.data[b * 256])).toEqual([0, 1, 0, 1]);
    expect(l!.batch_index).toEqual([4, 5, 6, 7, 8, 9]);
  });
});

describe('mask nodes', () => {
  it('SolidMask, InvertMask, MaskToImage, ImageToMask', async () => {
    const [solid] = await run<Tensor<'float32'>>(SolidMask, { value: 0.25, width: 3, height: 2 });
    expect(solid!.shape).toEqual([1, 2, 3]);
    expect(solid!.data.every((v) => v === 0.25)).toBe(true);
    const [inv] = await run<Tensor<'float32'>>(InvertMask, { mask: solid });
    expect(inv!.data[0]).toBe(0.75);
    const [img] = await run<Tensor<'float32'>>(MaskToImage, { mask: inv });
    expect(img!.shape).toEqual([1, 2, 3, 3]);
    expect([...img!.data.subarray(0, 3)]).toEqual([0.75, 0.75, 0.75]);
    const rgba = tensor('float32', [1, 1, 2, 4], Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]));
    const [green] = await run<Tensor<'float32'>>(ImageToMask, { image: rgba, channel: 'green' });
    expect(green!.shape).toEqual([1, 1, 2]);
    expect([...green!.data]).toEqual([Math.fround(0.2), Math.fround(0.6)]);
    await expect(run(ImageToMask, { image: img, channel: 'alpha' })).rejects.toThrow(/no 'alpha' channel/);
  });
});
