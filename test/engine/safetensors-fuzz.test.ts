/**
 * Corrupts valid files in many ways and requires the reader to either read correctly or throw
 * SafetensorsError: never another exception, and never an allocation beyond the file's size.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsError, encodeSafetensors, openSafetensors } from '../../engine/safetensors.js';
import { numel, tensor } from '../../engine/tensor.js';
import { rawSafetensors, tempDir } from './safetensors-fixtures.js';

const dir = tempDir('comfy8-st-fuzz-', true);
// One file rewritten in place: creating thousands of files is slow on overlay file systems.
const casePath = join(dir.path, 'case.safetensors');
const caseFd = openSync(casePath, 'w');
afterAll(() => {
  closeSync(caseFd);
  dir.remove();
});

function rewriteCase(bytes: Uint8Array): string {
  ftruncateSync(caseFd, 0);
  if (bytes.length > 0) writeSync(caseFd, bytes, 0, bytes.length, 0);
  return casePath;
}

const valid = encodeSafetensors(
  {
    'a.weight': tensor('float8_e4m3fn', [4, 4], Uint8Array.from({ length: 16 }, (_, i) => i * 16)),
    'a.scale_weight': tensor('float32', [], new Float32Array([0.5])),
    'b.bias': tensor('bfloat16', [3], new Uint16Array([1, 2, 3])),
    ids: tensor('int64', [2], new BigInt64Array([1n, -1n])),
    z: tensor('float16', [0], new Uint16Array(0)),
  },
  { format: 'pt' },
);
const headerLength = Number(valid.readBigUInt64LE(0));
const header = JSON.parse(valid.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
const data = valid.subarray(8 + headerLength);

/** Opens and reads everything; returns how the attempt ended. */
function attempt(bytes: Uint8Array): 'ok' | 'rejected' {
  const path = rewriteCase(bytes);
  try {
    const file = openSafetensors(path);
    try {
      for (const key of file.keys()) {
        const info = file.info(key);
        expect(info.byteOffset + info.byteLength).toBeLessThanOrEqual(bytes.length);
        const t = file.read(key);
        expect(numel(t.shape)).toBe(t.data.length);
        expect(t.data.length).toBeLessThanOrEqual(bytes.length);
        if (t.dtype !== 'int64') file.readFloat32(key);
      }
    } finally {
      file.close();
    }
    return 'ok';
  } catch (err) {
    if (err instanceof SafetensorsError) return 'rejected';
    throw err;
  }
}

const dim = fc.oneof(fc.integer({ min: -3, max: 20 }), fc.constantFrom(2 ** 31, 2 ** 40, 2 ** 53 - 1, 2 ** 64, 1.5, -0));
const entry = fc.record({
  dtype: fc.constantFrom('F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2', 'I64', 'U8', 'BOOL', 'F64', 'I8', 'X9', 'f32'),
  shape: fc.oneof(fc.array(dim, { maxLength: 4 }), fc.constant('3'), fc.constant(null)),
  data_offsets: fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: data.length + 8 }), fc.integer({ min: 0, max: data.length + 8 })),
    fc.array(fc.oneof(fc.integer({ min: -5, max: 2 ** 40 }), fc.constant(2 ** 64)), { maxLength: 3 }),
  ),
});

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: valid.length }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    flips: fc.array(fc.tuple(fc.nat({ max: 8 + headerLength - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('length' as const), length: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({ kind: fc.constant('entries' as const), replace: fc.dictionary(fc.constantFrom('a.weight', 'b.bias', 'ids', 'z', 'new'), entry) }),
  fc.record({ kind: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 3 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'truncate':
      return valid.subarray(0, m.at);
    case 'flip': {
      const copy = Buffer.from(valid);
      for (const [at, xor] of m.flips) copy[at] ^= xor;
      return copy;
    }
    case 'length':
      return rawSafetensors(valid.subarray(8, 8 + headerLength), data, m.length);
    case 'entries':
      return rawSafetensors({ ...header, ...m.replace }, data);
    case 'json':
      return rawSafetensors(JSON.stringify(m.value) ?? 'undefined', data);
  }
}

describe('safetensors reader under corruption (fast-check, seeded)', () => {
  it('reads the uncorrupted file', () => {
    expect(attempt(valid)).toBe('ok');
  });

  it('3000 corrupted files: correct read or SafetensorsError, nothing else', () => {
    const outcomes = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(mutation, (m) => {
        outcomes[attempt(mutate(m))]++;
      }),
      { seed: 20261125, numRuns: 3000 },
    );
    // Both outcomes must occur, or the generators are not exercising the reader.
    expect(outcomes.rejected).toBeGreaterThan(1000);
    expect(outcomes.ok).toBeGreaterThan(10);
  });
});
