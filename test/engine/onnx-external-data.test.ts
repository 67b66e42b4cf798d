/**
 * FP8 weights referenced as ONNX external data straight from a safetensors file's byte ranges
 * (the F8_E4M3 bytes of a safetensors file are exactly ONNX's raw_data layout). onnxruntime reads
 * them itself: the model bytes hold only references, and rewriting the file changes the result.
 * Tolerance: SUMS (a 64-term float32 dot product), as in onnx-ops.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as op from '../../engine/onnx/index.js';
import { createSession } from '../../engine/runtime/session.js';
import type { Tensor } from '../../engine/tensor.js';
import * as ref from './helpers/ref-ops.js';
import { expectClose, f32 } from './helpers/run-graph.js';
import { writeSafetensors, type ByteRange } from './helpers/safetensors-file.js';

const SUMS = { atol: 1e-4, rtol: 1e-4 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-extdata-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const r = ref.rng(21);
const IN = 64;
const OUT = 32;
const codes = Uint8Array.from({ length: OUT * IN }, () => 0x30 + Math.floor(r.uniform() * 16) + (r.uniform() < 0.5 ? 0x80 : 0)); // |w| in [0.5, 1.9]
const scales = Float32Array.from({ length: OUT }, (_, i) => 0.01 * (i + 1));
const weights: Record<string, Tensor> = {
  'blocks.0.weight': { dtype: 'float8_e4m3fn', shape: [OUT, IN], data: codes }, // Linear layout [out, in]
  'blocks.0.scale_weight': { dtype: 'float32', shape: [OUT], data: scales },
};
const ranges = writeSafetensors(path.join(dir, 'weights.safetensors'), weights);
const x = ref.randn(r, [2, IN]);

/** y = x · (decode(W)·s)ᵀ with W [out, in] per-output-channel scales (axis 0). */
function expected(weightCodes: Uint8Array): ref.Arr {
  const w = ref.arr([OUT, IN], Array.from(weightCodes, (c, i) => Math.fround(ref.fp8Decode(c, 'e4m3fn') * scales[Math.floor(i / IN)])));
  return ref.matmul(x, ref.transpose(w, [1, 0]));
}

function model(location: string, rangesOf: Record<string, ByteRange>): Uint8Array {
  const g = new op.GraphBuilder('external');
  const input = g.input('x', 'float32', ['tokens', IN]);
  const w = g.externalInitializer('w', 'float8_e4m3fn', [OUT, IN], { location, ...rangesOf['blocks.0.weight'] });
  const s = g.externalInitializer('s', 'float32', [OUT], { location, ...rangesOf['blocks.0.scale_weight'] });
  const wT = op.transpose(g, op.dequantizeAfter(g, w, s, input, { axis: 0 }), [1, 0]); // [in, out]
  g.output(op.matMul(g, input, wT), 'float32', ['tokens', OUT], 'y');
  return g.toBytes();
}

describe('external data from a safetensors file', () => {
  it('runs from model bytes with externalDataFolder, the weights staying out of the model', async () => {
    const bytes = model('weights.safetensors', ranges);
    expect(bytes.length).toBeLessThan(codes.length); // only references travel in the model
    const session = await createSession(bytes, { name: 'ext-bytes', externalDataFolder: dir });
    try {
      expectClose((await session.run({ x: f32(x) })).y, expected(codes), SUMS);
    } finally {
      await session.release();
    }
  });

  it('runs from an .onnx file written next to the weights', async () => {
    fs.writeFileSync(path.join(dir, 'model.onnx'), model('weights.safetensors', ranges));
    const session = await createSession(path.join(dir, 'model.onnx'));
    try {
      expectClose((await session.run({ x: f32(x) })).y, expected(codes), SUMS);
    } finally {
      await session.release();
    }
  });

  it('reads the bytes from the file when the session is created (not from JavaScript memory)', async () => {
    const bytes = model('weights2.safetensors', ranges);
    const changed = codes.map((c) => c ^ 0x80); // every weight negated
    writeSafetensors(path.join(dir, 'weights2.safetensors'), { ...weights, 'blocks.0.weight': { ...weights['blocks.0.weight'], data: changed } });
    const session = await createSession(bytes, { externalDataFolder: dir });
    try {
      expectClose((await session.run({ x: f32(x) })).y, expected(changed), SUMS);
    } finally {
      await session.release();
    }
  });

  it('rejects references that cannot work, naming the rule', async () => {
    const g = new op.GraphBuilder('bad');
    expect(() => g.externalInitializer('w', 'float8_e4m3fn', [OUT, IN], { location: '/abs/w.safetensors', offset: 0, length: OUT * IN })).toThrow(/must be a relative path/);
    expect(() => g.externalInitializer('w', 'float8_e4m3fn', [OUT, IN], { location: '../w.safetensors', offset: 0, length: OUT * IN })).toThrow(/'\.\.'/);
    expect(() => g.externalInitializer('w', 'float8_e4m3fn', [OUT, IN], { location: 'w.safetensors', offset: 0, length: 5 })).toThrow(/needs 2048 bytes, the reference has 5/);
    await expect(createSession(model('missing.safetensors', ranges), { name: 'missing', externalDataFolder: dir })).rejects.toThrow(/session 'missing': onnxruntime could not load the model/);
  });
});
