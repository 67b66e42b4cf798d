/**
 * FP8 initializers through onnxruntime-node: DequantizeLinear per tensor and per channel, the
 * FP8 Linear (MatMul next to its dequantisation), the ordering-trick variant, and Cast to FP8.
 * References decode FP8 straight from the format definition (helpers/ref-ops.ts fp8Decode).
 *
 * Tolerances: a dequantised value is one float32 product decode·scale — EXACT against
 * Math.fround(decode·scale). The FP8 Linear sums 64 products in float32 (SUMS, as onnx-ops.test.ts).
 */
import { describe, expect, it } from 'vitest';
import * as op from '../../engine/onnx/index.js';
import type { Tensor } from '../../engine/tensor.js';
import * as ref from './helpers/ref-ops.js';
import { expectClose, runGraph, type Tolerance } from './helpers/run-graph.js';

const EXACT: Tolerance = { atol: 0, rtol: 0 };
const SUMS: Tolerance = { atol: 1e-4, rtol: 1e-4 };
type Format = 'e4m3fn' | 'e5m2';
const dtypeOf = (f: Format): 'float8_e4m3fn' | 'float8_e5m2' => (f === 'e4m3fn' ? 'float8_e4m3fn' : 'float8_e5m2');

const allCodes = Uint8Array.from({ length: 256 }, (_, i) => i);
const f32 = (shape: number[], values: ArrayLike<number>): Tensor<'float32'> => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
const decodeAll = (codes: Uint8Array, format: Format) => Array.from(codes, (c) => ref.fp8Decode(c, format));

/** Random finite codes (NaN/Inf excluded) so matmul references stay finite. */
function randomCodes(seed: number, n: number, format: Format): Uint8Array {
  const r = ref.rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    do out[i] = Math.floor(r.uniform() * 256);
    while (!Number.isFinite(ref.fp8Decode(out[i], format)) || Math.abs(ref.fp8Decode(out[i], format)) > 16);
  }
  return out;
}

describe.each<Format>(['e4m3fn', 'e5m2'])('DequantizeLinear of %s initializers', (format) => {
  it('per tensor: all 256 codes decode as the format defines (NaN and Inf included)', async () => {
    const scale = 0.375;
    const [y] = await runGraph({
      inputs: {},
      build: (g) => op.dequantizeLinear(g, g.initializer('w', { dtype: dtypeOf(format), shape: [16, 16], data: allCodes }), g.constant(f32([], [scale]))),
    });
    expectClose(y, ref.arr([16, 16], decodeAll(allCodes, format).map((v) => Math.fround(v * scale))), EXACT);
  });

  it.each([0, 1])('per channel along axis %i', async (axis) => {
    const codes = randomCodes(7 + axis, 6 * 5, format);
    const scales = Array.from({ length: axis === 0 ? 6 : 5 }, (_, i) => Math.fround(0.01 * (i + 1) + 0.003));
    const [y] = await runGraph({
      inputs: {},
      build: (g) => op.dequantizeLinear(g, g.initializer('w', { dtype: dtypeOf(format), shape: [6, 5], data: codes }), g.constant(f32([scales.length], scales)), { axis }),
    });
    const values = decodeAll(codes, format).map((v, i) => Math.fround(v * scales[axis === 0 ? Math.floor(i / 5) : i % 5]));
    expectClose(y, ref.arr([6, 5], values), EXACT);
  });
});

