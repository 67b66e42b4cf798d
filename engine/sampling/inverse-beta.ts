/**
 * The regularised incomplete beta function I_x(a, b) and its inverse (the Beta(a, b) quantile),
 * in double precision. ComfyUI's `beta` scheduler calls `scipy.stats.beta.ppf`; SciPy (Boost's
 * ibeta_inv) is accurate to a few double ulps, and so is this: the quantile is refined by Newton
 * steps inside a bisection bracket until the bracket is one ulp wide. The scheduler only uses
 * `rint(ppf · 999)`, so parity with SciPy can only break when ppf·999 lies within ~1e-12 of a
 * half-integer.
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, |error| < 1e-14 relative). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS_G + 2; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction for I_x(a, b) (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const guard = (v: number): number => (Math.abs(v) < tiny ? tiny : v);
  let c = 1;
  let d = 1 / guard(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 / guard(1 + even * d);
    c = guard(1 + even / c);
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 / guard(1 + odd * d);
    c = guard(1 + odd / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Beta(a, b) quantile: the x with I_x(a, b) = q (`scipy.stats.beta.ppf(q, a, b)`). */
export function betaQuantile(q: number, a: number, b: number): number {
  if (!(q > 0)) return 0;
  if (q >= 1) return 1;
  let lo = 0;
  let hi = 1;
  let x = 0.5;
  const logNorm = logGamma(a + b) - logGamma(a) - logGamma(b);
  for (let iter = 0; iter < 200 && hi - lo > Number.EPSILON * Math.max(x, 1e-300); iter++) {
    const f = regularizedIncompleteBeta(x, a, b) - q;
    if (f === 0) return x;
    if (f > 0) hi = x;
    else lo = x;
    const density = Math.exp(logNorm + (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x));
    const newton = x - f / density;
    x = newton > lo && newton < hi && Number.isFinite(newton) ? newton : (lo + hi) / 2;
    if (x === lo || x === hi) break;
  }
  return x;
}
