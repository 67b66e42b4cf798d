import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { EmptyImage, ImageBatch, ImageCrop, ImageInvert, ImagePadForOutpaint, ImageScale, ImageScaleBy } from '../../nodes/image/image-nodes.js';
import { InterruptedError } from '../../nodes/node-api.js';
import { makeTestContext } from '../helpers/context.js';
import { makeTestEnv } from '../helpers/env.js';

type T = Tensor<'float32'>;
const env = makeTestEnv();
const ctx = () => makeTestContext(env);

/** [1, h, w, c] with value = (y * w + x) / 100 + channel / 1000. */
function ramp(h: number, w: number, c = 3, batch = 1): T {
  const data = new Float32Array(batch * h * w * c);
  for (let b = 0; b < batch; b++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) data[((b * h + y) * w + x) * c + k] = (y * w + x) / 100 + k / 1000 + b;
  return tensor('float32', [batch, h, w, c], data);
}

async function run(node: { execute: (i: never, c: never) => unknown }, inputs: Record<string, unknown>): Promise<T[]> {
  return (await node.execute(inputs as never, ctx() as never)) as T[];
}

describe('EmptyImage', () => {
  it('fills the batch with the colour', async () => {
    const [img] = await run(EmptyImage, { width: 3, height: 2, batch_size: 2, color: 0xff8000 });
    expect(img!.shape).toEqual([2, 2, 3, 3]);
    expect([...img!.data.subarray(0, 3)]).toEqual([1, Math.fround(128 / 255), 0]);
  });
});

describe('ImageInvert', () => {
  it('inverts colour and keeps alpha', async () => {
    const img = tensor('float32', [1, 1, 1, 4], Float32Array.from([0.25, 1, 0, 0.6]));
    const [out] = await run(ImageInvert, { image: img });
    expect([...out!.data]).toEqual([0.75, 0, 1, Math.fround(0.6)]);
  });
});

describe('ImageScale / ImageScaleBy', () => {
  it('keeps the aspect ratio when one side is 0 and returns the input when both are', async () => {
    const img = ramp(4, 6);
    const [same] = await run(ImageScale, { image: img, upscale_method: 'bilinear', width: 0, height: 0, crop: 'disabled' });
    expect(same).toBe(img);
    const [h0] = await run(ImageScale, { image: img, upscale_method: 'nearest-exact', width: 9, height: 0, crop: 'disabled' });
    expect(h0!.shape).toEqual([1, 6, 9, 3]);
    const [w0] = await run(ImageScale, { image: img, upscale_method: 'area', width: 0, height: 2, crop: 'disabled' });
    expect(w0!.shape).toEqual([1, 2, 3, 3]);
    // area halving averages 2×2 blocks: top-left block of channel 0 = (0 + 1 + 6 + 7) / 4 / 100
    expect(w0!.data[0]).toBeCloseTo(0.035, 6);
  });

  it('centre-crops to the target aspect ratio', async () => {
    const img = ramp(4, 8);
    const [out] = await run(ImageScale, { image: img, upscale_method: 'nearest-exact', width: 4, height: 4, crop: 'center' });
    // crop x = 2: the first output pixel is source (0, 2)
    expect(out!.data[0]).toBeCloseTo(0.02, 6);
  });

  it('ImageScaleBy rounds sizes like Python', async () => {
    const [out] = await run(ImageScaleBy, { image: ramp(5, 3), upscale_method: 'bicubic', scale_by: 0.5 });
    expect(out!.shape).toEqual([1, 2, 2, 3]); // round(2.5) = 2, round(1.5) = 2
  });

  it('stops when the prompt is interrupted', async () => {
    const c = makeTestContext(env);
    c.interrupt();
    await expect(ImageScale.execute({ image: ramp(4, 4), upscale_method: 'bilinear', width: 8, height: 8, crop: 'disabled' }, c)).rejects.toThrow(InterruptedError);
  });
});

describe('ImageCrop', () => {
  it('crops and clamps the origin inside the image', async () => {
    const [out] = await run(ImageCrop, { image: ramp(4, 5), width: 2, height: 2, x: 1, y: 2 });
    expect(out!.shape).toEqual([1, 2, 2, 3]);
    expect(out!.data[0]).toBeCloseTo(0.11, 6);
    const [edge] = await run(ImageCrop, { image: ramp(4, 5), width: 3, height: 3, x: 50, y: 50 });
    expect(edge!.shape).toEqual([1, 1, 1, 3]);
    expect(edge!.data[0]).toBeCloseTo(0.19, 6);
  });
});

describe('ImageBatch', () => {
  it('concatenates, resizing the second image and padding a missing alpha with 1', async () => {
    const a = ramp(2, 2, 4);
    const b = ramp(4, 4, 3);
    const [out] = await run(ImageBatch, { image1: a, image2: b });
    expect(out!.shape).toEqual([2, 2, 2, 4]);
    expect(out!.data[16 + 3]).toBe(1);
  });
});

describe('ImagePadForOutpaint', () => {
  it('pads with grey and builds the feathered mask', async () => {
    const [img, mask] = await run(ImagePadForOutpaint, { image: ramp(10, 10), left: 2, top: 0, right: 0, bottom: 1, feathering: 3 });
    expect(img!.shape).toEqual([1, 11, 12, 3]);
    expect(img!.data[0]).toBe(0.5);
    expect(img!.data[2 * 3]).toBe(0); // original (0, 0) lands at x = 2
    expect(mask!.shape).toEqual([1, 11, 12]);
    const m = (y: number, x: number) => mask!.data[y * 12 + x]!;
    expect(m(0, 0)).toBe(1); // padding
    expect(m(10, 5)).toBe(1);
    expect(m(0, 2)).toBeCloseTo(1, 6); // d = 0 from the left edge → ((3 − 0) / 3)²
    expect(m(0, 3)).toBeCloseTo((2 / 3) ** 2, 6);
    expect(m(9, 7)).toBeCloseTo((2 / 3) ** 2, 6); // d = 10 − 9 = 1 from the bottom
    expect(m(4, 8)).toBe(0);
  });
});
