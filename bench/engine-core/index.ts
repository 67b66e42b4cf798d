/**
 * Engine-core benchmark: prints figures, asserts nothing.
 *   npm run bench:engine-core [-- --layers 12 --dim 4096 --tokens 256 --runs 3 --sections matmul,memory,decode
 *                                 --variants matmul,matmul-ordered,gemm-hoisted,gemm,gemm-ordered]
 *
 * 1. MatMul GFLOP/s, float32 weights vs FP8 weights dequantised in-graph, and their ratio.
 * 2. Resident bytes per parameter for an FP8 stack loaded as external data (child processes, so
 *    each baseline is clean), with and without DESIGN.md's ordering trick.
 * 3. FP8 → float32 decode GB/s in TypeScript (engine/dtypes decodeToFloat32, or fp8-decode.ts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeToFloat32 } from '../../engine/dtypes.js';
import { STACK_VARIANTS, writeStackFile, type StackSpec, type StackVariant } from './fp8-stack.js';
import { benchMatMul } from './matmul.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function table(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]) => '| ' + r.map((v, c) => v.padStart(widths[c])).join(' | ') + ' |';
  console.log(line(headers));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of cells.slice(1)) console.log(line(r));
}

const fixed = (v: number, digits = 2) => v.toFixed(digits);

async function matmulSection(runs: number): Promise<void> {
  console.log('\n## MatMul, activations [tokens × 1536] · weights [1536 × 6144] (median of runs after a warm-up)\n');
  const results = await benchMatMul([256, 1024], 1536, 6144, runs);
  table(
    ['tokens', 'fp32 ms', 'fp32 GFLOP/s', 'fp8+DQ ms', 'fp8+DQ GFLOP/s', 'fp8/fp32 speed', 'fp32 GFLOP/CPU-s', 'fp8 GFLOP/CPU-s', 'ratio (CPU time)'],
    results.map((r) => {
      const gflop = (2 * r.tokens * r.k * r.n) / 1e9;
      const rate = (ms: number) => fixed(gflop / (ms / 1e3), 1);
      return [
        r.tokens,
        fixed(r.fp32.wallMs, 1),
        rate(r.fp32.wallMs),
        fixed(r.fp8.wallMs, 1),
        rate(r.fp8.wallMs),
        fixed(r.fp32.wallMs / r.fp8.wallMs),
        rate(r.fp32.cpuMs),
        rate(r.fp8.cpuMs),
        fixed(r.fp32.cpuMs / r.fp8.cpuMs),
      ];
    }),
  );
  console.log('(GFLOP per CPU-second sums all onnxruntime threads: steadier than wall time when other jobs share the cores.)');
}

interface ChildResult {
  baseline: number;
  afterLoad: number;
  peakLoad: number;
  afterRun: number[];
  peakRun: number;
  loadMs: number;
  runMs: number[];
  peakReset: boolean;
}

function runChild(args: object): ChildResult {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, 'memory-child.ts'), JSON.stringify(args)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`memory child failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
}

function memorySection(spec: StackSpec, tokens: number, runs: number): void {
  const params = spec.layers * spec.dim * spec.dim;
  console.log(`\n## FP8 stack as external data: ${spec.layers} × [${spec.dim} × ${spec.dim}] = ${(params / 1e6).toFixed(0)} M params, ${tokens} tokens, arena off\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-bench-'));
  try {
    const stack = writeStackFile(dir, spec);
    const rows: (string | number)[][] = [];
    const v = process.argv.indexOf('--variants');
    const variants = v >= 0 ? (process.argv[v + 1].split(',') as StackVariant[]) : (Object.keys(STACK_VARIANTS) as StackVariant[]);
    const unknown = variants.filter((name) => !(name in STACK_VARIANTS));
    if (unknown.length > 0) throw new Error(`unknown variant(s) ${unknown.join(', ')}; valid: ${Object.keys(STACK_VARIANTS).join(', ')}`);
    for (const variant of variants) {
      const r = runChild({ dir, spec, stack, variant, tokens, runs });
      const perParam = (bytes: number) => fixed((bytes - r.baseline) / params);
      rows.push([
        STACK_VARIANTS[variant],
        perParam(r.afterLoad),
        perParam(r.peakLoad),
        perParam(r.afterRun[r.afterRun.length - 1]),
        perParam(r.peakRun),
        fixed(r.loadMs, 0),
        r.runMs.map((t) => fixed(t, 0)).join(' / '),
      ]);
      if (!r.peakReset) console.log('(could not reset VmHWM: peaks are lifetime peaks)');
    }
    table(['variant', 'B/param after load', 'peak B/param load', 'B/param after runs', 'peak B/param runs', 'load ms', 'run ms (each)'], rows);
    console.log('\nTargets: steady state ≤ 1.05 B/param, peak during load ≤ 1.5 B/param (RSS deltas over the child\'s baseline).');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function decodeSection(): void {
  const external = path.join(here, 'fp8-decode.ts');
  if (fs.existsSync(external)) {
    console.log('\n## FP8 → float32 decode (bench/engine-core/fp8-decode.ts)\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', external], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(child.stdout ?? '');
    return;
  }
  console.log('\n## FP8 → float32 decode in TypeScript (engine/dtypes decodeToFloat32, 64 MiB of codes)\n');
  const codes = new Uint8Array(64 << 20);
  for (let i = 0; i < codes.length; i++) codes[i] = (i * 2654435761) >>> 24;
  const rows: (string | number)[][] = [];
  for (const dtype of ['float8_e4m3fn', 'float8_e5m2'] as const) {
    decodeToFloat32(codes.subarray(0, 1 << 20), dtype);
    const start = performance.now();
    decodeToFloat32(codes, dtype);
    const seconds = (performance.now() - start) / 1e3;
    rows.push([dtype, fixed(codes.length / seconds / 1e9), fixed((codes.length * 5) / seconds / 1e9)]);
  }
  table(['format', 'GB/s of FP8 read', 'GB/s read+written'], rows);
}

async function main(): Promise<void> {
  const runs = flag('runs', 3);
  const spec: StackSpec = { layers: flag('layers', 12), dim: flag('dim', 4096) };
  console.log(
    `# engine-core benchmark — onnxruntime-node CPU, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `node ${process.version}, load average ${os.loadavg()[0].toFixed(1)} (other jobs slow every timing down)`,
  );
  const i = process.argv.indexOf('--sections');
  const sections = i >= 0 ? process.argv[i + 1].split(',') : ['matmul', 'memory', 'decode'];
  if (sections.includes('matmul')) await matmulSection(runs);
  if (sections.includes('memory')) memorySection(spec, flag('tokens', 256), runs);
  if (sections.includes('decode')) decodeSection();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
