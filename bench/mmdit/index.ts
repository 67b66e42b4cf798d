/**
 * MMDiT benchmark on an SD3.5-Medium-shaped model with random weights (≈ 2.5 B params; written
 * once to a cache folder, not committed). Prints figures, asserts nothing.
 *
 *   npm run bench:mmdit [-- --dir /tmp/comfy8-bench-mmdit --heads-per-chunk N (standard attention in N-head chunks) --skip-fp32 --skip-1024 --keep-fp32-cache]
 *
 * In one run, each measurement in a fresh child process (clean RSS baseline):
 *   1. onnxruntime's plain float32 MatMul throughput on this machine (bench/engine-core/matmul.ts),
 *      at the step's shape (2 × 1178 tokens × 1536 → 6144), the better of the MatMul and Gemm forms.
 *   2. FP8 weights: load (first time: quantise + write the .fp8cache), resident bytes/param,
 *      one denoise at 512×512 (latent 64², batch 2 = CFG, 154 text tokens), one at 1024×1024.
 *   3. float32 weights: the same 512×512 step (≈ 10 GB of weights).
 * Then: s/step FP8 vs float32 and their ratio, peak RSS, and achieved GFLOP/s (matmul + attention
 * FLOPs, forwardFlops) as a fraction of the plain MatMul figure.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MmditRunner } from '../../engine/models/mmdit-runner.js';
import type { Tensor } from '../../engine/tensor.js';
import { bestPlainMatMulGflops } from '../engine-core/matmul.js';
import { forwardFlops, parameterCount, SD35_MEDIUM, writeSd35MediumCheckpoint } from './sd35m-model.js';

const CONTEXT_TOKENS = 154; // 77 CLIP + 77 T5 tokens, as SD3 conditioning has them
const self = fileURLToPath(import.meta.url);

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (name: string) => process.argv.includes(`--${name}`);

function fill(shape: number[], seed: number, amp = 1): Tensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (s / 2 ** 31 - 1) * amp;
  }
  return { dtype: 'float32', shape, data };
}

const rss = () => process.memoryUsage().rss;
const peak = () => process.resourceUsage().maxRSS * 1024;

async function step(runner: MmditRunner, side: number): Promise<number> {
  const latent = side / 8;
  const x = fill([2, 16, latent, latent], 1);
  const context = fill([2, CONTEXT_TOKENS, 4096], 2, 0.5);
  const pooled = fill([2, 2048], 3, 0.5);
  const start = performance.now();
  await runner.denoise(x, Float32Array.of(0.8, 0.8), context, pooled);
  return (performance.now() - start) / 1000;
}

/** Child: load with one precision, warm up, time the requested steps; prints one JSON line. */
async function child(file: string, precision: 'fp8' | 'fp32', cacheDir: string, sides: number[], headsPerChunk: number | undefined): Promise<void> {
  const before = rss();
  const t0 = performance.now();
  const runner = await MmditRunner.load(file, { precision, cacheDir, attentionHeadsPerChunk: headsPerChunk });
  const loadS = (performance.now() - t0) / 1000;
  const loaded = rss();
  const warmS = await step(runner, 64); // first run: session warm-up, every weight touched once
  const warm = rss(); // the model resident, activations still small
  const steps: Record<string, number> = {};
  const firsts: Record<string, number> = {};
  const after: Record<string, number> = {};
  for (const side of sides) {
    // A sampler calls the model at one size step after step: the first call at a new size also
    // plans its memory, so the second is the step time; both are printed.
    firsts[side] = await step(runner, side);
    process.stderr.write(`  ${precision} ${side}×${side}: first call ${firsts[side].toFixed(1)} s\n`);
    steps[side] = await step(runner, side);
    after[side] = rss();
    process.stderr.write(`  ${precision} ${side}×${side}: ${steps[side].toFixed(1)} s\n`);
  }
  const cacheBytes = fs.statSync(runner.cache.path).size;
  const mapped = mappedBytes(runner.cache.path);
  console.log(JSON.stringify({ precision, reused: runner.cache.reused, cacheBytes, before, loaded, warm, after, mapped, peak: peak(), loadS, warmS, firsts, steps }));
  await runner.release();
}

/** Resident bytes of `file`'s mappings in this process (/proc/self/smaps): the weights onnxruntime maps. */
function mappedBytes(file: string): number {
  let total = 0;
  let inFile = false;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(file);
    else if (inFile && line.startsWith('Rss:')) total += Number(line.split(/\s+/)[1]) * 1024;
  }
  return total;
}

interface ChildResult {
  precision: string;
  warm: number;
  mapped: number;
  firsts: Record<string, number>;
  reused: boolean;
  cacheBytes: number;
  before: number;
  loaded: number;
  after: Record<string, number>;
  peak: number;
  loadS: number;
  warmS: number;
  steps: Record<string, number>;
}

