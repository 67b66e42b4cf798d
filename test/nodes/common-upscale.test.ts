import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../engine/tensor.js';
import { commonUpscale, type CropMethod, type UpscaleMethod } from '../../nodes/image/common-upscale.js';
import { pythonRound } from '../../nodes/image/python-math.js';

interface GoldenCase {
  input: 'image' | 'latent';
  method: UpscaleMethod;
  width: number;
  height: number;
  crop: CropMethod;
  channels_last: boolean;
  output: number[];
}

interface Golden {
  torch_version: string;
  inputs: Record<'image' | 'latent', { shape: number[]; data: number[] }>;
  cases: GoldenCase[];
}

const golden: Golden = JSON.parse(fs.readFileSync(path.join(__dirname, '../golden/nodes/resize.json'), 'utf8'));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('common_upscale against torch.nn.functional.interpolate (golden from tools/nodes-resize-golden.py)', () => {
  for (const c of golden.cases) {
    const label = `${c.method} ${c.input} → ${c.width}×${c.height} crop=${c.crop}${c.channels_last ? ' (channels-last input)' : ''}`;
    it(label, async () => {
      const input = golden.inputs[c.input];
      const src = tensor('float32', input.shape, Float32Array.from(input.data));
      const out = await commonUpscale(src, c.width, c.height, c.method, c.crop);
      expect(out.shape.slice(2)).toEqual([c.height, c.width]);
      expect(out.data.length).toBe(c.output.length);
      expect(maxAbsDiff(out.data, c.output)).toBeLessThan(c.method === 'bislerp' ? 2e-5 : 2e-6);
    });
  }
});

describe('lanczos (through sharp)', () => {
  it('keeps a flat image flat and produces the requested size', async () => {
    const src = tensor('float32', [1, 3, 6, 10], new Float32Array(180).fill(0.5));
    const out = await commonUpscale(src, 4, 3, 'lanczos', 'disabled');
    expect(out.shape).toEqual([1, 3, 3, 4]);
    // 0.5 → uint8 127 (truncation, as ComfyUI) → 127/255
    for (const v of out.data) expect(v).toBeCloseTo(127 / 255, 6);
  });
});

describe('lanczos channel layouts', () => {
  it('keeps grey and grey+alpha planes in place', async () => {
    const grey = tensor('float32', [1, 1, 4, 4], new Float32Array(16).fill(0.2));
    expect((await commonUpscale(grey, 2, 2, 'lanczos', 'disabled')).data[0]).toBeCloseTo(51 / 255, 6);
    const ga = new Float32Array(32);
    ga.fill(0.2, 0, 16);
    ga.fill(1, 16, 32);
    const out = await commonUpscale(tensor('float32', [1, 2, 4, 4], ga), 2, 2, 'lanczos', 'disabled');
    expect(out.shape).toEqual([1, 2, 2, 2]);
    expect(out.data[0]).toBeCloseTo(51 / 255, 2);
    expect(out.data[4]).toBeCloseTo(1, 6);
  });
});

describe('pythonRound', () => {
  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4, 2.6].map(pythonRound)).toEqual([0, 2, 2, 4, 0, -2, 2, 3]);
  });
});
