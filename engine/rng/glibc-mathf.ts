/**
 * glibc's single-precision `logf`, `sinf` and `cosf` (glibc ≥ 2.28; the algorithms come from Arm's
 * optimized-routines, MIT / Apache-2.0), reimplemented in double arithmetic so PyTorch's generic
 * normal kernel — which calls the C library — can be reproduced bit-exactly. Only what the kernel
 * needs is covered: finite inputs, logf for x > 0, sinf/cosf for |x| < 120.
 *
 * Both evaluate a short polynomial in double and round once to float32, so results differ from the
 * correctly rounded value in about 1 % of inputs; that is why `Math.fround(Math.log(x))` is not enough.
 */
import { float32Bits, float32FromBits, parseHexDouble } from './float32-math.js';

const hex = parseHexDouble;

/** logf table: for each of 16 subintervals of [0x3f330000, 2·0x3f330000], 1/c and log(c). */
const LOGF_INVC: readonly number[] = [
  '0x1.661ec79f8f3bep+0', '0x1.571ed4aaf883dp+0', '0x1.49539f0f010bp+0', '0x1.3c995b0b80385p+0',
  '0x1.30d190c8864a5p+0', '0x1.25e227b0b8eap+0', '0x1.1bb4a4a1a343fp+0', '0x1.12358f08ae5bap+0',
  '0x1.0953f419900a7p+0', '0x1p+0', '0x1.e608cfd9a47acp-1', '0x1.ca4b31f026aap-1',
  '0x1.b2036576afce6p-1', '0x1.9c2d163a1aa2dp-1', '0x1.886e6037841edp-1', '0x1.767dcf5534862p-1',
].map(hex);
const LOGF_LOGC: readonly number[] = [
  '-0x1.57bf7808caadep-2', '-0x1.2bef0a7c06ddbp-2', '-0x1.01eae7f513a67p-2', '-0x1.b31d8a68224e9p-3',
  '-0x1.6574f0ac07758p-3', '-0x1.1aa2bc79c81p-3', '-0x1.a4e76ce8c0e5ep-4', '-0x1.1973c5a611cccp-4',
  '-0x1.252f438e10c1ep-5', '0x0p+0', '0x1.aa5aa5df25984p-5', '0x1.c5e53aa362eb4p-4',
  '0x1.526e57720db08p-3', '0x1.bc2860d22477p-3', '0x1.1058bc8a07ee1p-2', '0x1.4043057b6ee09p-2',
].map(hex);
const LOGF_LN2 = hex('0x1.62e42fefa39efp-1');
const LOGF_A0 = hex('-0x1.00ea348b88334p-2');
const LOGF_A1 = hex('0x1.5575b0be00b6ap-2');
const LOGF_A2 = hex('-0x1.ffffef20a4123p-2');
const LOGF_OFF = 0x3f330000;

/** glibc `logf` for a positive normal float32 (the kernel's argument is in (2⁻²⁴, 1]). */
export function glibcLogf(x: number): number {
  const ix = float32Bits(x);
  if (ix === 0x3f800000) return 0;
  if (ix < 0x00800000 || ix >= 0x7f800000) {
    throw new RangeError(`glibcLogf: only positive normal finite float32 inputs are supported, got ${x}`);
  }
  const tmp = (ix - LOGF_OFF) >>> 0;
  const i = (tmp >>> 19) % 16;
  const k = (tmp | 0) >> 23;
  const iz = (ix - (tmp & 0xff800000)) >>> 0;
  const z = float32FromBits(iz);
  const r = z * LOGF_INVC[i] - 1;
  const y0 = LOGF_LOGC[i] + k * LOGF_LN2;
  const r2 = r * r;
  let y = LOGF_A1 * r + LOGF_A2;
  y = LOGF_A0 * r2 + y;
  y = y * r2 + (y0 + r);
  return Math.fround(y);
}

interface SinCosPoly {
  readonly c0: number;
  readonly c1: number;
  readonly c2: number;
  readonly c3: number;
  readonly c4: number;
}

const COS_POLY: SinCosPoly = {
  c0: 1,
  c1: hex('-0x1.ffffffd0c621cp-2'),
  c2: hex('0x1.55553e1068f19p-5'),
  c3: hex('-0x1.6c087e89a359dp-10'),
  c4: hex('0x1.99343027bf8c3p-16'),
};
/** The second table entry computes −cos, so quadrants 2 and 3 get their sign for free. */
const NEG_COS_POLY: SinCosPoly = {
  c0: -COS_POLY.c0, c1: -COS_POLY.c1, c2: -COS_POLY.c2, c3: -COS_POLY.c3, c4: -COS_POLY.c4,
};
const SIN_S1 = hex('-0x1.555545995a603p-3');
const SIN_S2 = hex('0x1.1107605230bc4p-7');
const SIN_S3 = hex('-0x1.994eb3774cf24p-13');
const QUADRANT_SIGN = [1, -1, -1, 1];
const HALF_PI_INV_SCALED = hex('0x1.45F306DC9C883p+23'); // 2/π · 2²⁴: quadrant lands in bits 24…31
const HALF_PI = hex('0x1.921FB54442D18p0');
const ABSTOP_PIO4 = abstop12(Math.fround(hex('0x1.921FB54442D18p-1')));
const ABSTOP_TINY = abstop12(2 ** -12);
const ABSTOP_120 = abstop12(120);

function abstop12(x: number): number {
  return (float32Bits(x) >>> 20) & 0x7ff;
}

/** `sinf_poly`: sine polynomial for even quadrant `n`, cosine polynomial for odd `n`. */
function sinfPoly(x: number, x2: number, poly: SinCosPoly, n: number): number {
  if ((n & 1) === 0) {
    const x3 = x * x2;
    const s1 = SIN_S2 + x2 * SIN_S3;
    const x7 = x3 * x2;
    const s = x + x3 * SIN_S1;
    return Math.fround(s + x7 * s1);
  }
  const x4 = x2 * x2;
  const c2 = poly.c3 + x2 * poly.c4;
  const c1 = poly.c0 + x2 * poly.c1;
  const x6 = x4 * x2;
  const c = c1 + x4 * poly.c2;
  return Math.fround(c + x6 * c2);
}

/** Shared by sinf and cosf: `cosine` selects the quadrant shift of one. */
function glibcSinCosf(y: number, cosine: boolean, name: string): number {
  const top = abstop12(y);
  if (top < ABSTOP_PIO4) {
    if (top < ABSTOP_TINY) return cosine ? 1 : y;
    return sinfPoly(y, y * y, COS_POLY, cosine ? 1 : 0);
  }
  if (top >= ABSTOP_120) {
    throw new RangeError(`${name}: only |x| < 120 is supported, got ${y}`);
  }
  const r = y * HALF_PI_INV_SCALED;
  const n = ((Math.trunc(r) | 0) + 0x800000) >> 24;
  const x = y - n * HALF_PI;
  const poly = n & 2 ? NEG_COS_POLY : COS_POLY;
  return sinfPoly(x * QUADRANT_SIGN[n & 3], x * x, poly, cosine ? n ^ 1 : n);
}

export function glibcSinf(y: number): number {
  return glibcSinCosf(y, false, 'glibcSinf');
}

export function glibcCosf(y: number): number {
  return glibcSinCosf(y, true, 'glibcCosf');
}
