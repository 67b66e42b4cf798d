import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeToFloat32 } from '../../engine/dtypes.js';
import {
  SafetensorsError,
  encodeSafetensors,
  openSafetensors,
  writeSafetensors,
  type SafetensorsErrorReason,
} from '../../engine/safetensors.js';
import { tensor, type DType, type Tensor } from '../../engine/tensor.js';
import { GOLDEN_DIR, readGolden } from './dtype-golden.js';
import { rawSafetensors, tempDir } from './safetensors-fixtures.js';

const dir = tempDir('comfy8-st-');
afterAll(() => dir.remove());

function everyEngineDtype(): Record<string, Tensor> {
  return {
    'w.f32': tensor('float32', [2, 3], new Float32Array([1.5, -0, NaN, Infinity, 1e-45, -3.25])),
    'w.f16': tensor('float16', [3], new Uint16Array([0x3c00, 0x7e01, 0x8001])),
    'w.bf16': tensor('bfloat16', [1, 2], new Uint16Array([0xffff, 0x3f80])),
    'w.e4m3': tensor('float8_e4m3fn', [2, 2], new Uint8Array([0x7f, 0x7e, 0x80, 0x01])),
    'w.e5m2': tensor('float8_e5m2', [4], new Uint8Array([0x7c, 0xfd, 0x01, 0x3c])),
    'ids.i64': tensor('int64', [2], new BigInt64Array([-(2n ** 63n), 2n ** 62n + 3n])),
    'ids.i32': tensor('int32', [1], new Int32Array([-7])),
    'mask.u8': tensor('uint8', [3], new Uint8Array([0, 128, 255])),
    'mask.bool': tensor('bool', [2], new Uint8Array([1, 0])),
    scalar: tensor('float32', [], new Float32Array([2])),
    empty: tensor('bfloat16', [0, 4], new Uint16Array(0)),
    'ünïcode.key': tensor('float32', [1], new Float32Array([3])),
    // A view into a larger buffer: only its own bytes may be written.
    'view.f32': tensor('float32', [2], new Float32Array(new Float32Array([9, 8, 7, 6]).buffer, 4, 2)),
  };
}

function expectSafetensorsError(fn: () => unknown, reason: SafetensorsErrorReason, pattern: RegExp): SafetensorsError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  const err = caught as SafetensorsError;
  expect({ reason: err.reason, message: err.message }).toMatchObject({ reason, message: expect.stringMatching(pattern) });
  return err;
}

describe('safetensors write → read round trip', () => {
  const tensors = everyEngineDtype();
  const path = dir.file('placeholder', new Uint8Array());
  writeSafetensors(path, tensors, { format: 'pt', 'zz.note': 'héllo' });
  const bytes = readFileSync(path);

  it('writes exactly what encodeSafetensors returns, with an 8-aligned space-padded header', () => {
    expect(bytes.equals(encodeSafetensors(tensors, { format: 'pt', 'zz.note': 'héllo' }))).toBe(true);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = bytes.subarray(8, 8 + n).toString('utf8');
    expect(text.startsWith('{"__metadata__":{"format":"pt","zz.note":"héllo"},"ids.i64":')).toBe(true);
    expect(text.trimEnd().endsWith('}')).toBe(true);
  });

  it('reads every dtype back bit-exactly with its metadata, shapes and absolute offsets', () => {
    const file = openSafetensors(path);
    try {
      expect(file.path).toBe(path);
      expect(file.metadata).toEqual({ format: 'pt', 'zz.note': 'héllo' });
      expect(file.keys()).toEqual(Object.keys(tensors).sort());
      for (const [key, t] of Object.entries(tensors)) {
        const got = file.read(key);
        expect(got.dtype).toBe(t.dtype);
        expect(got.shape).toEqual(t.shape);
        expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength)).toEqual(
          Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        );
        const info = file.info(key);
        expect(bytes.subarray(info.byteOffset, info.byteOffset + info.byteLength)).toEqual(Buffer.from(file.readBytes(key)));
        if (t.dtype !== 'int64') {
          expect(file.readFloat32(key).data).toEqual(decodeToFloat32(t.data, t.dtype));
        }
      }
      expect(file.has('w.f32')).toBe(true);
      expect(file.has('w.f64')).toBe(false);
    } finally {
      file.close();
    }
  });

  it('readElements reads any run of elements of every dtype as read() has them', () => {
    const file = openSafetensors(path);
    try {
      for (const [key, t] of Object.entries(tensors)) {
        const n = t.data.length;
        for (const [start, count] of n === 0 ? [[0, 0]] : [[0, n], [0, 0], [n - 1, 1], [Math.floor(n / 3), Math.ceil(n / 2)]]) {
          const got = file.readElements(key, start, count);
          expect(got.dtype).toBe(t.dtype);
          expect(got.shape).toEqual([count]);
          expect(Array.from(got.data as ArrayLike<number | bigint>)).toEqual(Array.from((t.data as ArrayLike<number | bigint> & { slice(a: number, b: number): ArrayLike<number | bigint> }).slice(start, start + count)));
        }
        expect(() => file.readElements(key, n, 1)).toThrow(`readElements: elements ${n}…${n + 1} of '${key}', which holds ${n}`);
        expect(() => file.readElements(key, -1, 1)).toThrow(/readElements/);
      }
    } finally {
      file.close();
    }
    expect(() => file.readElements('w.f32', 0, 1)).toThrow(/closed/);
  });
});

