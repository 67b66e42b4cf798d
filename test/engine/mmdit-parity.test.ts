/**
 * MMDiT ONNX graph vs the torch reference of tools/gen-mmdit-golden.py, stage by stage: embedder
 * outputs (x tokens + pos_embed, conditioning c, context), block 0's two streams, the full
 * forward, and the denoiser wrapper — for the three tiny layouts (SD3 Medium: plain; SD3.5 Medium:
 * qk-norm + attn2; SD3.5 Large: qk-norm, ComfyUI scaled-fp8 file), batch 2 and batch 1, two
 * latent sizes (and an odd one) through one session each.
 *
 * Tolerances (relative L2 over the tensor):
 *   precision 'fp32'  ≤ 2e-5: same float32 math as ComfyUI on a CPU, differing only in summation
 *                     order and libm (measured ≤ 4e-6).
 *   precision 'fp8'   fp16/bf16 sources are quantised to E4M3 per output channel (3 mantissa bits,
 *                     ≈ 3.6 % rms error per weight): ≤ 6e-2 at every stage (measured 2–4e-2).
 *                     A scaled-fp8 source is used as given: ≤ 2e-5, as fp32.
 * Embedders are float32 in both modes: ≤ 2e-5 there too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { timestepFrequencies } from '../../engine/arch/mmdit.js';
import { MmditRunner } from '../../engine/models/mmdit-runner.js';
import { dequantizeFp8 } from '../../engine/quantize.js';
import { encodeSafetensors, openSafetensors } from '../../engine/safetensors.js';
import type { Tensor } from '../../engine/tensor.js';
import { diff, manifest, readGolden, tinyCheckpointBytes, tinyConfig, type TinyVariant } from './helpers/tiny-mmdit.js';

const FP32_TOL = 2e-5;
const FP8_TOL = 6e-2;
const STAGES: ReadonlyArray<readonly [string, string]> = [
  ['debug.x_embed', 'x_embed'],
  ['debug.c', 'c'],
  ['debug.context_embed', 'context_embed'],
  ['debug.block0.x', 'block0.x'],
  ['debug.block0.context', 'block0.context'],
  ['out', 'out'],
];
const EMBEDDERS = new Set(['x_embed', 'c', 'context_embed']);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-mmdit-parity-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function checkpointFile(v: TinyVariant): string {
  const file = path.join(dir, `${v.name}.safetensors`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, tinyCheckpointBytes(v).bytes);
  return file;
}

function item(t: Tensor<'float32'>, i: number): Tensor<'float32'> {
  const per = t.data.length / t.shape[0];
  return { dtype: 'float32', shape: [1, ...t.shape.slice(1)], data: t.data.slice(i * per, (i + 1) * per) };
}

describe('tiny checkpoints', () => {
  for (const v of manifest.variants) {
    it(`${v.name}: rebuilt byte for byte as the Python generator wrote it`, () => {
      expect(tinyCheckpointBytes(v).sha256).toBe(v.checkpoint_sha256);
    });
  }
  it('timestep frequencies within 1 ulp of torch', () => {
    const golden = readGolden(manifest.variants[0]).get('timestep_freqs') as Tensor<'float32'>;
    const ours = new Uint32Array(timestepFrequencies().buffer);
    const theirs = new Uint32Array(golden.data.buffer, golden.data.byteOffset, 128);
    expect(Math.max(...ours.map((b, i) => Math.abs(b - theirs[i])))).toBeLessThanOrEqual(1);
  });
});

for (const precision of ['fp32', 'fp8'] as const) {
  for (const v of manifest.variants) {
    describe(`${v.name}, precision ${precision}`, () => {
      let runner: MmditRunner;
      const golden = readGolden(v);
      const g = (k: string) => golden.get(k) as Tensor<'float32'>;
      const tolFor = (stage: string) => (precision === 'fp32' || v.storage === 'fp8' || EMBEDDERS.has(stage) ? FP32_TOL : FP8_TOL);

      beforeAll(async () => {
        runner = await MmditRunner.load(checkpointFile(v), { precision, debugOutputs: true, cacheDir: dir });
      });
      afterAll(async () => runner?.release());

      it('detects the configuration the generator used', () => {
        expect(runner.config).toEqual(tinyConfig(v));
      });

      for (const c of v.cases) {
        it(`${c}: every stage within tolerance`, async () => {
          const inp = (k: string) => g(`${c}/input.${k}`);
          const out = await runner.forward({ x: inp('x'), timesteps: inp('timestep'), context: inp('context'), y: inp('y') });
          for (const [output, stage] of STAGES) {
            const d = diff(out[output], g(`${c}/${stage}`));
            expect(d.relL2, `${stage}: rel-L2 ${d.relL2}, max-abs ${d.maxAbs}`).toBeLessThanOrEqual(tolFor(stage));
          }
        });
        it(`${c}: denoise() = x − v·σ with t = σ·1000`, async () => {
          const inp = (k: string) => g(`${c}/input.${k}`);
          const denoised = await runner.denoise(inp('x'), inp('sigma'), inp('context'), inp('y'));
          expect(diff(denoised, g(`${c}/denoised`)).relL2).toBeLessThanOrEqual(tolFor('out'));
        });
      }

      it('batch 2 = two runs of batch 1 (items do not mix)', async () => {
        const inp = (k: string) => g(`b2-8x8/input.${k}`);
        const both = await runner.denoise(inp('x'), inp('sigma'), inp('context'), inp('y'));
        for (const i of [0, 1]) {
          const one = await runner.denoise(item(inp('x'), i), inp('sigma').data[i], item(inp('context'), i), item(inp('y'), i));
          expect(diff(one, item(both, i)).maxAbs).toBeLessThanOrEqual(1e-5);
        }
      });
    });
  }
}

describe('fp8 weight cache', () => {
  it('holds block Linears as F8_E4M3 with per-channel scales, embedders and final layer as F32, pos_embed as stored', async () => {
    const v = manifest.variants[0];
    const runner = await MmditRunner.load(checkpointFile(v), { precision: 'fp8', cacheDir: dir });
    await runner.release();
    const cache = openSafetensors(runner.cache.path);
    try {
      expect(cache.info('joint_blocks.0.x_block.mlp.fc1.weight').storageDtype).toBe('F8_E4M3');
      expect(cache.info('joint_blocks.0.x_block.mlp.fc1.weight_scale').shape).toEqual([4 * v.hidden]);
      expect(cache.info('joint_blocks.1.context_block.adaLN_modulation.1.weight').storageDtype).toBe('F8_E4M3');
      for (const key of ['context_embedder.weight', 'final_layer.linear.weight', 'x_embedder.proj.weight', 't_embedder.mlp.0.weight']) {
        expect(cache.info(key).storageDtype, key).toBe('F32');
      }
      expect(cache.info('pos_embed').storageDtype).toBe('F16'); // as stored; cast after the crop
    } finally {
      cache.close();
    }
  });
});

describe('fp8 mode computes exactly with its quantised weights', () => {
  it('equals fp32 mode run on the dequantised cache (per-channel scales on the right axis)', async () => {
    const v = manifest.variants[1]; // qk-norm + attn2: every Linear kind
    const fp8 = await MmditRunner.load(checkpointFile(v), { precision: 'fp8', cacheDir: dir });
    const cache = openSafetensors(fp8.cache.path);
    const tensors: Record<string, Tensor> = {};
    try {
      for (const key of cache.keys().filter((k) => !k.endsWith('.weight_scale'))) {
        const scaleKey = key.replace(/\.weight$/, '.weight_scale');
        const t = cache.read(key);
        tensors[manifest.prefix + key] = cache.has(scaleKey) && key.endsWith('.weight') ? dequantizeFp8(t, cache.read(scaleKey)) : t;
      }
    } finally {
      cache.close();
    }
    const file = path.join(dir, 'dequantised.safetensors');
    fs.writeFileSync(file, encodeSafetensors(tensors));
    const fp32 = await MmditRunner.load(file, { precision: 'fp32', cacheDir: dir });
    const golden = readGolden(v);
    const g = (k: string) => golden.get(`b2-8x8/input.${k}`) as Tensor<'float32'>;
    const feeds = { x: g('x'), timesteps: g('timestep'), context: g('context'), y: g('y') };
    const [a, b] = [(await fp8.forward(feeds)).out, (await fp32.forward(feeds)).out];
    expect(diff(a, b).relL2).toBeLessThanOrEqual(1e-6);
    await Promise.all([fp8.release(), fp32.release()]);
  });
});

describe('attention kernels', () => {
  // The parity suites above run the default, onnxruntime's fused MultiHeadAttention; here the
  // standard-ops path (MatMul/Softmax/MatMul), whole and in head chunks, against it and torch.
  it("'standard' attention, whole or one head at a time, matches torch and the fused kernel", async () => {
    const v = manifest.variants[1];
    const golden = readGolden(v);
    const g = (k: string) => golden.get(`b1-12x10/input.${k}`) as Tensor<'float32'>;
    const feeds = { x: g('x'), timesteps: g('timestep'), context: g('context'), y: g('y') };
    const chunked = await MmditRunner.load(checkpointFile(v), { precision: 'fp32', cacheDir: dir, attentionHeadsPerChunk: 1 });
    const whole = await MmditRunner.load(checkpointFile(v), { precision: 'fp32', cacheDir: dir, attention: 'standard' });
    const fused = await MmditRunner.load(checkpointFile(v), { precision: 'fp32', cacheDir: dir });
    const [a, b, f] = [(await chunked.forward(feeds)).out, (await whole.forward(feeds)).out, (await fused.forward(feeds)).out];
    expect(diff(a, b).maxAbs).toBeLessThanOrEqual(1e-6); // the same math per head
    for (const out of [a, f]) expect(diff(out, golden.get('b1-12x10/out') as Tensor).relL2).toBeLessThanOrEqual(FP32_TOL);
    expect(diff(f, b).relL2).toBeLessThanOrEqual(FP32_TOL);
    await Promise.all([chunked.release(), whole.release(), fused.release()]);
    await expect(MmditRunner.load(checkpointFile(v), { cacheDir: dir, attentionHeadsPerChunk: 0 })).rejects.toThrow(/attentionHeadsPerChunk 0/);
    await expect(MmditRunner.load(checkpointFile(v), { cacheDir: dir, attention: 'flash' as never })).rejects.toThrow(/attention 'flash'; valid: fused, standard/);
  });
});
