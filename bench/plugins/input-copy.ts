/**
 * What input protection and the FP16 guard cost a plugin call: prints figures, asserts nothing.
 *   npx tsx bench/plugins/input-copy.ts [--runs 20]
 *
 * For an IMAGE of 1024×1024×3 and SD3 latents of 1024² (float32 and FP8): the copy plugins get
 * (prepareValue with copy), the zero-copy pass (nothing to cast), the FP8 → float16 cast, and,
 * for scale, one pass of plain per-element math over the same image (a brightness change).
 */
import { castTensor } from '../../engine/dtypes.js';
import { zeros, type Tensor } from '../../engine/tensor.js';
import { prepareValue } from '../../nodes/plugins/tensor-guard.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function medianMs(runs: number, fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const start = performance.now();
    fn();
    if (i >= 2) times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const runs = flag('runs', 20);
const image = zeros('float32', [1, 1024, 1024, 3]);
const latent32 = { samples: zeros('float32', [1, 16, 128, 128]) };
const latent8 = { samples: castTensor(zeros('float32', [1, 16, 128, 128]), 'float8_e4m3fn') };
const plain = { acceptsFp8: false, requiresFp32: false };
const mb = (t: Tensor) => (t.data.byteLength / 2 ** 20).toFixed(1);

const rows: [string, string, number][] = [
  [`IMAGE ${mb(image)} MiB`, 'copy (input protection)', medianMs(runs, () => prepareValue({ image }, { ...plain, copy: true }))],
  [`IMAGE ${mb(image)} MiB`, 'no copy, nothing to cast', medianMs(runs, () => prepareValue({ image }, { ...plain, copy: false }))],
  [`IMAGE ${mb(image)} MiB`, 'one brightness pass (for scale)', medianMs(runs, () => {
    const out = new Float32Array(image.data.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.min(1, image.data[i]! + 0.1);
    return out;
  })],
  [`LATENT f32 ${mb(latent32.samples)} MiB`, 'copy (input protection)', medianMs(runs, () => prepareValue({ latent32 }, { ...plain, copy: true }))],
  [`LATENT fp8 ${mb(latent8.samples)} MiB`, 'FP8 → float16 cast (guard)', medianMs(runs, () => prepareValue({ latent8 }, { ...plain, copy: true }))],
  [`LATENT fp8 ${mb(latent8.samples)} MiB`, 'ACCEPTS_FP8, copy', medianMs(runs, () => prepareValue({ latent8 }, { ...plain, acceptsFp8: true, copy: true }))],
];
console.log(`median of ${runs} runs, ${process.version}`);
for (const [what, how, ms] of rows) console.log(`${what.padEnd(22)} ${how.padEnd(34)} ${ms.toFixed(3).padStart(9)} ms`);