describe('FP8 Linear: MatMul(x, DequantizeLinear(w))', () => {
  const r = ref.rng(5);
  const x = ref.randn(r, [2, 3, 64]);
  const codes = randomCodes(11, 64 * 32, 'e4m3fn');
  const scales = Array.from({ length: 32 }, (_, i) => Math.fround(0.02 + 0.001 * i));
  const wRef = ref.arr([64, 32], decodeAll(codes, 'e4m3fn').map((v, i) => Math.fround(v * scales[i % 32])));
  const expected = ref.matmul(x, wRef);
  const weight = (g: op.GraphBuilder) => g.initializer('w', { dtype: 'float8_e4m3fn', shape: [64, 32], data: codes });
  const scale = (g: op.GraphBuilder) => g.constant(f32([32], scales));

  it('per output channel (axis 1 of a [in, out] weight)', async () => {
    const [y] = await runGraph({ inputs: { x }, build: (g, v) => op.matMul(g, v.x, op.dequantizeLinear(g, weight(g), scale(g), { axis: 1 })) });
    expectClose(y, expected, SUMS);
  });

  it('with the ordering trick (dequantizeAfter) gives the same result, symbolic dims included', async () => {
    const [y] = await runGraph({
      inputs: { x },
      dims: { x: ['batch', 'tokens', 64] },
      build: (g, v) => op.matMul(g, v.x, op.dequantizeAfter(g, weight(g), scale(g), v.x, { axis: 1 })),
    });
    expectClose(y, expected, SUMS);
  });
});

describe('fp8Linear: torch.nn.Linear on an FP8 weight stored [out, in]', () => {
  const r = ref.rng(8);
  const x = ref.randn(r, [2, 3, 40]);
  const bias = ref.randn(r, [24]);
  const codes = randomCodes(13, 24 * 40, 'e4m3fn');
  const channelScales = Array.from({ length: 24 }, (_, i) => Math.fround(0.05 + 0.002 * i));
  const decoded = decodeAll(codes, 'e4m3fn');
  const linearRef = (scaleOf: (row: number) => number, withBias: boolean) => {
    const w = ref.arr([24, 40], decoded.map((v, i) => Math.fround(v * scaleOf(Math.floor(i / 40)))));
    const y = ref.matmul(x, ref.transpose(w, [1, 0]));
    return withBias ? ref.zip(y, bias, (a, b) => a + b) : y;
  };

  it.each([
    ['per channel, bias, ordered, symbolic batch and tokens', true, true, true],
    ['per tensor, no bias, not ordered, static dims', false, false, false],
  ] as const)('%s', async (_label, perChannel, withBias, ordered) => {
    const [y] = await runGraph({
      inputs: withBias ? { x, bias } : { x },
      dims: ordered ? { x: ['batch', 'tokens', 40] } : undefined,
      build: (g, v) => {
        const w = g.initializer('w', { dtype: 'float8_e4m3fn', shape: [24, 40], data: codes });
        const scale = perChannel ? g.constant(f32([24], channelScales)) : g.constant(f32([], [0.0625]));
        return op.fp8Linear(g, v.x, w, scale, { perChannel, ordered, bias: withBias ? v.bias : undefined });
      },
    });
    expectClose(y, linearRef((row) => (perChannel ? channelScales[row] : 0.0625), withBias), SUMS);
  });
});

describe('Cast float32 → FP8 → float32', () => {
  /** Nearest code by value, ties to the even mantissa (code with low bit 0), ±448 saturation for e4m3fn. */
  function nearestE4m3(v: number): number {
    const clamped = Math.max(-448, Math.min(448, v));
    let best = 0;
    for (let c = 0; c < 256; c++) {
      const d = ref.fp8Decode(c, 'e4m3fn');
      if (!Number.isFinite(d) || (d === 0 && c === 0x80)) continue;
      const diff = Math.abs(d - clamped) - Math.abs(ref.fp8Decode(best, 'e4m3fn') - clamped);
      if (diff < 0 || (diff === 0 && (c & 1) === 0)) best = c;
    }
    return ref.fp8Decode(best, 'e4m3fn');
  }

  it('rounds to nearest even and saturates to ±448 by default (spec §6.1)', async () => {
    const r = ref.rng(3);
    const values = [0, 460, 1000, -1000, 0.3, 1.0625, 1.1875, 2 ** -10, ...Array.from({ length: 40 }, () => Math.fround(r.normal() * 50))];
    const x = ref.arr([values.length], values.map(Math.fround));
    const [y] = await runGraph({ inputs: { x }, build: (g, v) => op.cast(g, op.cast(g, v.x, 'float8_e4m3fn'), 'float32') });
    expectClose(y, ref.arr([values.length], Array.from(x.data, nearestE4m3)), EXACT);
    expect(Array.from(y.data as Float32Array).slice(1, 4)).toEqual([448, 448, -448]);
  });
});
