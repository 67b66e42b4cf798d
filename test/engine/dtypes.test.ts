import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  castTensor,
  decodeToFloat32,
  encodeFromFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  float32ToFp8e4m3fn,
  float32ToFp8e5m2,
  fp8e4m3fnToFloat32,
  fp8e5m2ToFloat32,
  toFloat32,
} from '../../engine/dtypes.js';
import { tensor } from '../../engine/tensor.js';
import { bitsOf, floatsFromBits, hex, readGolden } from './dtype-golden.js';

type Fp8 = 'float8_e4m3fn' | 'float8_e5m2';
type Casts = { inputs_f32_bits: number[] } & Record<'float16' | 'bfloat16' | Fp8, number[]>;
type Codes = Record<Fp8, { f32_bits: number[]; reencoded: number[] }>;
type HalfTables = Record<'float16' | 'bfloat16', { decoded_f32_sha256: string; reencoded_sha256: string }>;

const casts = readGolden<Casts>('casts.json');
const codes = readGolden<Codes>('fp8-codes.json');
const FP8: Fp8[] = ['float8_e4m3fn', 'float8_e5m2'];

/** Lists the first mismatches as readable strings so a failure says which inputs broke. */
function mismatches(inputs: number[], got: ArrayLike<number>, want: number[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 8; i++) {
    if (got[i] !== want[i]) bad.push(`${hex(inputs[i])} → ${hex(got[i])}, torch ${hex(want[i])}`);
  }
  return bad;
}

const sha256 = (a: ArrayBufferView): string =>
  createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

describe('fp8 codes against torch', () => {
  for (const dtype of FP8) {
    it(`${dtype}: all 256 codes decode to torch's float32 bits`, () => {
      const decoded = decodeToFloat32(Uint8Array.from({ length: 256 }, (_, i) => i), dtype);
      const all = Array.from({ length: 256 }, (_, i) => i);
      expect(mismatches(all, bitsOf(decoded), codes[dtype].f32_bits)).toEqual([]);
    });

    it(`${dtype}: decoded codes re-encode as torch does`, () => {
      const reencoded = encodeFromFloat32(floatsFromBits(codes[dtype].f32_bits), dtype);
      expect(mismatches(codes[dtype].f32_bits, reencoded, codes[dtype].reencoded)).toEqual([]);
    });
  }

  it('scalar helpers agree with the tables', () => {
    expect(fp8e4m3fnToFloat32(0x7e)).toBe(448);
    expect(fp8e4m3fnToFloat32(0x01)).toBe(2 ** -9);
    expect(fp8e4m3fnToFloat32(0x7f)).toBeNaN();
    expect(fp8e5m2ToFloat32(0x7b)).toBe(57344);
    expect(fp8e5m2ToFloat32(0xfc)).toBe(-Infinity);
    expect(fp8e5m2ToFloat32(0x01)).toBe(2 ** -16);
  });
});

describe('float32 → float16 / bfloat16 / fp8 against torch', () => {
  const inputs = floatsFromBits(casts.inputs_f32_bits);
  const scalar: Record<keyof Omit<Casts, 'inputs_f32_bits'>, (x: number) => number> = {
    float16: float32ToFloat16,
    bfloat16: float32ToBfloat16,
    float8_e4m3fn: float32ToFp8e4m3fn,
    float8_e5m2: float32ToFp8e5m2,
  };
  for (const dtype of ['float16', 'bfloat16', ...FP8] as const) {
    it(`${dtype}: ${inputs.length} edge and random inputs, vectorised`, () => {
      const got = encodeFromFloat32(inputs, dtype) as Uint8Array | Uint16Array;
      expect(mismatches(casts.inputs_f32_bits, got, casts[dtype])).toEqual([]);
    });

    it(`${dtype}: same through the scalar helper`, () => {
      const got = Array.from(inputs, (x) => scalar[dtype](x));
      expect(mismatches(casts.inputs_f32_bits, got, casts[dtype])).toEqual([]);
    });
  }

  it('covers the documented edge cases', () => {
    expect(float32ToFp8e4m3fn(448)).toBe(0x7e);
    expect(float32ToFp8e4m3fn(464)).toBe(0x7e); // tie → even mantissa (448)
    expect(float32ToFp8e4m3fn(464.00003)).toBe(0x7f); // NaN: torch does not saturate
    expect(float32ToFp8e4m3fn(Infinity)).toBe(0x7f);
    expect(float32ToFp8e4m3fn(-Infinity)).toBe(0xff);
    expect(float32ToFp8e4m3fn(-0)).toBe(0x80);
    expect(float32ToFp8e4m3fn(2 ** -10)).toBe(0x00); // tie between 0 and 2^-9 → 0
    expect(float32ToFp8e5m2(61439)).toBe(0x7b);
    expect(float32ToFp8e5m2(61440)).toBe(0x7c); // tie → even → inf
    expect(float32ToFp8e5m2(NaN)).toBe(0x7f);
    expect(float32ToFloat16(65520)).toBe(0x7c00);
    expect(float32ToFloat16(2 ** -25)).toBe(0x0000);
    expect(float32ToBfloat16(1 + 2 ** -8)).toBe(0x3f80);
  });
  it('checks both signs, NaN, ±inf and subnormals in the golden set', () => {
    const set = new Set(casts.inputs_f32_bits);
    for (const b of [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x00000001]) {
      expect(set.has(b)).toBe(true);
    }
    expect(casts.inputs_f32_bits.length).toBeGreaterThan(5000);
  });
});

