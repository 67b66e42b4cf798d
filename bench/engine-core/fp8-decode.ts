/**
 * Throughput of the table decoders in engine/dtypes.ts (and the encoders, for reference).
 * Run: npx tsx bench/engine-core/fp8-decode.ts [MiB of fp8 codes, default 64]
 * Prints GB/s of input read (codes) and of float32 written; best of 5 runs after a warm-up.
 * `into` reuses one output buffer; the plain decode allocates (and page-faults) a new one each time.
 * The load average is printed because a busy shared machine scales every figure down.
 */
import { loadavg } from 'node:os';
import { decodeToFloat32, decodeToFloat32Into, encodeFromFloat32 } from '../../engine/dtypes.js';
import type { DType } from '../../engine/tensor.js';

const mib = Number(process.argv[2] ?? 64);
const n = mib * 2 ** 20;

interface Timing {
  wall: number;
  /** Process CPU seconds: steadier than wall time when other jobs share the cores. */
  cpu: number;
}

function best(run: () => void, repeats = 5): Timing {
  run();
  const fastest = { wall: Infinity, cpu: Infinity };
  for (let i = 0; i < repeats; i++) {
    const cpu0 = process.cpuUsage();
    const t = process.hrtime.bigint();
    run();
    fastest.wall = Math.min(fastest.wall, Number(process.hrtime.bigint() - t) / 1e9);
    const cpu = process.cpuUsage(cpu0);
    fastest.cpu = Math.min(fastest.cpu, (cpu.user + cpu.system) / 1e6);
  }
  return fastest;
}

function report(what: string, time: Timing, inBytes: number, outBytes: number): void {
  const gbps = (b: number, s: number): string => (b / s / 1e9).toFixed(2).padStart(5);
  console.log(
    `${what.padEnd(42)} ${(time.wall * 1e3).toFixed(1).padStart(8)} ms wall: in ${gbps(inBytes, time.wall)} GB/s, ` +
      `out ${gbps(outBytes, time.wall)} GB/s | per CPU-second: in ${gbps(inBytes, time.cpu)}, out ${gbps(outBytes, time.cpu)}`,
  );
}

const codes = new Uint8Array(n);
for (let i = 0; i < n; i++) codes[i] = (i * 2654435761) >>> 24;
const halves = new Uint16Array(n);
for (let i = 0; i < n; i++) halves[i] = (i * 2654435761) >>> 16;

console.log(`${mib} Mi elements, node ${process.version}, load average ${loadavg()[0].toFixed(1)}`);
const reused = new Float32Array(n);
for (const dtype of ['float8_e4m3fn', 'float8_e5m2'] as DType[]) {
  report(`decode ${dtype} → float32 (into)`, best(() => decodeToFloat32Into(codes, dtype, reused)), n, 4 * n);
  report(`decode ${dtype} → float32 (alloc)`, best(() => decodeToFloat32(codes, dtype)), n, 4 * n);
}
for (const dtype of ['float16', 'bfloat16'] as DType[]) {
  report(`decode ${dtype} → float32 (into)`, best(() => decodeToFloat32Into(halves, dtype, reused)), 2 * n, 4 * n);
}
const floats = decodeToFloat32(codes, 'float8_e4m3fn');
for (const dtype of ['float8_e4m3fn', 'float16', 'bfloat16'] as DType[]) {
  const outBytes = dtype === 'float8_e4m3fn' ? n : 2 * n;
  report(`encode float32 → ${dtype}`, best(() => encodeFromFloat32(floats, dtype)), 4 * n, outBytes);
}
