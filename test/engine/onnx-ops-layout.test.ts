/**
 * Shape/layout ops, convolution, GroupNormalization, Resize and Pad through onnxruntime-node
 * against TypeScript references. Tolerances as in onnx-ops.test.ts: data movement is EXACT;
 * conv sums ≤ 72 products (SUMS); group norm is a float32 mean/variance (NORMS).
 */
import { describe, expect, it } from 'vitest';
import * as op from '../../engine/onnx/index.js';
import * as ref from './helpers/ref-ops.js';
import { expectClose, runGraph, type Tolerance } from './helpers/run-graph.js';

const EXACT: Tolerance = { atol: 0, rtol: 0 };
const SUMS: Tolerance = { atol: 1e-4, rtol: 1e-4 };
const NORMS: Tolerance = { atol: 1e-5, rtol: 1e-5 };
const LERP: Tolerance = { atol: 1e-6, rtol: 1e-6 }; // two float32 multiply-adds per output

const r = ref.rng(99);
const x = ref.randn(r, [2, 3, 4]);
const img = ref.randn(r, [1, 4, 5, 6]);

async function check(inputs: Record<string, ref.Arr>, build: Parameters<typeof runGraph>[0]['build'], expected: ref.Arr[], tol: Tolerance) {
  const outs = await runGraph({ inputs, build });
  expect(outs.length).toBe(expected.length);
  expected.forEach((e, i) => expectClose(outs[i], e, tol));
}

describe('layout ops', () => {
  it('Reshape with 0 and -1', () => check({ x }, (g, v) => op.reshape(g, v.x, [0, -1]), [{ shape: [2, 12], data: x.data }], EXACT));
  it('Transpose', () => check({ x }, (g, v) => op.transpose(g, v.x, [2, 0, 1]), [ref.transpose(x, [2, 0, 1])], EXACT));
  it('Concat', () => check({ x }, (g, v) => op.concat(g, [v.x, v.x], 1), [ref.concat([x, x], 1)], EXACT));

  it('Split by sizes and by parts', () => {
    const part = (start: number, len: number) => ref.remap(x, [2, 3, len], (i) => [i[0], i[1], i[2] + start]);
    return check(
      { x },
      (g, v) => [...op.split(g, v.x, 2, { sizes: [1, 3] }), ...op.split(g, v.x, 2, { parts: 2 })],
      [part(0, 1), part(1, 3), part(0, 2), part(2, 2)],
      EXACT,
    );
  });

  it('Slice with axes and negative step', () =>
    check({ x }, (g, v) => op.slice(g, v.x, { starts: [3, 1], ends: [0, 3], axes: [2, 1], steps: [-2, 1] }), [
      ref.remap(x, [2, 2, 2], (i) => [i[0], i[1] + 1, 3 - 2 * i[2]]),
    ], EXACT));

  it('Gather along axis 1 with int64 indices', () =>
    check({ x }, (g, v) => op.gather(g, v.x, op.int64s(g, [2, 0]), 1), [ref.remap(x, [2, 2, 4], (i) => [i[0], [2, 0][i[1]], i[2]])], EXACT));

  it('Unsqueeze, Squeeze, Expand', () =>
    check(
      { x },
      (g, v) => [op.unsqueeze(g, v.x, [1]), op.squeeze(g, op.unsqueeze(g, v.x, [0, 4])), op.expand(g, op.unsqueeze(g, v.x, [1]), [2, 5, 3, 4])],
      [{ shape: [2, 1, 3, 4], data: x.data }, x, ref.remap(x, [2, 5, 3, 4], (i) => [i[0], i[2], i[3]])],
      EXACT,
    ));

  it('Shape (cast to float)', () =>
    check({ x }, (g, v) => [op.cast(g, op.shape(g, v.x), 'float32'), op.cast(g, op.shape(g, v.x, { start: 1 }), 'float32')], [ref.arr([3], [2, 3, 4]), ref.arr([2], [3, 4])], EXACT));

  it('Pad constant / reflect / edge', () => {
    const padded = (mode: 'constant' | 'reflect' | 'edge') =>
      ref.remap(x, [2, 3, 7], (i) => {
        let c = i[2] - 2; // pads: 2 before, 1 after on the last axis
        if (c >= 0 && c < 4) return [i[0], i[1], c];
        if (mode === 'constant') return undefined;
        if (mode === 'edge') c = c < 0 ? 0 : 3;
        else c = c < 0 ? -c : 6 - c;
        return [i[0], i[1], c];
      }, 1.5);
    return check(
      { x },
      (g, v) => [
        op.pad(g, v.x, { pads: [2, 1], axes: [2], value: 1.5 }),
        op.pad(g, v.x, { pads: [0, 0, 2, 0, 0, 1], mode: 'reflect' }),
        op.pad(g, v.x, { pads: [0, 0, 2, 0, 0, 1], mode: 'edge' }),
      ],
      [padded('constant'), padded('reflect'), padded('edge')],
      EXACT,
    );
  });
});

