/**
 * Resident memory of the MMDiT runner on a mid-size random model (SD3 layout, default 12 blocks,
 * D = 768, context 4096, pooled 2048: ≈ 0.26 B parameters, fp16 file ≈ 0.5 GB).
 * Run: npx tsx bench/mmdit-memory.ts [blocks = 12] [precision fp8|fp32 = fp8] [latent side = 32] [attention heads per chunk = all]
 *
 * Each measurement runs in a fresh child process: (1) first load — quantise and write the
 * `.fp8cache`, build the session, one denoise; (2) reload from the cache, one denoise. Printed:
 * cache bytes/param, RSS before loading, after the session is made, after a run, and peak RSS
 * (getrusage maxrss), and (RSS after run − RSS before) / params.
 * glibc keeps freed dequantisation buffers in its heap once its dynamic mmap threshold has grown;
 * compare with `MALLOC_MMAP_THRESHOLD_=65536 npx tsx bench/mmdit-memory.ts` (the children inherit it).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedMmditShapes, type MmditConfig } from '../engine/arch/mmdit-config.js';
import { MmditRunner } from '../engine/models/mmdit-runner.js';
import { writeSafetensors } from '../engine/safetensors.js';
import type { Tensor } from '../engine/tensor.js';

const MiB = 2 ** 20;
const rssMiB = () => process.memoryUsage().rss / MiB;
const peakMiB = () => process.resourceUsage().maxRSS / 1024;
/** RssAnon / RssFile from /proc (Linux): the FP8 weights are file-backed pages of the cache. */
function rssSplit(): string {
  if (!fs.existsSync('/proc/self/status')) return '';
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(/(\d+)/.exec(status.split('\n').find((l) => l.startsWith(field)) ?? '0')?.[1] ?? 0) / 1024;
  return `anon ${kb('RssAnon:').toFixed(0)} + file ${kb('RssFile:').toFixed(0)} MiB`;
}

function config(blocks: number): MmditConfig {
  const D = 64 * blocks;
  return {
    keyFormat: 'original', prefix: 'model.diffusion_model.', hiddenSize: D, numHeads: blocks, headDim: 64, depth: blocks,
    patchSize: 2, inChannels: 16, outChannels: 16, posEmbedMaxSize: 64, contextInChannels: 4096, admInChannels: 2048,
    mlpHiddenSize: 4 * D, qkNorm: 'rms', dualAttentionBlocks: [], preOnlyLastContextBlock: true,
  };
}

/** Random fp16 weights (xorshift; values ±0.05, norms around 1) — memory, not numerics, is measured. */
function writeModel(file: string, cfg: MmditConfig): number {
  const tensors: Record<string, Tensor> = {};
  let state = 0x12345678;
  let params = 0;
  for (const [key, shape] of expectedMmditShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Uint16Array(n);
    const isNorm = key.endsWith('ln_q.weight') || key.endsWith('ln_k.weight');
    for (let i = 0; i < n; i++) {
      state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
      data[i] = isNorm ? 0x3c00 : 0x2a00 | (state & 0x1ff) | (state & 0x8000); // |w| ≈ 0.05
    }
    tensors[`model.diffusion_model.${key}`] = { dtype: 'float16', shape, data };
    params += n;
  }
  writeSafetensors(file, tensors);
  return params;
}

function randn(shape: number[], seed: number): Tensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed;
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 31 - 1)) };
}

async function child(file: string, precision: 'fp8' | 'fp32', cacheDir: string, side: number, headsPerChunk?: number): Promise<void> {
  const before = rssMiB();
  const t0 = Date.now();
  const orderedDequantize = process.env.MMDIT_UNORDERED !== '1';
  const runner = await MmditRunner.load(file, { precision, cacheDir, orderedDequantize, attentionHeadsPerChunk: headsPerChunk });
  const loaded = rssMiB();
  const loadS = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  await runner.denoise(randn([2, 16, side, side], 1), Float32Array.of(0.8, 0.8), randn([2, 77, 4096], 2), randn([2, 2048], 3));
  const ran = rssMiB();
  console.log(JSON.stringify({ reused: runner.cache.reused, before, loaded, ran, split: rssSplit(), peak: peakMiB(), loadS, runS: (Date.now() - t1) / 1000 }));
  await runner.release();
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === '--child') return child(rest[0], rest[1] as 'fp8' | 'fp32', rest[2], Number(rest[3]), rest[4] ? Number(rest[4]) : undefined);
  const blocks = Number(mode ?? 12);
  const precision = (rest[0] ?? 'fp8') as 'fp8' | 'fp32';
  const side = Number(rest[1] ?? 32);
  const headsPerChunk = rest[2];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-mmdit-mem-'));
  try {
    const file = path.join(dir, 'mid.safetensors');
    const params = writeModel(file, config(blocks));
    console.log(`model: ${blocks} blocks, D ${64 * blocks}, ${(params / 1e6).toFixed(1)} M params, fp16 file ${(fs.statSync(file).size / MiB).toFixed(0)} MiB, precision ${precision}, 2×16×${side}×${side} latent, 77 tokens, attention heads per chunk ${headsPerChunk ?? 'all'}`);
    const self = fileURLToPath(import.meta.url);
    for (const phase of ['first load (quantise + write cache)', 'reload from cache']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', file, precision, dir, String(side), ...(headsPerChunk ? [headsPerChunk] : [])], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop() as string);
      const cache = fs.readdirSync(dir).find((f) => f.endsWith('.fp8cache')) as string;
      const cacheBytes = fs.statSync(path.join(dir, cache)).size;
      console.log(
        `${phase.padEnd(36)} cache ${(cacheBytes / params).toFixed(3)} B/param | RSS before ${r.before.toFixed(0)} MiB, loaded ${r.loaded.toFixed(0)}, ` +
          `after run ${r.ran.toFixed(0)} (${r.split}), peak ${r.peak.toFixed(0)} MiB | (after run − before)/param ${(((r.ran - r.before) * MiB) / params).toFixed(3)} B, ` +
          `(peak − before)/param ${(((r.peak - r.before) * MiB) / params).toFixed(3)} B | load ${r.loadS.toFixed(1)} s, run ${r.runS.toFixed(1)} s`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
