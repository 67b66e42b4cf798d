import { describe, expect, it } from 'vitest';
import { checkNodeClass, tensor, type Image } from 'comfy8/node-api';
import { adjustImage, autoLevels, gaussianKernel, sharpenImage } from '../adjust.js';
import { C8ImageSharpen, NODE_CLASS_MAPPINGS } from '../index.js';

const image = (values: number[], shape: [number, number, number, number]): Image => tensor('float32', shape, Float32Array.from(values));
const values = (t: Image) => Array.from(t.data, (v) => Math.round(v * 1e5) / 1e5);
const neutral = { brightness: 0, contrast: 1, saturation: 1, gamma: 1 };

describe('adjustImage', () => {
  it('leaves pixels alone with neutral settings and returns a new tensor', () => {
    const src = image([0.1, 0.5, 0.9, 0.3, 0.2, 0.7], [1, 1, 2, 3]);
    const out = adjustImage(src, neutral);
    expect(out).not.toBe(src);
    expect(values(out)).toEqual(values(src));
  });

  it('applies brightness, contrast, gamma and clamps to 0..1', () => {
    expect(values(adjustImage(image([0.5, 0.95, 0.05], [1, 1, 1, 3]), { ...neutral, brightness: 0.1 }))).toEqual([0.6, 1, 0.15]);
    expect(values(adjustImage(image([0.6, 0.75, 0.5], [1, 1, 1, 3]), { ...neutral, contrast: 2 }))).toEqual([0.7, 1, 0.5]);
    expect(values(adjustImage(image([0.25, 0.04, 1], [1, 1, 1, 3]), { ...neutral, gamma: 2 }))).toEqual([0.5, 0.2, 1]);
  });

  it('saturation 0 gives the Rec. 709 luma in every colour channel and keeps alpha', () => {
    const out = adjustImage(image([1, 0, 0, 0.4], [1, 1, 1, 4]), { ...neutral, saturation: 0 });
    expect(values(out)).toEqual([0.2126, 0.2126, 0.2126, 0.4]);
  });
});

describe('sharpenImage', () => {
  it('uses a normalised Gaussian kernel', () => {
    const k = gaussianKernel(2, 1);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(k[0]).toBeCloseTo(k[4]!, 7);
  });

  it('keeps flat areas and steepens an edge, clamped to 0..1', () => {
    const flat = image(new Array(16).fill(0.3), [1, 4, 4, 1]);
    expect(values(sharpenImage(flat, 1, 1, 2))).toEqual(values(flat));
    const row = [0.2, 0.2, 0.2, 0.8, 0.8, 0.8];
    const edge = image([...row, ...row], [1, 2, 6, 1]);
    const out = values(sharpenImage(edge, 1, 1, 1));
    expect(out[2]).toBeLessThan(0.2);
    expect(out[3]).toBeGreaterThan(0.8);
    expect(out[0]).toBeCloseTo(0.2, 5);
    expect(out.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('reflects at the borders as PyTorch reflect padding does', () => {
    // Row [0, 1, 0]: at x = 0 the blur reads x = -1 → x = 1, so blur = 2·k[0] and the result
    // is 0 + 1·(0 − 2·k[0]) → clamped to 0; at x = 1 it is 1 + (1 − k[1]) → clamped to 1.
    const out = values(sharpenImage(image([0, 1, 0], [1, 1, 3, 1]), 1, 1, 1));
    expect(out).toEqual([0, 1, 0]);
    const soft = values(sharpenImage(image([0.5, 0.6, 0.5], [1, 1, 3, 1]), 1, 1, 1));
    const k = gaussianKernel(1, 1);
    expect(soft[0]).toBeCloseTo(0.5 + (0.5 - (2 * k[0]! * 0.6 + k[1]! * 0.5)), 5);
  });

  it('returns the input unchanged for amount 0 and stops when interrupted', async () => {
    const src = image([0.1, 0.2, 0.3], [1, 1, 1, 3]);
    const ctx = { checkInterrupt: () => { throw new Error('interrupted'); } } as never;
    const node = new C8ImageSharpen();
    expect((await node.sharpen({ image: src, radius: 1, sigma: 1, amount: 0 }, ctx))[0]).toBe(src);
    await expect(node.sharpen({ image: src, radius: 1, sigma: 1, amount: 1 }, ctx)).rejects.toThrow('interrupted');
  });
});

describe('autoLevels', () => {
  it('stretches each channel of each image to 0..1 and leaves flat channels', () => {
    const out = autoLevels(image([0.2, 0.5, 0.4, 0.5, 0.6, 0.5], [1, 1, 3, 2]));
    expect(values(out)).toEqual([0, 0.5, 0.5, 0.5, 1, 0.5]);
  });
});

describe('declarations', () => {
  it('pass the loader checks', () => {
    for (const [name, cls] of Object.entries(NODE_CLASS_MAPPINGS)) {
      expect(checkNodeClass('comfy8-image-adjust', name, cls)).toMatchObject({ name, category: 'image/adjust', returnTypes: ['IMAGE'] });
    }
  });
});
