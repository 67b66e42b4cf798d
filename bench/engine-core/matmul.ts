/**
 * MatMul throughput at transformer sizes: float32 weights vs FP8 weights dequantised in-graph
 * (DequantizeLinear per output channel right before the MatMul). Same activations, same session
 * options (arena off, as the engine runs), median of a few runs after one warm-up.
 */
import * as op from '../../engine/onnx/index.js';
import { createSession } from '../../engine/runtime/session.js';
import type { Tensor } from '../../engine/tensor.js';

export interface MatMulResult {
  tokens: number;
  k: number;
  n: number;
  fp32: RunTiming;
  fp8: RunTiming;
}

/** Median wall time and median process CPU time (all onnxruntime threads) of one run. */
export interface RunTiming {
  wallMs: number;
  cpuMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function randomWeights(k: number, n: number): { f32: Tensor<'float32'>; fp8: Tensor<'float8_e4m3fn'>; scale: Tensor<'float32'> } {
  const f32 = new Float32Array(k * n);
  const codes = new Uint8Array(k * n);
  let seed = 7;
  for (let i = 0; i < codes.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    codes[i] = 0x30 + ((seed >>> 16) & 0x0f) + ((seed >>> 8) & 0x80);
    f32[i] = ((seed >>> 16) & 0xffff) / 65536 - 0.5;
  }
  return {
    f32: { dtype: 'float32', shape: [k, n], data: f32 },
    fp8: { dtype: 'float8_e4m3fn', shape: [k, n], data: codes },
    scale: { dtype: 'float32', shape: [n], data: new Float32Array(n).fill(0.01) },
  };
}

function model(k: number, n: number, weights: ReturnType<typeof randomWeights>, fp8: boolean): Uint8Array {
  const g = new op.GraphBuilder(fp8 ? 'matmul-fp8' : 'matmul-f32');
  const x = g.input('x', 'float32', ['tokens', k]);
  const w = fp8
    ? op.dequantizeLinear(g, g.initializer('w', weights.fp8), g.initializer('s', weights.scale), { axis: 1 })
    : g.initializer('w', weights.f32);
  g.output(op.matMul(g, x, w), 'float32', ['tokens', n], 'y');
  return g.toBytes();
}

async function timeRuns(bytes: Uint8Array, x: Tensor<'float32'>, runs: number): Promise<RunTiming> {
  const session = await createSession(bytes, { name: 'bench' });
  try {
    await session.run({ x });
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      await session.run({ x });
      wall.push(performance.now() - start);
      const used = process.cpuUsage(cpu0);
      cpu.push((used.user + used.system) / 1e3);
    }
    return { wallMs: median(wall), cpuMs: median(cpu) };
  } finally {
    await session.release();
  }
}

/**
 * The plain float32 baseline: x [tokens, k] times a float32 weight, as MatMul with W [k, n] and as
 * Gemm reading W [n, k] transposed (the engine's Linear form); the faster median wins, so the
 * baseline is the best this onnxruntime reaches at that shape.
 */
export async function bestPlainMatMulGflops(tokens: number, k: number, n: number, runs: number): Promise<{ gflops: number; form: 'MatMul' | 'Gemm' }> {
  const weights = randomWeights(k, n);
  const x: Tensor<'float32'> = { dtype: 'float32', shape: [tokens, k], data: new Float32Array(tokens * k).fill(0.5) };
  const matmul = await timeRuns(model(k, n, weights, false), x, runs);
  const g = new op.GraphBuilder('gemm-f32');
  const input = g.input('x', 'float32', ['tokens', k]);
  const w = g.initializer('w', { dtype: 'float32', shape: [n, k], data: weights.f32.data }); // same values, read as [n, k]
  g.output(op.gemm(g, input, w, undefined, { transB: true }), 'float32', ['tokens', n], 'y');
  const gemm = await timeRuns(g.toBytes(), x, runs);
  const flops = 2 * tokens * k * n;
  const best = Math.min(matmul.wallMs, gemm.wallMs);
  return { gflops: flops / (best / 1000) / 1e9, form: best === gemm.wallMs ? 'Gemm' : 'MatMul' };
}

export async function benchMatMul(tokenCounts: readonly number[], k: number, n: number, runs: number): Promise<MatMulResult[]> {
  const weights = randomWeights(k, n);
  const results: MatMulResult[] = [];
  for (const tokens of tokenCounts) {
    const x: Tensor<'float32'> = { dtype: 'float32', shape: [tokens, k], data: new Float32Array(tokens * k).fill(0.5) };
    const fp32 = await timeRuns(model(k, n, weights, false), x, runs);
    const fp8 = await timeRuns(model(k, n, weights, true), x, runs);
    results.push({ tokens, k, n, fp32, fp8 });
  }
  return results;
}
