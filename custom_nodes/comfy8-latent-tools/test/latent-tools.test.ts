import { describe, expect, it } from 'vitest';
import { castTensor, checkNodeClass, tensor, type Latent, type Tensor } from 'comfy8/node-api';
import { blend, standardize, statsText, summarize } from '../latent-math.js';
import { C8LatentBlend, C8LatentCast, C8LatentNormalize, C8LatentStats, NODE_CLASS_MAPPINGS } from '../index.js';

const f32 = (values: number[], shape: number[]) => tensor('float32', shape, Float32Array.from(values));
const latentOf = (samples: Tensor, extra: Record<string, unknown> = {}): Latent => ({ samples, ...extra });
const numbers = (t: Tensor) => Array.from(castTensor(t, 'float32').data as Float32Array);

describe('latent math', () => {
  it('blends like ComfyUI (normal), adds and subtracts, reading FP8 directly', () => {
    const a = castTensor(f32([1, 2, -1, 0.5], [1, 1, 2, 2]), 'float8_e4m3fn');
    const b = f32([3, 0, 1, 0.5], [1, 1, 2, 2]);
    expect(numbers(blend(a, b, 0.25, 'normal'))).toEqual([2.5, 0.5, 0.5, 0.5]);
    expect(numbers(blend(a, b, 0.5, 'add'))).toEqual([2.5, 2, -0.5, 0.75]);
    expect(numbers(blend(a, b, 1, 'subtract'))).toEqual([-2, 2, -2, 0]);
    expect(() => blend(a, f32([1], [1, 1, 1, 1]), 0.5, 'normal')).toThrow('samples2 [1, 1, 1, 1] must have the shape of samples1 [1, 1, 2, 2]');
  });

  it('standardises each channel of each batch item to mean 0 and the given std', () => {
    const t = standardize(f32([1, 3, 10, 10, 0, 4, 5, 7], [2, 2, 2, 1]), 2);
    const v = numbers(t);
    for (let plane = 0; plane < 4; plane++) {
      const s = summarize(Float32Array.from(v.slice(plane * 2, plane * 2 + 2)));
      expect(s.mean).toBeCloseTo(0, 6);
      if (plane !== 1) expect(s.std).toBeCloseTo(2, 5);
    }
    expect(v.slice(2, 4)).toEqual([0, 0]); // a flat channel
  });

  it('reports dtype, shape and per-channel statistics', () => {
    const text = statsText(castTensor(f32([1, 2, 3, 4], [1, 2, 2, 1]), 'float8_e4m3fn'));
    expect(text.split('\n')).toEqual([
      'dtype float8_e4m3fn, shape [1, 2, 2, 1]',
      'all: mean 2.5000 std 1.1180 min 1.0000 max 4.0000',
      'channel 0: mean 1.5000 std 0.5000 min 1.0000 max 2.0000',
      'channel 1: mean 3.5000 std 0.5000 min 3.0000 max 4.0000',
    ]);
  });
});

describe('nodes', () => {
  it('declare FP8 support and pass the loader checks', () => {
    for (const [name, cls] of Object.entries(NODE_CLASS_MAPPINGS)) {
      expect(checkNodeClass('comfy8-latent-tools', name, cls)).toMatchObject({ name, acceptsFp8: true, category: 'latent/tools' });
    }
  });

  it('keep the other keys of the LATENT and do not touch their inputs', () => {
    const samples = f32([1, 2, 3, 4], [1, 1, 2, 2]);
    const input = latentOf(samples, { batch_index: [3], noise_mask: f32([1], [1, 1, 1]) });
    const [out] = new C8LatentNormalize().normalize({ samples: input, mode: 'scale', factor: 2 });
    expect(numbers(out.samples)).toEqual([2, 4, 6, 8]);
    expect(out.batch_index).toEqual([3]);
    expect(numbers(samples)).toEqual([1, 2, 3, 4]);
    const [blended] = new C8LatentBlend().blend({ samples1: input, samples2: input, blend_factor: 0.5, blend_mode: 'normal' });
    expect(numbers(blended.samples)).toEqual([1, 2, 3, 4]);
  });

  it('casts between dtypes and reports stats as UI text and output', () => {
    const [fp8] = new C8LatentCast().cast({ samples: latentOf(f32([0.1, 1000], [1, 1, 1, 2])), dtype: 'float8_e4m3fn' });
    expect(fp8.samples.dtype).toBe('float8_e4m3fn');
    expect(numbers(fp8.samples)[0]).toBeCloseTo(0.1015625, 7);
    const same = latentOf(f32([1], [1, 1, 1, 1]));
    expect(new C8LatentCast().cast({ samples: same, dtype: 'float32' })[0]).toBe(same);
    const ret = new C8LatentStats().stats({ samples: fp8 });
    expect(ret.result[0]).toBe(ret.ui.text[0]);
    expect(ret.result[0]).toContain('dtype float8_e4m3fn');
  });
});