function runChild(args: string[]): ChildResult | { error: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { error: `child exited with ${r.status ?? r.signal} (${r.signal === 'SIGKILL' ? 'killed — out of memory?' : 'see stderr above'})` };
  return JSON.parse(line) as ChildResult;
}

function gflops(sideTokens: number, seconds: number): number {
  return forwardFlops(SD35_MEDIUM, 2, sideTokens, CONTEXT_TOKENS) / seconds / 1e9;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === '--child') return child(rest[0]!, rest[1] as 'fp8' | 'fp32', rest[2]!, rest[3]!.split(',').map(Number), rest[4] ? Number(rest[4]) : undefined);
  const dir = flag('dir') ?? path.join(os.tmpdir(), 'comfy8-bench-mmdit');
  const heads = flag('heads-per-chunk') ?? ''; // default: fused attention, no chunks
  fs.mkdirSync(dir, { recursive: true });
  console.log(`load average at start: ${os.loadavg().map((v) => v.toFixed(2)).join(', ')}; ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free`);
  console.log(`GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset: run through npm run bench:mmdit for huge pages, scripts/with-huge-pages.mjs)'}`);
  const file = path.join(dir, 'sd35-medium-random.safetensors');
  const t0 = performance.now();
  const params = writeSd35MediumCheckpoint(file);
  console.log(`model: SD3.5-Medium shapes, ${(params / 1e9).toFixed(3)} B params (check ${parameterCount(SD35_MEDIUM)}), fp16 file ${(fs.statSync(file).size / 2 ** 30).toFixed(2)} GiB (${((performance.now() - t0) / 1000).toFixed(0)} s)`);

  const tokens512 = 2 * (32 * 32 + CONTEXT_TOKENS);
  const mm = await bestPlainMatMulGflops(tokens512, 1536, 6144, 7);
  const mmGflops = mm.gflops;
  console.log(`plain float32 MatMul (onnxruntime, ${tokens512}×1536 · 1536×6144, best of MatMul and Gemm forms: ${mm.form}): ${mmGflops.toFixed(1)} GFLOP/s`);

  // Shortest first, each reported as soon as it is done: FP8 512², float32 512², then FP8 1024².
  const fp8 = runChild([file, 'fp8', dir, '512', heads]);
  report(params, mmGflops, fp8);
  const fp32 = has('skip-fp32') ? { error: 'skipped (--skip-fp32)' } : runChild([file, 'fp32', dir, '512', heads]);
  report(params, mmGflops, fp32);
  if (!('error' in fp8) && !('error' in fp32)) console.log(`512×512 s/step FP8 / float32 = ${(fp8.steps['512']! / fp32.steps['512']!).toFixed(3)} (target ≤ 1.1)`);
  if (!has('skip-1024')) report(params, mmGflops, runChild([file, 'fp8', dir, '1024', heads]));
  if (!has('keep-fp32-cache')) for (const f of fs.readdirSync(dir).filter((f) => f.includes('mmdit-fp32'))) fs.rmSync(path.join(dir, f));
  console.log(`load average at end: ${os.loadavg().map((v) => v.toFixed(2)).join(', ')}; files kept in ${dir} (fp16 model + FP8 cache; delete by hand)`);
}

function report(params: number, mmGflops: number, r: ChildResult | { error: string }): void {
  if ('error' in r) {
    console.log(`child: ${r.error}`);
    return;
  }
  const per = (bytes: number) => (bytes / params).toFixed(3);
  const side = Object.keys(r.steps)[0]!;
  console.log(
    `${r.precision}: cache ${per(r.cacheBytes)} B/param${r.reused ? ' (reused)' : ''}; RSS after load − before ${per(r.loaded - r.before)} B/param; ` +
      `resident after the 64² warm-up (every weight used once) ${per(r.warm - r.before)} B/param; ` +
      `after the ${side}² steps: RSS − before ${per(r.after[side]! - r.before)} B/param, of which weights mapped from the cache ${per(r.mapped)} B/param; ` +
      `peak RSS ${(r.peak / 2 ** 30).toFixed(2)} GiB; load ${r.loadS.toFixed(0)} s, warm-up (64²) ${r.warmS.toFixed(1)} s`,
  );
  for (const [s, seconds] of Object.entries(r.steps)) {
    const g = gflops((Number(s) / 16) ** 2, seconds);
    console.log(`  ${r.precision} ${s}×${s} batch 2: ${seconds.toFixed(1)} s/step (first call at this size ${r.firsts[s]!.toFixed(1)} s), ${g.toFixed(1)} GFLOP/s = ${((100 * g) / mmGflops).toFixed(0)} % of plain MatMul`);
  }
  console.log(`  (load average now ${os.loadavg().map((v) => v.toFixed(2)).join(', ')})`);
}

await main();
