import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { castTensor } from '../../engine/dtypes.js';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { destructuredNames, discoverPacks, findNonFinite, importTimesSummary, prepareInputs, prepareValue, checkValue, type PackReport } from '../../nodes/plugins/index.js';

const f32 = (values: number[], shape = [values.length]) => tensor('float32', shape, Float32Array.from(values));
const fp8 = (values: number[]) => castTensor(f32(values), 'float8_e4m3fn');
const guard = { acceptsFp8: false, requiresFp32: false, copy: false };

describe('prepareValue (FP16 guard and input protection)', () => {
  it('passes the very same objects through when nothing needs casting and copying is off', () => {
    const latent = { samples: f32([1, 2, 3, 4], [1, 1, 2, 2]), batch_index: [0] };
    const cond = [[castTensor(f32([0.5]), 'float16'), { pooled_output: f32([1]) }]];
    const inputs = { latent, cond, list: [latent], seed: 5, text: 'x' };
    const casts: string[] = [];
    const out = prepareValue(inputs, { ...guard, onCast: (from, to) => casts.push(`${from}->${to}`) });
    expect(out).toBe(inputs);
    expect(out.latent).toBe(latent);
    expect(out.cond[0]![0]).toBe(cond[0]![0]);
    expect(casts).toEqual([]);
  });

  it('casts FP8 tensors to float16 directly, inside dicts, CONDITIONING pairs and lists; the rest keeps its identity', () => {
    const untouched = f32([7]);
    const inputs = {
      direct: fp8([1, -2]),
      latent: { samples: fp8([0.5]), noise_mask: untouched },
      cond: [[fp8([3]), { pooled_output: fp8([4]) }]],
      list: [[fp8([448])]],
    };
    const casts: string[] = [];
    const out = prepareValue(inputs, { ...guard, onCast: (from, to, shape) => casts.push(`${from}->${to} [${shape.join(',')}]`) });
    const asNumbers = (t: Tensor) => Array.from(castTensor(t, 'float32').data as Float32Array);
    expect(out.direct.dtype).toBe('float16');
    expect(asNumbers(out.direct)).toEqual([1, -2]);
    expect(out.latent.samples.dtype).toBe('float16');
    expect(out.latent.noise_mask).toBe(untouched);
    expect((out.cond[0]![0] as Tensor).dtype).toBe('float16');
    expect(asNumbers((out.cond[0]![1] as { pooled_output: Tensor }).pooled_output)).toEqual([4]);
    expect(asNumbers(out.list[0]![0]!)).toEqual([448]);
    expect(casts).toHaveLength(5);
    expect(casts[0]).toBe('float8_e4m3fn->float16 [2]');
    // The inputs themselves are unchanged.
    expect(inputs.direct.dtype).toBe('float8_e4m3fn');
  });

  it('leaves FP8 alone with acceptsFp8, and gives float32 for every half/FP8 tensor with requiresFp32', () => {
    const t8 = fp8([1.5]);
    expect(prepareValue({ t8 }, { ...guard, acceptsFp8: true }).t8).toBe(t8);
    const half = castTensor(f32([0.25]), 'float16');
    const bf = castTensor(f32([3]), 'bfloat16');
    const out = prepareValue({ half, bf, t8 }, { ...guard, requiresFp32: true });
    expect([out.half, out.bf, out.t8].map((t) => [t.dtype, Array.from(t.data as Float32Array)])).toEqual([
      ['float32', [0.25]],
      ['float32', [3]],
      ['float32', [1.5]],
    ]);
  });

  it('copies tensors and plain containers with copy on, leaving class instances alone', () => {
    class Handle {}
    const handle = new Handle();
    const image = f32([0.1, 0.2], [1, 1, 1, 2]);
    const inputs = { image, model: handle, nested: { list: [image] } };
    const out = prepareValue(inputs, { ...guard, copy: true });
    expect(out).not.toBe(inputs);
    expect(out.image).not.toBe(image);
    expect(out.image.data).not.toBe(image.data);
    expect(out.image).toEqual(image);
    expect(out.nested.list[0]).not.toBe(image);
    expect(out.model).toBe(handle);
    (out.image.data as Float32Array).fill(9);
    expect(Array.from(image.data as Float32Array)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
  });
});

describe('prepareInputs', () => {
  it('passes model handles (MODEL, CLIP, VAE…) as they are, FP8 weights included, and guards the data inputs', () => {
    const model = { weights: { 'blocks.0': fp8([1, 2]) } };
    const latent = { samples: fp8([0.5]) };
    const types = { required: { model: ['MODEL'], latent: ['LATENT'] }, optional: { clip: ['CLIP'] } } as const;
    const out = prepareInputs({ model, latent, clip: model }, types, { ...guard, copy: true });
    expect(out['model']).toBe(model);
    expect(out['clip']).toBe(model);
    expect((out['latent'] as typeof latent).samples.dtype).toBe('float16');
    const untouched = { text: 'a' };
    expect(prepareInputs(untouched, { required: { text: ['STRING'] } }, guard)).toBe(untouched);
  });
});

describe('findNonFinite', () => {
  it('finds NaN/Inf in every float dtype, numbers and nested values, and nothing in finite ones', () => {
    expect(findNonFinite({ a: [1, 2], t: f32([1, 2]) })).toBeNull();
    expect(findNonFinite({ samples: f32([0, Infinity]) })).toBe('samples element 1 of float32 [2]');
    for (const dtype of ['float16', 'bfloat16', 'float8_e5m2'] as const) {
      expect(findNonFinite(castTensor(f32([1, NaN]), dtype)), dtype).toContain('element 1');
      expect(findNonFinite(castTensor(f32([1, 2]), dtype)), dtype).toBeNull();
    }
    expect(findNonFinite(castTensor(f32([NaN, 1]), 'float8_e4m3fn'))).toContain('element 0');
    expect(findNonFinite([[f32([1])], { x: -Infinity }])).toBe('[1].x = -Infinity');
  });
});

describe('checkValue', () => {
  const opts = { checkRange: true };
  it('accepts well-formed values and names the problem otherwise', () => {
    expect(checkValue('IMAGE', f32([0, 1], [1, 1, 1, 2]), opts)).toBeNull();
    expect(checkValue('MASK', f32([0.5], [1, 1, 1]), opts)).toBeNull();
    expect(checkValue('MASK', f32([0.5], [1, 1]), opts)).toContain('MASK must be a float32 tensor [B, H, W], got float32 [1, 1]');
    expect(checkValue('IMAGE', f32([-0.5], [1, 1, 1, 1]), { checkRange: false })).toBeNull();
    expect(checkValue('LATENT', { samples: fp8([1, 2, 3, 4]) }, opts)).toContain('got float8_e4m3fn [4]');
    expect(checkValue('CONDITIONING', [[f32([1], [1, 1, 1]), { pooled_output: null }]], opts)).toBeNull();
    expect(checkValue('CONDITIONING', [[f32([1], [1, 1, 1])]], opts)).toContain('CONDITIONING[0] must be a [cond tensor, options dict] pair');
    expect(checkValue('BOOLEAN', 1, opts)).toContain('BOOLEAN must be true or false');
    expect(checkValue('MODEL', 'anything', opts)).toBeNull();
    expect(checkValue(['a', 'b'], 'a', opts)).toBeNull();
  });
});

describe('destructuredNames (which inputs VALIDATE_INPUTS takes)', () => {
  it('reads destructured parameters of methods, functions and arrows; anything else means all', () => {
    const holder = {
      VALIDATE_INPUTS({ a, b = 2, input_types }: Record<string, unknown>) {
        return [a, b, input_types];
      },
    };
    expect(destructuredNames(holder.VALIDATE_INPUTS)).toEqual(['a', 'b', 'input_types']);
    expect(destructuredNames(({ seed: s }: { seed: number }) => s)).toEqual(['seed']);
    expect(destructuredNames(function (inputs: unknown) {
      return inputs;
    })).toBe('*');
    expect(destructuredNames(({ a, ...rest }: Record<string, unknown>) => [a, rest])).toBe('*');
  });
});

describe('discovery and the summary', () => {
  function root(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-discover-'));
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    }
    return dir;
  }

  it("finds folders and single files, resolves entries, explains packs without one, skips what ComfyUI skips", () => {
    const dir = root({
      'a/package.json': JSON.stringify({ exports: { '.': { types: './x.d.ts', import: './dist/a.mjs' } } }),
      'a/dist/a.mjs': '',
      'b/index.ts': '',
      'c/package.json': '{ nope',
      'd/package.json': JSON.stringify({ main: 'gone.js' }),
      'e/readme.md': '',
      'single.mjs': '',
      'types.d.ts': '',
      'notes.md': '',
      'off.disabled/index.js': '',
      '.hidden/index.js': '',
      'node_modules/x/index.js': '',
    });
    try {
      const found = discoverPacks({ roots: [dir, dir, path.join(dir, 'missing')], disableAll: false, whitelist: [] });
      const byName = Object.fromEntries(found.map((c) => [c.name, c]));
      expect(Object.keys(byName).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'single']);
      expect(byName['a']!.entry).toBe(path.join(dir, 'a', 'dist', 'a.mjs'));
      expect(byName['b']!.entry).toBe(path.join(dir, 'b', 'index.ts'));
      expect(byName['c']!.problem).toContain('package.json is not valid JSON');
      expect(byName['d']!.problem).toContain("names the entry 'gone.js', which does not exist");
      expect(byName['e']!.problem).toContain('no entry module');
      expect(byName['single']).toMatchObject({ entry: path.join(dir, 'single.mjs'), dir });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("formats ComfyUI's import-time lines, fastest first", () => {
    const report = (name: string, seconds: number, ok: boolean): PackReport => ({ name, path: `/n/${name}`, ok, seconds, nodes: [], problems: [] });
    expect(importTimesSummary([report('slow', 12.34, true), report('bad', 0.04, false)])).toEqual([
      '   0.0 seconds (IMPORT FAILED): /n/bad',
      '  12.3 seconds: /n/slow',
    ]);
  });
});
