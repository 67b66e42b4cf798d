/**
 * Every builder op through a real onnxruntime-node session on seeded random inputs, against the
 * plain-TypeScript references in helpers/ref-ops.ts (STYLE.md: helper_test_op, test-backend-ops).
 *
 * Tolerances, and why:
 *   EXACT        pure data movement, or one correctly rounded float32 operation compared with
 *                the float64 result rounded once (Math.fround) — must agree bit for bit.
 *   ROUNDED      one float32 arithmetic op vs float64: within half an ulp, so rtol 2^-23 suffices.
 *   TRANSCEND    exp/pow/sigmoid/tanh/erf use vectorised approximations in MLAS: a few ulp.
 *   SUMS         matmul/conv/einsum accumulate 16–72 float32 products in a blocked order
 *                (error grows with K·eps·Σ|a·b|); inputs are N(0,1), so 1e-4 is several sigma wide.
 *   NORMS        mean and variance in float32 over ≤ 64 elements, then a division: ~1e-6 relative,
 *                1e-5 leaves room for the fused kernels' different summation order.
 */
import { describe, expect, it } from 'vitest';
import * as op from '../../engine/onnx/index.js';
import type { Tensor } from '../../engine/tensor.js';
import * as ref from './helpers/ref-ops.js';
import { expectClose, runGraph, type Tolerance } from './helpers/run-graph.js';

const EXACT: Tolerance = { atol: 0, rtol: 0 };
const ROUNDED: Tolerance = { atol: 0, rtol: 1.2e-7 };
const TRANSCEND: Tolerance = { atol: 1e-6, rtol: 1e-5 };
const SUMS: Tolerance = { atol: 1e-4, rtol: 1e-4 };
const NORMS: Tolerance = { atol: 1e-5, rtol: 1e-5 };

const r = ref.rng(1234);
const x234 = ref.randn(r, [2, 3, 4]);
const y234 = ref.randn(r, [2, 3, 4]);
const row4 = ref.randn(r, [4]);
const pos234 = ref.map(ref.randn(r, [2, 3, 4]), (v) => Math.fround(Math.abs(v) + 0.1));
const fround = (x: ref.Arr) => ref.map(x, Math.fround);

interface OpCase {
  name: string;
  inputs: Record<string, ref.Arr>;
  build: (g: op.GraphBuilder, v: Record<string, string>) => string | string[];
  expected: () => ref.Arr | ref.Arr[];
  tol: Tolerance;
  opset?: number;
}

const elementwise: OpCase[] = [
  { name: 'Add (broadcast)', inputs: { a: x234, b: row4 }, build: (g, v) => op.add(g, v.a, v.b), expected: () => fround(ref.zip(x234, row4, (a, b) => a + b)), tol: EXACT },
  { name: 'Sub', inputs: { a: x234, b: y234 }, build: (g, v) => op.sub(g, v.a, v.b), expected: () => fround(ref.zip(x234, y234, (a, b) => a - b)), tol: EXACT },
  { name: 'Mul', inputs: { a: x234, b: y234 }, build: (g, v) => op.mul(g, v.a, v.b), expected: () => fround(ref.zip(x234, y234, (a, b) => a * b)), tol: EXACT },
  { name: 'Div', inputs: { a: x234, b: pos234 }, build: (g, v) => op.div(g, v.a, v.b), expected: () => fround(ref.zip(x234, pos234, (a, b) => a / b)), tol: ROUNDED },
  { name: 'Pow', inputs: { a: pos234, b: y234 }, build: (g, v) => op.pow(g, v.a, v.b), expected: () => ref.zip(pos234, y234, (a, b) => a ** b), tol: TRANSCEND },
  { name: 'Sqrt', inputs: { a: pos234 }, build: (g, v) => op.sqrt(g, v.a), expected: () => fround(ref.map(pos234, Math.sqrt)), tol: EXACT },
  { name: 'Neg', inputs: { a: x234 }, build: (g, v) => op.neg(g, v.a), expected: () => ref.map(x234, (t) => -t), tol: EXACT },
  { name: 'Exp', inputs: { a: x234 }, build: (g, v) => op.exp(g, v.a), expected: () => ref.map(x234, Math.exp), tol: TRANSCEND },
  { name: 'Sigmoid', inputs: { a: x234 }, build: (g, v) => op.sigmoid(g, v.a), expected: () => ref.map(x234, ref.sigmoid), tol: TRANSCEND },
  { name: 'SiLU', inputs: { a: x234 }, build: (g, v) => op.silu(g, v.a), expected: () => ref.map(x234, (t) => t * ref.sigmoid(t)), tol: TRANSCEND },
  { name: 'Gelu erf', inputs: { a: x234 }, build: (g, v) => op.gelu(g, v.a, 'none'), expected: () => ref.map(x234, ref.geluErf), tol: TRANSCEND },
  { name: 'Gelu tanh', inputs: { a: x234 }, build: (g, v) => op.gelu(g, v.a, 'tanh'), expected: () => ref.map(x234, ref.geluTanh), tol: TRANSCEND },
  {
    name: 'Equal, Less, Where',
    inputs: { a: x234, b: y234 },
    build: (g, v) => [op.cast(g, op.equal(g, v.a, v.a), 'float32'), op.where(g, op.less(g, v.a, v.b), v.a, v.b)],
    expected: () => [ref.map(x234, () => 1), ref.zip(x234, y234, Math.min)],
    tol: EXACT,
  },
];

