/**
 * MmditRunner as a loader: the weight cache is written once and reused, split checkpoints and
 * diffusers-format files give the same result as the single original file, and broken
 * checkpoints fail at load with the key named. Parity numbers themselves: mmdit-parity.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MmditRunner } from '../../engine/models/mmdit-runner.js';
import { encodeSafetensors } from '../../engine/safetensors.js';
import { BYTES_PER_ELEMENT, type Tensor } from '../../engine/tensor.js';
import { diff, manifest, readGolden, tinyTensors, variant } from './helpers/tiny-mmdit.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-mmdit-runner-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const P = manifest.prefix;
const FP32_TOL = 2e-5;

function write(name: string, tensors: Record<string, Tensor>): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, encodeSafetensors(tensors));
  return file;
}

/** Runs the b2-8x8 golden case through `runner`; returns rel-L2 of `out`. */
async function goldenError(runner: MmditRunner, variantName: string): Promise<number> {
  const golden = readGolden(variant(variantName));
  const g = (k: string) => golden.get(`b2-8x8/${k}`) as Tensor<'float32'>;
  const { out } = await runner.forward({ x: g('input.x'), timesteps: g('input.timestep'), context: g('input.context'), y: g('input.y') });
  return diff(out, g('out')).relL2;
}

/** Rows [from, to) of a tensor's dim 0, same dtype. */
function rows(t: Tensor, from: number, to: number): Tensor {
  const per = (t.data.length / t.shape[0]) * BYTES_PER_ELEMENT[t.dtype];
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice(from * per, to * per);
  const View = t.data.constructor as new (b: ArrayBuffer) => Tensor['data'];
  return { dtype: t.dtype, shape: [to - from, ...t.shape.slice(1)], data: new View(bytes.buffer) } as Tensor;
}

function swapHalves(t: Tensor): Tensor {
  const half = t.shape[0] / 2;
  const [a, b] = [rows(t, 0, half), rows(t, half, t.shape[0])];
  const bytes = new Uint8Array(t.data.byteLength);
  bytes.set(new Uint8Array(b.data.buffer), 0);
  bytes.set(new Uint8Array(a.data.buffer), bytes.length / 2);
  const View = t.data.constructor as new (b: ArrayBuffer) => Tensor['data'];
  return { ...t, data: new View(bytes.buffer) } as Tensor;
}

/** The original-layout tiny checkpoint under diffusers names (spec §1.6), written out by hand. */
function toDiffusers(original: Record<string, Tensor>, depth: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const basic: Record<string, string> = {
    'x_embedder.proj': 'pos_embed.proj',
    't_embedder.mlp.0': 'time_text_embed.timestep_embedder.linear_1',
    't_embedder.mlp.2': 'time_text_embed.timestep_embedder.linear_2',
    'y_embedder.mlp.0': 'time_text_embed.text_embedder.linear_1',
    'y_embedder.mlp.2': 'time_text_embed.text_embedder.linear_2',
    context_embedder: 'context_embedder',
    'final_layer.linear': 'proj_out',
  };
  const block: Record<string, string> = {
    'x_block.attn.proj': 'attn.to_out.0',
    'context_block.attn.proj': 'attn.to_add_out',
    'x_block.attn2.proj': 'attn2.to_out.0',
    'x_block.attn.ln_q': 'attn.norm_q',
    'x_block.attn.ln_k': 'attn.norm_k',
    'context_block.attn.ln_q': 'attn.norm_added_q',
    'context_block.attn.ln_k': 'attn.norm_added_k',
    'x_block.attn2.ln_q': 'attn2.norm_q',
    'x_block.attn2.ln_k': 'attn2.norm_k',
    'x_block.adaLN_modulation.1': 'norm1.linear',
    'context_block.adaLN_modulation.1': 'norm1_context.linear',
    'x_block.mlp.fc1': 'ff.net.0.proj',
    'x_block.mlp.fc2': 'ff.net.2',
    'context_block.mlp.fc1': 'ff_context.net.0.proj',
    'context_block.mlp.fc2': 'ff_context.net.2',
  };
  const qkv: Record<string, string[]> = {
    'x_block.attn.qkv': ['attn.to_q', 'attn.to_k', 'attn.to_v'],
    'context_block.attn.qkv': ['attn.add_q_proj', 'attn.add_k_proj', 'attn.add_v_proj'],
    'x_block.attn2.qkv': ['attn2.to_q', 'attn2.to_k', 'attn2.to_v'],
  };
  for (const [full, t] of Object.entries(original)) {
    if (!full.startsWith(P)) continue;
    const key = full.slice(P.length);
    const [stem, param] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
    if (key === 'pos_embed') out['pos_embed.pos_embed'] = t;
    else if (stem === 'final_layer.adaLN_modulation.1') out[`norm_out.linear.${param}`] = swapHalves(t);
    else if (basic[stem]) out[`${basic[stem]}.${param}`] = t;
    else {
      const m = /^joint_blocks\.(\d+)\.(.*)$/.exec(stem) as RegExpExecArray;
      const [n, rest] = [Number(m[1]), m[2]];
      const d = `transformer_blocks.${n}`;
      if (qkv[rest]) qkv[rest].forEach((name, i) => (out[`${d}.${name}.${param}`] = rows(t, (i * t.shape[0]) / 3, ((i + 1) * t.shape[0]) / 3)));
      else if (rest === 'context_block.adaLN_modulation.1' && n === depth - 1) out[`${d}.${block[rest]}.${param}`] = swapHalves(t);
      else out[`${d}.${block[rest]}.${param}`] = t;
    }
  }
  return out;
}

