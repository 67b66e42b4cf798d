/**
 * Exact float32 arithmetic helpers for emulating compiled C/SIMD code in JavaScript.
 *
 * `fl(a op b)` for +, −, ×, ÷ and sqrt of two float32 values is `Math.fround` of the double result:
 * double rounding is harmless for these operations because 53 ≥ 2·24 + 2. A fused multiply-add is
 * not: the exact `a·b + c` may need more than 53 bits, so `fma32` corrects the one case where the
 * double sum lands exactly on a float32 rounding midpoint.
 */
const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer); // little-endian: [low word, high word]
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** Low 29 bits of a double's mantissa that lie below float32 precision; a midpoint has exactly bit 28 set. */
const BELOW_F32_MASK = 0x1fffffff;
const F32_MIDPOINT_PATTERN = 0x10000000;

/**
 * Correctly rounded float32 fused multiply-add `fl(a·b + c)` for float32 inputs with a normal result.
 * The product is exact in double; TwoSum gives the exact rounding error of the double sum.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const rounded = Math.fround(s);
  const bVirtual = s - p;
  const error = p - (s - bVirtual) + (c - bVirtual);
  if (error === 0) return rounded;
  f64[0] = s;
  if ((f64Words[0] & BELOW_F32_MASK) !== F32_MIDPOINT_PATTERN) return rounded;
  // s sits exactly on a midpoint but the true sum does not: step one double ulp towards it.
  if (error > 0 === s > 0) f64Words[0] += 1;
  else f64Words[0] -= 1;
  return Math.fround(f64[0]);
}

export function float32Bits(x: number): number {
  f32[0] = x;
  return f32Bits[0];
}

export function float32FromBits(bits: number): number {
  f32Bits[0] = bits >>> 0;
  return f32[0];
}

/**
 * Parses a C99 hexadecimal floating literal such as `-0x1.57bf7808caadep-2` exactly into a double
 * (published math-library tables are written this way).
 */
export function parseHexDouble(literal: string): number {
  const match = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(literal);
  if (!match) throw new Error(`parseHexDouble: '${literal}' is not a hex float literal like 0x1.8p-3`);
  const [, sign, intDigits, fracDigits = '', exponent] = match;
  const mantissa = BigInt(`0x${intDigits}${fracDigits || '0'}`);
  const scale = Number(exponent) - 4 * (fracDigits.length || 1);
  const value = Number(mantissa) * 2 ** scale;
  if (BigInt(Number(mantissa)) !== mantissa) throw new Error(`parseHexDouble: '${literal}' has more than 53 bits`);
  return sign ? -value : value;
}