const matrices: OpCase[] = ((): OpCase[] => {
  const a = ref.randn(r, [3, 16, 32]);
  const b = ref.randn(r, [32, 24]);
  const q = ref.randn(r, [2, 2, 5, 8]);
  const k = ref.randn(r, [2, 2, 7, 8]);
  const vv = ref.randn(r, [2, 2, 7, 8]);
  const a2 = ref.randn(r, [5, 32]);
  const w = ref.randn(r, [24, 32]);
  const bias = ref.randn(r, [24]);
  const sdpa = () => ref.matmul(ref.softmaxLast(ref.map(ref.matmul(q, ref.transpose(k, [0, 1, 3, 2])), (t) => t * Math.fround(1 / Math.sqrt(8)))), vv);
  return [
    { name: 'MatMul (batched, broadcast weight)', inputs: { a, b }, build: (g, v) => op.matMul(g, v.a, v.b), expected: () => ref.matmul(a, b), tol: SUMS },
    {
      name: 'Gemm transB + bias',
      inputs: { a: a2, w, bias },
      build: (g, v) => op.gemm(g, v.a, v.w, v.bias, { transB: true, alpha: 0.5 }),
      expected: () => ref.zip(ref.map(ref.matmul(a2, ref.transpose(w, [1, 0])), (t) => 0.5 * t), bias, (x, y) => x + y),
      tol: SUMS,
    },
    { name: 'Einsum bhld,bhsd->bhls', inputs: { q, k }, build: (g, v) => op.einsum(g, 'bhld,bhsd->bhls', [v.q, v.k]), expected: () => ref.matmul(q, ref.transpose(k, [0, 1, 3, 2])), tol: SUMS },
    { name: 'scaledDotProductAttention', inputs: { q, k, vv }, build: (g, v) => op.scaledDotProductAttention(g, v.q, v.k, v.vv, { scale: 1 / Math.sqrt(8) }), expected: sdpa, tol: SUMS },
  ];
})();

const reductions: OpCase[] = ((): OpCase[] => {
  const x = ref.randn(r, [2, 6, 16], 2, 0.5);
  const gamma = ref.randn(r, [16]);
  const beta = ref.randn(r, [16]);
  const layerNorm = () =>
    ref.zip(ref.zip(ref.lastAxis(x, (v) => { const m = ref.mean(v); const s = Math.sqrt(ref.mean(v.map((t) => (t - m) ** 2)) + 1e-5); return v.map((t) => (t - m) / s); }), gamma, (a, b) => a * b), beta, (a, b) => a + b);
  const rms = () => ref.zip(ref.lastAxis(x, (v) => { const s = Math.sqrt(ref.mean(v.map((t) => t * t)) + 1e-6); return v.map((t) => t / s); }), gamma, (a, b) => a * b);
  return [
    { name: 'ReduceMean axis 1 keepdims', inputs: { x }, build: (g, v) => op.reduceMean(g, v.x, [1]), expected: () => ref.reduceAxis(x, 1, ref.mean), tol: NORMS },
    { name: 'Softmax', inputs: { x }, build: (g, v) => op.softmax(g, v.x, -1), expected: () => ref.softmaxLast(x), tol: TRANSCEND },
    { name: 'LayerNormalization', inputs: { x, gamma, beta }, build: (g, v) => op.layerNorm(g, v.x, v.gamma, v.beta), expected: layerNorm, tol: NORMS },
    { name: 'RMSNorm (composed, opset 21)', inputs: { x, gamma }, build: (g, v) => op.rmsNorm(g, v.x, v.gamma), expected: rms, tol: NORMS },
    { name: 'RMSNorm (RMSNormalization, opset 23)', inputs: { x, gamma }, build: (g, v) => op.rmsNorm(g, v.x, v.gamma), expected: rms, tol: NORMS, opset: 23 },
  ];
})();

function runCases(cases: OpCase[]): void {
  for (const c of cases) {
    it(c.name, async () => {
      const outs = await runGraph({ inputs: c.inputs, build: c.build, opset: c.opset });
      const expected = c.expected();
      const list = Array.isArray(expected) ? expected : [expected];
      expect(outs.length).toBe(list.length);
      list.forEach((e, i) => expectClose(outs[i] as Tensor, e, c.tol));
    });
  }
}

describe('builder ops vs TypeScript references: elementwise', () => runCases(elementwise));
describe('builder ops vs TypeScript references: matrices and attention', () => runCases(matrices));
describe('builder ops vs TypeScript references: reductions and norms', () => runCases(reductions));