interface Expected {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; values: Array<number | string> }>;
}

function storageValues(t: Tensor): Array<number | string> {
  if (t.dtype === 'float32') return Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
  if (t.dtype === 'int64') return Array.from(t.data as BigInt64Array, (v) => v.toString());
  return Array.from(t.data as ArrayLike<number>);
}

const READ_AS: Record<string, DType> = {
  F64: 'float32', F32: 'float32', F16: 'float16', BF16: 'bfloat16', F8_E4M3: 'float8_e4m3fn', F8_E5M2: 'float8_e5m2',
  I64: 'int64', I32: 'int32', I16: 'int32', I8: 'int32', U8: 'uint8', BOOL: 'bool',
};

describe('files written by the Python safetensors library', () => {
  it('reads every safetensors dtype (F64 narrowed, I16/I8 widened) as the golden values say', () => {
    const expected = readGolden<Expected>('torch-written.expected.json');
    const file = openSafetensors(GOLDEN_DIR + 'torch-written.safetensors');
    try {
      expect(file.metadata).toEqual(expected.metadata);
      expect(file.keys()).toEqual(Object.keys(expected.tensors).sort());
      for (const [key, want] of Object.entries(expected.tensors)) {
        const t = file.read(key);
        expect({ key, storage: file.info(key).storageDtype, dtype: t.dtype, shape: t.shape }).toEqual({
          key, storage: want.dtype, dtype: READ_AS[want.dtype], shape: want.shape,
        });
        expect(storageValues(t)).toEqual(want.values);
      }
    } finally {
      file.close();
    }
  });

  it('encodes the same tensors to the same bytes as the library', () => {
    const expected = readGolden<Expected>('torch-written-engine-dtypes.expected.json');
    const file = openSafetensors(GOLDEN_DIR + 'torch-written-engine-dtypes.safetensors');
    const tensors = Object.fromEntries(file.keys().map((k) => [k, file.read(k)]));
    file.close();
    const libraryBytes = readFileSync(GOLDEN_DIR + 'torch-written-engine-dtypes.safetensors');
    expect(encodeSafetensors(tensors, expected.metadata).equals(libraryBytes)).toBe(true);
  });
});

