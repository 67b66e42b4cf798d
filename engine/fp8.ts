/**
 * float32 ⇄ FP8 (e4m3fn, e5m2), bit-exact with PyTorch's CPU `.to(dtype)`.
 *
 * Mirrors c10 `Float8_e4m3fn.h` / `Float8_e5m2.h` (`fp8e4m3fn_from_fp32_value`,
 * `fp8e5m2_from_fp32_value`, `*_to_fp32_value`); checked against torch in test/engine/dtypes.test.ts.
 * Encoding is round-to-nearest-even and NOT saturating:
 *   e4m3fn: |x| > 464 (incl. ±inf) and NaN → NaN code 0x7F | sign (464 itself rounds to 448).
 *   e5m2:   |x| ≥ 61440 and ±inf → ±inf (0x7C | sign); NaN → 0x7F | sign.
 * Saturation, where wanted (quantisation, ONNX Cast), is the caller's clamp to ±max before encoding.
 */
import { float16BitsToFloat32Bits, floatBits, floatFromBits } from './half.js';

export const FP8_E4M3FN_MAX = 448;
export const FP8_E5M2_MAX = 57344;

// 480.0f: the first magnitude e4m3fn cannot hold (c10 `fp8_max`).
const E4M3_NAN_THRESHOLD_BITS = 1087 << 20;
// Below 2^-6 the result is subnormal; adding 2^14 lets the FPU do the RNE shift (c10 `denorm_mask`).
const E4M3_MIN_NORMAL_BITS = 121 << 23;
const E4M3_DENORM_MAGIC_BITS = 141 << 23;
const E4M3_DENORM_MAGIC = 16384;

/**
 * e4m3fn code of a float32 given by its value `abs` (≥ 0) and bits. Math.fround(a + b) equals the
 * float32 sum because double (53 bits) ≥ 2·24 + 2 makes the double rounding innocuous.
 */
function e4m3fnMagnitude(absBits: number, absValue: number): number {
  if (absBits >= E4M3_NAN_THRESHOLD_BITS) return 0x7f;
  if (absBits < E4M3_MIN_NORMAL_BITS) {
    return (floatBits(Math.fround(absValue + E4M3_DENORM_MAGIC)) - E4M3_DENORM_MAGIC_BITS) & 0xff;
  }
  const mantissaOdd = (absBits >>> 20) & 1;
  return ((absBits + ((7 - 127) << 23) + 0x7ffff + mantissaOdd) >>> 20) & 0xff;
}

// 65536.0f (c10 `fp8_max` for e5m2), float32 +inf, smallest e5m2 normal 2^-14, denorm magic 2^7.
const E5M2_OVERFLOW_BITS = 143 << 23;
const F32_INF_BITS = 0x7f800000;
const E5M2_MIN_NORMAL_BITS = 113 << 23;
const E5M2_DENORM_MAGIC_BITS = 134 << 23;
const E5M2_DENORM_MAGIC = 128;

function e5m2Magnitude(absBits: number, absValue: number): number {
  if (absBits >= E5M2_OVERFLOW_BITS) return absBits > F32_INF_BITS ? 0x7f : 0x7c;
  if (absBits < E5M2_MIN_NORMAL_BITS) {
    return (floatBits(Math.fround(absValue + E5M2_DENORM_MAGIC)) - E5M2_DENORM_MAGIC_BITS) & 0xff;
  }
  const mantissaOdd = (absBits >>> 21) & 1;
  return ((absBits + ((15 - 127) << 23) + 0xfffff + mantissaOdd) >>> 21) & 0xff;
}

/** `x` is first rounded to float32 (as a torch float32 tensor would hold it). */
export function float32ToFp8e4m3fn(x: number): number {
  const bits = floatBits(x);
  const abs = bits & 0x7fffffff;
  return ((bits >>> 24) & 0x80) | e4m3fnMagnitude(abs, Math.abs(floatFromBits(abs)));
}

export function float32ToFp8e5m2(x: number): number {
  const bits = floatBits(x);
  const abs = bits & 0x7fffffff;
  return ((bits >>> 24) & 0x80) | e5m2Magnitude(abs, Math.abs(floatFromBits(abs)));
}

/** Port of c10 `fp8e4m3fn_to_fp32_value` (integer only; NaN codes give 0x7FF00000 | sign). */
function e4m3fnCodeToFloat32Bits(code: number): number {
  const w = (code << 24) >>> 0;
  const sign = w & 0x80000000;
  const nonsign = w & 0x7fffffff;
  const leadingZeros = Math.clz32(nonsign);
  const renormShift = leadingZeros > 4 ? leadingZeros - 4 : 0;
  const infNanMask = ((nonsign + 0x01000000) >> 8) & 0x7f800000;
  const zeroMask = (nonsign - 1) >> 31;
  const normalised = ((nonsign << renormShift) >>> 4) + ((0x78 - renormShift) << 23);
  return (sign | ((normalised | infNanMask) & ~zeroMask)) >>> 0;
}

/** e5m2 is the top byte of an IEEE half (c10 `fp8e5m2_to_fp32_value`). */
function e5m2CodeToFloat32Bits(code: number): number {
  return float16BitsToFloat32Bits(code << 8);
}

function buildTable(decode: (code: number) => number): Uint32Array {
  const table = new Uint32Array(256);
  for (let code = 0; code < 256; code++) table[code] = decode(code);
  return table;
}

/** float32 bit patterns of all 256 codes; decoding is one table load per element. */
export const FP8_E4M3FN_TO_F32_BITS: Uint32Array = buildTable(e4m3fnCodeToFloat32Bits);
export const FP8_E5M2_TO_F32_BITS: Uint32Array = buildTable(e5m2CodeToFloat32Bits);

export function fp8e4m3fnToFloat32(code: number): number {
  return floatFromBits(FP8_E4M3FN_TO_F32_BITS[code & 0xff]);
}

export function fp8e5m2ToFloat32(code: number): number {
  return floatFromBits(FP8_E5M2_TO_F32_BITS[code & 0xff]);
}

/** Same tables as float32 values. Copying float32 → float32 keeps NaN bits (checked by the golden test). */
const E4M3FN_TABLE_F32 = new Float32Array(FP8_E4M3FN_TO_F32_BITS.buffer);
const E5M2_TABLE_F32 = new Float32Array(FP8_E5M2_TO_F32_BITS.buffer);

/** One table load per element; `out` must hold at least `codes.length` values. */
export function decodeFp8Into(codes: Uint8Array, format: 'float8_e4m3fn' | 'float8_e5m2', out: Float32Array): void {
  const table = format === 'float8_e4m3fn' ? E4M3FN_TABLE_F32 : E5M2_TABLE_F32;
  const n = codes.length;
  for (let i = 0; i < n; i++) out[i] = table[codes[i]];
}

function encodeFp8(
  src: Float32Array,
  magnitude: (absBits: number, absValue: number) => number,
): Uint8Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint8Array(src.length);
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    out[i] = ((b >>> 24) & 0x80) | magnitude(b & 0x7fffffff, Math.abs(src[i]));
  }
  return out;
}

export function encodeFp8e4m3fn(src: Float32Array): Uint8Array {
  return encodeFp8(src, e4m3fnMagnitude);
}

export function encodeFp8e5m2(src: Float32Array): Uint8Array {
  return encodeFp8(src, e5m2Magnitude);
}