describe('float16 / bfloat16 tables against torch', () => {
  const tables = readGolden<HalfTables>('half-tables.json');
  const allCodes = Uint16Array.from({ length: 65536 }, (_, i) => i);
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`${dtype}: all 65536 codes decode and re-encode bit-exactly (sha256)`, () => {
      const decoded = decodeToFloat32(allCodes, dtype);
      expect(sha256(decoded)).toBe(tables[dtype].decoded_f32_sha256);
      expect(sha256(encodeFromFloat32(decoded, dtype))).toBe(tables[dtype].reencoded_sha256);
    });
  }
});

describe('tensor casts', () => {
  it('toFloat32 returns float32 tensors unchanged and decodes others', () => {
    const f = tensor('float32', [2], new Float32Array([1, 2]));
    expect(toFloat32(f)).toBe(f);
    const h = tensor('float16', [1, 2], new Uint16Array([0x3c00, 0xc000]));
    expect(toFloat32(h)).toEqual({ dtype: 'float32', shape: [1, 2], data: new Float32Array([1, -2]) });
  });

  it('casts fp8 → bf16 → fp8 losslessly and f16 → e4m3fn via float like torch', () => {
    const codes8 = Uint8Array.from({ length: 256 }, (_, i) => i).filter((c) => (c & 0x7f) !== 0x7f);
    const t = tensor('float8_e4m3fn', [codes8.length], codes8);
    const back = castTensor(castTensor(t, 'bfloat16'), 'float8_e4m3fn');
    expect(back.data).toEqual(codes8);
    const h = castTensor(tensor('float32', [3], new Float32Array([470, 1.0625, -3])), 'float16');
    expect(Array.from(castTensor(h, 'float8_e4m3fn').data as Uint8Array)).toEqual([0x7f, 0x38, 0xc4]);
  });

  it('converts integers like torch: int64 rounds once, floats truncate toward zero', () => {
    const big = tensor('int64', [3], new BigInt64Array([2n ** 60n + 2n ** 36n + 1n, -(2n ** 24n) - 1n, 7n]));
    // 2^60 + 2^36 + 1 is just above a float32 tie: a double round-trip would round down to 2^60.
    expect(Array.from(castTensor(big, 'float32').data as Float32Array)).toEqual([2 ** 60 + 2 ** 37, -(2 ** 24), 7]);
    const f = tensor('float32', [5], new Float32Array([-2.7, 2.7, NaN, 300, -1]));
    expect(Array.from(castTensor(f, 'int32').data as Int32Array)).toEqual([-2, 2, 0, 300, -1]);
    expect(Array.from(castTensor(f, 'uint8').data as Uint8Array)).toEqual([254, 2, 0, 44, 255]);
    expect(Array.from(castTensor(f, 'bool').data as Uint8Array)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(castTensor(f, 'int64').data as BigInt64Array)).toEqual([-2n, 2n, 0n, 300n, -1n]);
    const i = tensor('int32', [2], new Int32Array([-1, 256]));
    expect(Array.from(castTensor(i, 'uint8').data as Uint8Array)).toEqual([255, 0]);
  });

  it('copies on a same-dtype cast', () => {
    const t = tensor('bfloat16', [1], new Uint16Array([0x3f80]));
    const c = castTensor(t, 'bfloat16');
    expect(c.data).not.toBe(t.data);
    expect(c.data).toEqual(t.data);
  });
});
