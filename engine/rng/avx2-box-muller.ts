/**
 * PyTorch's AVX2 normal kernel (`normal_fill_16_AVX2`), emulated bit-exactly in float32.
 *
 * The kernel calls `log256_ps` / `sincos256_ps` from avx_mathfun (Cephes-style polynomials in
 * float32). GCC contracts the source's separate multiply and add intrinsics into FMAs; the exact
 * contraction measured for Debian PyTorch 1.13.1 is documented in the engine spec §5.8 and
 * reproduced here operation by operation (`fl` = Math.fround, `fma32` = fused).
 */
import { fma32, float32Bits, float32FromBits } from './float32-math.js';

const fl = Math.fround;

const MIN_NORM_POS = fl(1.17549435e-38);
const SQRT_HALF = fl(0.707106781186547524);
const LOG_POLY: readonly number[] = [
  7.0376836292e-2, -1.151461031e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(fl);
const LOG_Q1 = fl(-2.12194440e-4);
const LOG_Q2 = fl(0.693359375);
const MINUS_HALF = fl(-0.5);

/** avx_mathfun `log256_ps` for one positive float32 lane. */
export function logAvx(input: number): number {
  const clamped = Math.max(input, MIN_NORM_POS);
  const bits = float32Bits(clamped);
  let e = fl((bits >>> 23) - 127 + 1);
  const m = float32FromBits((bits & 0x807fffff) | 0x3f000000); // mantissa forced into [0.5, 1)
  let x: number;
  if (m < SQRT_HALF) {
    e = fl(e - 1);
    x = fl(fl(m - 1) + m);
  } else {
    x = fl(m - 1);
  }
  const z = fl(x * x);
  let y = LOG_POLY[0];
  for (let i = 1; i < LOG_POLY.length; i++) y = fma32(y, x, LOG_POLY[i]);
  y = fl(y * x);
  y = fma32(y, z, fl(e * LOG_Q1));
  y = fma32(z, MINUS_HALF, y);
  x = fl(x + y);
  return fma32(e, LOG_Q2, x);
}

const FOUR_OVER_PI = fl(1.27323954473516);
const MINUS_DP1 = fl(-0.78515625);
const MINUS_DP2 = fl(-2.4187564849853515625e-4);
const MINUS_DP3 = fl(-3.77489497744594108e-8);
const COS_P0 = fl(2.443315711809948e-5);
const COS_P1 = fl(-1.388731625493765e-3);
const COS_P2 = fl(4.166664568298827e-2);
const SIN_P0 = fl(-1.9515295891e-4);
const SIN_P1 = fl(8.3321608736e-3);
const SIN_P2 = fl(-1.6666654611e-1);
const HALF = fl(0.5);

/** Result slots of `sincosAvx`, reused to avoid an allocation per element. */
export interface SinCos {
  sin: number;
  cos: number;
}

/** avx_mathfun `sincos256_ps` for one non-negative float32 lane (θ = 2π·u ≥ 0 in the kernel). */
export function sincosAvx(theta: number, out: SinCos): void {
  let j = Math.trunc(fl(theta * FOUR_OVER_PI));
  j = (j + 1) & ~1;
  const y = j;
  let x = fma32(y, MINUS_DP1, theta);
  x = fma32(y, MINUS_DP2, x);
  x = fma32(y, MINUS_DP3, x);
  const z = fl(x * x);

  let c = fma32(COS_P0, z, COS_P1);
  c = fma32(c, z, COS_P2);
  c = fl(c * z);
  c = fma32(c, z, -fl(HALF * z));
  c = fl(c + 1);

  let s = fma32(SIN_P0, z, SIN_P1);
  s = fma32(s, z, SIN_P2);
  s = fl(s * z);
  s = fma32(s, x, x);

  const swap = (j & 2) !== 0;
  let sin = swap ? c : s;
  let cos = swap ? s : c;
  if ((j & 4) !== 0) sin = -sin;
  if (((j - 2) & 4) === 0) cos = -cos;
  out.sin = sin;
  out.cos = cos;
}

const TWO_PI_F32 = fl(2 * Math.PI);
const scratch: SinCos = { sin: 0, cos: 0 };

/**
 * Turns the 16 uniforms at `data[offset … offset+15]` into 16 normals in place (Box–Muller pairs
 * `j` and `j+8`). Adding 0 mirrors the kernel's `fmadd(n, std=1, mean=0)`, which turns −0 into +0.
 */
export function normalFill16Avx2(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = fl(1 - data[offset + j]);
    const u2 = data[offset + j + 8];
    const radius = fl(Math.sqrt(fl(-2 * logAvx(u1))));
    const theta = fl(TWO_PI_F32 * u2);
    sincosAvx(theta, scratch);
    data[offset + j] = fl(radius * scratch.cos) + 0;
    data[offset + j + 8] = fl(radius * scratch.sin) + 0;
  }
}
