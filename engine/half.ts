/**
 * float32 ⇄ float16 / bfloat16, bit-exact with PyTorch's CPU `.to(dtype)`.
 *
 * float16 (c10 `fp16_ieee_from_fp32_value` / `fp16_ieee_to_fp32_value`, and the F16C path torch
 * vectorises with): round-to-nearest-even, |x| ≥ 65520 → ±inf, NaN → 0x7E00 | sign. Decoding a
 * signalling-NaN half gives the quietened float (0x7FC00000 | sign | payload), as both paths do.
 * bfloat16: round-to-nearest-even on the top 16 bits; torch's vectorised CPU path (the one
 * `.to(torch.bfloat16)` takes for every tensor size) writes 0xFFFF for any NaN — c10's scalar
 * helper would write 0x7FC0; we follow the tensor cast. bf16 → float32 is a 16-bit shift.
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The IEEE-754 bits of `x` rounded to float32 (shared with fp8.ts). */
export function floatBits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

/** The float32 whose bits are `bits`. */
export function floatFromBits(bits: number): number {
  scratchU32[0] = bits;
  return scratchF32[0];
}

/** Exact widening (integer only); NaNs come out quiet, as the FPU leaves them. */
export function float16BitsToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0x1f) {
    if (mantissa === 0) return (sign | 0x7f800000) >>> 0;
    return (sign | 0x7fc00000 | (mantissa << 13)) >>> 0;
  }
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal half: normalise so the leading 1 lands on bit 10.
  const shift = Math.clz32(mantissa) - 21;
  return (sign | ((113 - shift) << 23) | (((mantissa << shift) & 0x3ff) << 13)) >>> 0;
}

// Below 2^-14 the half is subnormal; adding 0.5 lets the FPU do the RNE shift.
const F16_MIN_NORMAL_BITS = 113 << 23;
const F16_DENORM_MAGIC_BITS = 126 << 23;
const F16_DENORM_MAGIC = 0.5;
// 65520 = halfway between 65504 (max half) and 65536: ties to even, i.e. to infinity.
const F16_OVERFLOW_BITS = 0x477ff000;
const F32_INF_BITS = 0x7f800000;

function float16Magnitude(absBits: number, absValue: number): number {
  if (absBits > F32_INF_BITS) return 0x7e00;
  if (absBits >= F16_OVERFLOW_BITS) return 0x7c00;
  if (absBits < F16_MIN_NORMAL_BITS) {
    return (floatBits(Math.fround(absValue + F16_DENORM_MAGIC)) - F16_DENORM_MAGIC_BITS) & 0xffff;
  }
  const mantissaOdd = (absBits >>> 13) & 1;
  return ((absBits + ((15 - 127) << 23) + 0xfff + mantissaOdd) >>> 13) & 0xffff;
}

function bfloat16FromBits(bits: number): number {
  if ((bits & 0x7fffffff) > F32_INF_BITS) return 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function float32ToFloat16(x: number): number {
  const bits = floatBits(x);
  const abs = bits & 0x7fffffff;
  return ((bits >>> 16) & 0x8000) | float16Magnitude(abs, Math.abs(floatFromBits(abs)));
}

export function float32ToBfloat16(x: number): number {
  return bfloat16FromBits(floatBits(x));
}

/** 65536-entry table of float32 bit patterns, built on first use (256 KiB). */
let float16Table: Uint32Array | undefined;

export function float16ToFloat32BitsTable(): Uint32Array {
  if (!float16Table) {
    float16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) float16Table[h] = float16BitsToFloat32Bits(h);
  }
  return float16Table;
}

export function float16ToFloat32(h: number): number {
  return floatFromBits(float16BitsToFloat32Bits(h & 0xffff));
}

export function bfloat16ToFloat32(b: number): number {
  return floatFromBits(((b & 0xffff) << 16) >>> 0);
}

let float16TableF32: Float32Array | undefined;

export function decodeFloat16Into(src: Uint16Array, out: Float32Array): void {
  float16TableF32 ??= new Float32Array(float16ToFloat32BitsTable().buffer);
  const table = float16TableF32;
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = table[src[i]];
}

export function decodeBfloat16Into(src: Uint16Array, out: Float32Array): void {
  const outBits = new Int32Array(out.buffer, out.byteOffset, src.length);
  const n = src.length;
  for (let i = 0; i < n; i++) outBits[i] = src[i] << 16;
}

export function encodeFloat16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    out[i] = ((b >>> 16) & 0x8000) | float16Magnitude(b & 0x7fffffff, Math.abs(src[i]));
  }
  return out;
}

export function encodeBfloat16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = bfloat16FromBits(bits[i]);
  return out;
}
