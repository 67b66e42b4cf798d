/**
 * PyTorch's generic (non-vectorised) normal kernels, bit-exact:
 * - `normalFill16Scalar`: `normal_fill_16` used for float32 tensors of ≥ 16 elements when ATen runs
 *   at the DEFAULT CPU capability (non-AVX2 x86, ARM, `ATEN_CPU_CAPABILITY=default`). It calls the C
 *   library's logf/cosf/sinf (glibc here) in float32.
 * - `boxMullerDoublePair`: `at::normal_distribution<double>` used for tensors under 16 elements by
 *   every kernel; double precision, one Box–Muller pair per two draws.
 */
import { glibcCosf, glibcLogf, glibcSinf } from './glibc-mathf.js';

const fl = Math.fround;

export function normalFill16Scalar(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = fl(1 - data[offset + j]);
    const u2 = data[offset + j + 8];
    const radius = fl(Math.sqrt(fl(-2 * glibcLogf(u1))));
    const theta = fl(2 * Math.PI * u2); // `2.0f * c10::pi<double> * u2` is evaluated in double
    data[offset + j] = fl(radius * glibcCosf(theta)) + 0;
    data[offset + j + 8] = fl(radius * glibcSinf(theta)) + 0;
  }
}

/** One Box–Muller pair from two uniforms in [0, 1) as `at::normal_distribution<double>` forms it. */
export interface NormalPair {
  /** Returned now: r·cos θ. */
  readonly first: number;
  /** Cached in the generator for the next draw: r·sin θ. */
  readonly second: number;
}

export function boxMullerDoublePair(u1: number, u2: number): NormalPair {
  const radius = Math.sqrt(-2 * Math.log(1 - u2));
  const theta = 2 * Math.PI * u1;
  return { first: radius * Math.cos(theta), second: radius * Math.sin(theta) };
}