describe('MmditRunner loading', () => {
  const v = variant('sd35m-tiny-bf16'); // qk-norm + dual attention: the most names to get right
  const tensors = tinyTensors(v);

  it('writes the weight cache once, then reuses it; a changed source rebuilds it', async () => {
    const file = write('cached.safetensors', tensors);
    const first = await MmditRunner.load(file, { precision: 'fp8' });
    expect(first.cache).toEqual({ path: path.join(dir, 'cached.mmdit-fp8.fp8cache'), reused: false });
    const errFirst = await goldenError(first, v.name);
    await first.release();
    const second = await MmditRunner.load(file, { precision: 'fp8' });
    expect(second.cache.reused).toBe(true);
    expect(await goldenError(second, v.name)).toBe(errFirst);
    await second.release();
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const third = await MmditRunner.load(file, { precision: 'fp8' });
    expect(third.cache.reused).toBe(false);
    await third.release();
  });

  it('a split checkpoint (two files) loads as one', async () => {
    const keys = Object.keys(tensors);
    const half = (odd: boolean) => Object.fromEntries(keys.filter((_, i) => i % 2 === (odd ? 1 : 0)).map((k) => [k, tensors[k]]));
    const files = [write('split-a.safetensors', half(false)), write('split-b.safetensors', half(true))];
    const runner = await MmditRunner.load(files, { precision: 'fp32', cacheDir: dir });
    expect(await goldenError(runner, v.name)).toBeLessThanOrEqual(FP32_TOL);
    await runner.release();
  });

  it('a diffusers-format file gives the original result', async () => {
    const file = write('diffusers.safetensors', toDiffusers(tensors, v.blocks));
    const runner = await MmditRunner.load(file, { precision: 'fp32', cacheDir: dir });
    expect(runner.config.keyFormat).toBe('diffusers');
    expect(runner.config.dualAttentionBlocks).toEqual(v.dual);
    expect(await goldenError(runner, v.name)).toBeLessThanOrEqual(FP32_TOL);
    await runner.release();
  });
});

describe('MmditRunner: broken checkpoints and bad calls', () => {
  const v = variant('sd3-tiny-f16');
  const tensors = tinyTensors(v);

  it('a missing tensor is named', async () => {
    const broken = { ...tensors };
    delete broken[`${P}joint_blocks.0.x_block.attn.proj.bias`];
    const file = write('missing.safetensors', broken);
    await expect(MmditRunner.load(file, { cacheDir: dir })).rejects.toThrow(/missing tensor 'joint_blocks\.0\.x_block\.attn\.proj\.bias'/);
  });

  it('a wrong shape is named with both shapes', async () => {
    const key = `${P}joint_blocks.1.x_block.mlp.fc2.weight`;
    const wrong = { ...tensors, [key]: { dtype: 'float16', shape: [128, 256], data: new Uint16Array(128 * 256) } as Tensor };
    const file = write('wrong-shape.safetensors', wrong);
    await expect(MmditRunner.load(file, { cacheDir: dir })).rejects.toThrow(/'joint_blocks\.1\.x_block\.mlp\.fc2\.weight' has shape \[128, 256\], expected \[128, 512\]/);
  });

  it('an unwritable cache location says where and what to do', async () => {
    const file = write('no-cache-dir.safetensors', tensors);
    await expect(MmditRunner.load(file, { cacheDir: path.join(dir, 'missing', 'folder') })).rejects.toThrow(
      /MMDiT weight cache '.*missing\/folder\/no-cache-dir-.*\.mmdit-fp8\.fp8cache'.*\(pass cacheDir/,
    );
  });

  it('an image larger than pos_embed covers is refused with the limit named (ComfyUI asserts the same)', async () => {
    const file = write('too-big.safetensors', tensors);
    const runner = await MmditRunner.load(file, { precision: 'fp32', cacheDir: dir });
    const golden = readGolden(v);
    const g = (k: string) => golden.get(`b2-8x8/input.${k}`) as Tensor<'float32'>;
    const side = 2 * v.pos_max + 1; // odd: padded to pos_max + 1 patches
    const x: Tensor<'float32'> = { dtype: 'float32', shape: [2, 16, side, 4], data: new Float32Array(2 * 16 * side * 4) };
    await expect(runner.denoise(x, 0.5, g('context'), g('y'))).rejects.toThrow(
      new RegExp(`a ${v.pos_max + 1}×2 patch grid is larger than pos_embed's ${v.pos_max}×${v.pos_max} \\(this model takes images up to ${v.pos_max * 16}×${v.pos_max * 16} pixels\\)`),
    );
    await runner.release();
  });

  it('an unknown precision and a sigma count that fits no batch', async () => {
    const file = write('ok.safetensors', tensors);
    await expect(MmditRunner.load(file, { precision: 'int4' as never })).rejects.toThrow(/precision 'int4'; valid: fp8, fp32/);
    const runner = await MmditRunner.load(file, { precision: 'fp32', cacheDir: dir });
    const golden = readGolden(v);
    const g = (k: string) => golden.get(`b2-8x8/input.${k}`) as Tensor<'float32'>;
    await expect(runner.denoise(g('x'), Float32Array.of(1, 2, 3), g('context'), g('y'))).rejects.toThrow(/sigma has 3 values for a batch of 2/);
    await runner.release();
  });
});