describe('SafetensorsError for broken files', () => {
  const f32 = (name: string, shape: unknown, offsets: unknown, dtype: unknown = 'F32') => ({ [name]: { dtype, shape, data_offsets: offsets } });
  const open = (name: string, bytes: Uint8Array) => () => openSafetensors(dir.file(name, bytes));
  const data8 = new Uint8Array(8);

  it('names the file and the problem for every corruption', () => {
    const cases: Array<[string, Uint8Array, SafetensorsErrorReason, RegExp]> = [
      ['short', new Uint8Array(5), 'truncated', /short\b.*5 bytes, shorter than the 8-byte/],
      ['beyond', rawSafetensors('{}', new Uint8Array(), 1000n), 'header-length', /header length 1000 runs past .* \(10 bytes\)/],
      ['huge-len', rawSafetensors('{}', new Uint8Array(), 2n ** 64n - 1n), 'header-length', /runs past/],
      ['json', rawSafetensors('{"a":', new Uint8Array()), 'bad-json', /not valid JSON/],
      ['utf8', rawSafetensors(Uint8Array.of(0x7b, 0xff, 0x7d), new Uint8Array()), 'bad-json', /not valid UTF-8/],
      ['array', rawSafetensors('[]', new Uint8Array()), 'bad-header', /must be a JSON object, got an array/],
      ['null', rawSafetensors('null', new Uint8Array()), 'bad-header', /got object|JSON object/],
      ['meta', rawSafetensors({ __metadata__: { a: 1 } }, new Uint8Array()), 'bad-header', /value of 'a' must be a string/],
      ['entry', rawSafetensors({ w: 3 }, new Uint8Array()), 'bad-header', /tensor 'w': entry must be an object/],
      ['overlap', rawSafetensors({ ...f32('a', [2], [0, 8]), ...f32('b', [1], [4, 8]) }, data8), 'bad-offsets', /overlap tensor 'a'/],
      ['gap', rawSafetensors({ ...f32('a', [1], [4, 8]) }, data8), 'bad-offsets', /tensor 'a'.*gap/],
      ['past', rawSafetensors(f32('a', [4], [0, 16]), data8), 'bad-offsets', /tensor 'a'.*run past the data section \(8 bytes/],
      ['tail', rawSafetensors(f32('a', [1], [0, 4]), data8), 'bad-offsets', /cover 4 of the 8 data bytes/],
      ['offsets', rawSafetensors(f32('a', [2], [8, 0]), data8), 'bad-offsets', /0 ≤ begin ≤ end/],
      ['dtype', rawSafetensors(f32('a', [8], [0, 8], 'F8_E8M0'), data8), 'unsupported-dtype', /'F8_E8M0' is not supported; valid: F64, F32/],
      ['size', rawSafetensors(f32('a', [3], [0, 8]), data8), 'bad-shape', /tensor 'a': shape \[3\] of F32 needs 12 bytes .* hold 8/],
      ['neg', rawSafetensors(f32('a', [-2], [0, 8]), data8), 'bad-shape', /non-negative integers, got \[-2\]/],
      ['frac', rawSafetensors(f32('a', [1.5], [0, 8]), data8), 'bad-shape', /non-negative integers/],
      ['hugedims', rawSafetensors(f32('a', [2 ** 40, 2 ** 40], [0, 8]), data8), 'bad-shape', /needs \d+ bytes/],
    ];
    for (const [name, bytes, reason, pattern] of cases) {
      const err = expectSafetensorsError(open(name, bytes), reason, pattern);
      expect(err.file.endsWith(name)).toBe(true);
    }
  });

  it('reports unknown tensors, reads after close and unstorable tensors', () => {
    const path = dir.file('ok', encodeSafetensors({ 'a.weight': tensor('float32', [1], new Float32Array(1)) }));
    const file = openSafetensors(path);
    expectSafetensorsError(() => file.read('b.weight'), 'unknown-tensor', /tensor 'b.weight': no such tensor.*similar keys: a.weight/);
    file.close();
    expectSafetensorsError(() => file.read('a.weight'), 'closed', /closed/);
    expectSafetensorsError(() => openSafetensors(dir.path + '/missing'), 'io', /cannot open/);
    expectSafetensorsError(
      () => encodeSafetensors({ x: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }),
      'bad-input',
      /tensor 'x': shape \[3\] needs 3 elements, data holds 2/,
    );
  });
});