describe('convolution, group norm, resize', () => {
  it('Conv 3×3 pad 1 stride 1 and 2, with bias', () => {
    const w = ref.randn(r, [3, 4, 3, 3]);
    const b = ref.randn(r, [3]);
    const conv = (stride: number) => {
      const oh = Math.floor((5 + 2 - 3) / stride) + 1;
      const ow = Math.floor((6 + 2 - 3) / stride) + 1;
      const data = new Float64Array(3 * oh * ow);
      for (let o = 0; o < 3; o++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++) {
            let s = b.data[o];
            for (let c = 0; c < 4; c++)
              for (let ky = 0; ky < 3; ky++)
                for (let kx = 0; kx < 3; kx++) {
                  const iy = y * stride + ky - 1;
                  const ix = xx * stride + kx - 1;
                  if (iy >= 0 && iy < 5 && ix >= 0 && ix < 6) s += img.data[(c * 5 + iy) * 6 + ix] * w.data[((o * 4 + c) * 3 + ky) * 3 + kx];
                }
            data[(o * oh + y) * ow + xx] = s;
          }
      return { shape: [1, 3, oh, ow], data };
    };
    return check(
      { img, w, b },
      (g, v) => [op.conv(g, v.img, v.w, v.b, { pads: [1, 1, 1, 1] }), op.conv(g, v.img, v.w, v.b, { pads: [1, 1, 1, 1], strides: [2, 2] })],
      [conv(1), conv(2)],
      SUMS,
    );
  });

  it('GroupNormalization (opset 21: per-channel scale and bias)', () => {
    const scale = ref.randn(r, [4]);
    const bias = ref.randn(r, [4]);
    const groups = 2;
    const per = (4 / groups) * 30;
    const data = new Float64Array(img.data.length);
    for (let gi = 0; gi < groups; gi++) {
      const v = Array.from(img.data.subarray(gi * per, gi * per + per));
      const m = ref.mean(v);
      const s = Math.sqrt(ref.mean(v.map((t) => (t - m) ** 2)) + 1e-5);
      v.forEach((t, j) => {
        const ch = gi * 2 + Math.floor(j / 30);
        data[gi * per + j] = ((t - m) / s) * scale.data[ch] + bias.data[ch];
      });
    }
    return check({ img, scale, bias }, (g, v) => op.groupNorm(g, v.img, v.scale, v.bias, groups), [{ shape: img.shape, data }], NORMS);
  });

  it('Resize nearest ×2 (torch interpolate) and bilinear half_pixel ×2', () => {
    const nearest = ref.remap(img, [1, 4, 10, 12], (i) => [0, i[1], i[2] >> 1, i[3] >> 1]);
    const lin = (o: number, n: number) => Math.min(Math.max((o + 0.5) / 2 - 0.5, 0), n - 1);
    const bilinear = { shape: [1, 4, 10, 12], data: new Float64Array(4 * 120) };
    for (let i = 0; i < bilinear.data.length; i++) {
      const [, c, oy, ox] = ref.unravel(i, bilinear.shape);
      const fy = lin(oy, 5);
      const fx = lin(ox, 6);
      const y0 = Math.floor(fy), x0 = Math.floor(fx);
      const y1 = Math.min(y0 + 1, 4), x1 = Math.min(x0 + 1, 5);
      const at = (yy: number, xx: number) => img.data[(c * 5 + yy) * 6 + xx];
      const top = at(y0, x0) * (1 - (fx - x0)) + at(y0, x1) * (fx - x0);
      const bottom = at(y1, x0) * (1 - (fx - x0)) + at(y1, x1) * (fx - x0);
      bilinear.data[i] = top * (1 - (fy - y0)) + bottom * (fy - y0);
    }
    return check(
      { img },
      (g, v) => [
        op.resize(g, v.img, { scales: [1, 1, 2, 2], mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' }),
        op.resize(g, v.img, { sizes: [1, 4, 10, 12], mode: 'linear', coordinateTransformationMode: 'half_pixel' }),
      ],
      [nearest, bilinear],
      LERP,
    );
  });
});
