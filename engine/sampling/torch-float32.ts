/**
 * Scalar float32 arithmetic the way PyTorch's CPU kernels do it, for sigma bookkeeping.
 *
 * ComfyUI keeps sigmas as float32 tensors, so every scalar step of a schedule or sampler
 * coefficient is rounded to float32 (`fl`). Transcendentals are taken in double and rounded once;
 * glibc's float versions agree with that to within one ulp, which is far below what the samplers
 * can notice. `linspace32` reproduces `torch.linspace` on float32 including its vectorised chunks.
 */
import { fma32 } from '../rng/float32-math.js';

export const fl = Math.fround;

/** `torch.linspace(start, end, steps)` (float32, CPU kernel of PyTorch 1.13 built with AVX2 + FMA). */
export function linspace32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = fl(start);
    return out;
  }
  const s = fl(start);
  const e = fl(end);
  const step = fl(fl(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  // Element `idx` as the scalar kernel writes it (`start + step*idx` / `end - step*(steps-idx-1)`, FMA-contracted).
  const scalarAt = (idx: number): number =>
    idx < halfway ? fma32(step, idx, s) : fma32(-step, steps - idx - 1, e);
  let idx = 0;
  // cpu_serial_kernel_vec: pairs of 8-lane vectors while 16 elements remain, then the scalar loop.
  while (idx + 16 <= steps) {
    for (let half = 0; half < 2; half++) {
      const base = scalarAt(idx);
      for (let lane = 0; lane < 8; lane++) out[idx + lane] = lane === 0 ? base : fma32(fl(lane * step), 1, base);
      idx += 8;
    }
  }
  for (; idx < steps; idx++) out[idx] = scalarAt(idx);
  return out;
}
