/**
 * ComfyUI's `bislerp` latent resize: a bilinear resize whose two-tap blend is a spherical
 * interpolation of the channel vectors (norm interpolated linearly), width pass then height pass.
 * Tap positions come from a float32 bilinear resize of the coordinates, as ComfyUI builds them.
 */
import { tensor, type Tensor } from '../../engine/tensor.js';

const f32 = Math.fround;

interface BilinearData {
  ratios: Float64Array;
  coords1: Int32Array;
  coords2: Int32Array;
}

/** Bilinear (align_corners=False) resize of a 1-D float32 signal, as torch computes it. */
function linear1d(values: Float32Array, outSize: number): Float32Array {
  const inSize = values.length;
  const scale = f32(inSize / outSize);
  const out = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const real = Math.max(0, f32(f32(scale * f32(o + 0.5)) - 0.5));
    const i0 = Math.trunc(real);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const l1 = Math.min(Math.max(f32(real - i0), 0), 1);
    const l0 = f32(1 - l1);
    out[o] = f32(f32(values[i0]! * l0) + f32(values[i1]! * l1));
  }
  return out;
}

function generateBilinearData(oldLength: number, newLength: number): BilinearData {
  const base1 = new Float32Array(oldLength).map((_, i) => i);
  const base2 = new Float32Array(oldLength).map((_, i) => (i === oldLength - 1 ? i : i + 1));
  const c1 = linear1d(base1, newLength);
  const c2 = linear1d(base2, newLength);
  const ratios = new Float64Array(newLength);
  const coords1 = new Int32Array(newLength);
  const coords2 = new Int32Array(newLength);
  for (let i = 0; i < newLength; i++) {
    ratios[i] = f32(c1[i]! - Math.floor(c1[i]!));
    coords1[i] = Math.trunc(c1[i]!);
    coords2[i] = Math.trunc(c2[i]!);
  }
  return { ratios, coords1, coords2 };
}

/** Slerp of two C-vectors `a`, `b` with ratio `r` into `out` (ComfyUI's edge cases included). */
function slerpInto(a: Float64Array, b: Float64Array, r: number, out: Float64Array): void {
  const c = a.length;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < c; i++) {
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  na = Math.sqrt(na);
  nb = Math.sqrt(nb);
  let dot = 0;
  for (let i = 0; i < c; i++) dot += (na === 0 ? 0 : a[i]! / na) * (nb === 0 ? 0 : b[i]! / nb);
  if (dot > 1 - 1e-5) {
    out.set(a);
    return;
  }
  if (dot < 1e-5 - 1) {
    for (let i = 0; i < c; i++) out[i] = a[i]! * (1 - r) + b[i]! * r;
    return;
  }
  const omega = Math.acos(dot);
  const so = Math.sin(omega);
  const wa = Math.sin((1 - r) * omega) / so;
  const wb = Math.sin(r * omega) / so;
  const norm = na * (1 - r) + nb * r;
  for (let i = 0; i < c; i++) out[i] = (wa * (na === 0 ? 0 : a[i]! / na) + wb * (nb === 0 ? 0 : b[i]! / nb)) * norm;
}

/** One pass along an axis of `[N, C, H, W]` data; `alongWidth` picks the axis. */
function slerpPass(src: Float32Array, dims: number[], newLength: number, alongWidth: boolean, checkInterrupt?: () => void): Float32Array {
  const [n, c, h, w] = dims as [number, number, number, number];
  const oldLength = alongWidth ? w : h;
  const outH = alongWidth ? h : newLength;
  const outW = alongWidth ? newLength : w;
  const { ratios, coords1, coords2 } = generateBilinearData(oldLength, newLength);
  const out = new Float32Array(n * c * outH * outW);
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  const res = new Float64Array(c);
  for (let bi = 0; bi < n; bi++) {
    checkInterrupt?.();
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const k = alongWidth ? x : y;
        for (let ch = 0; ch < c; ch++) {
          const plane = (bi * c + ch) * h * w;
          a[ch] = alongWidth ? src[plane + y * w + coords1[k]!]! : src[plane + coords1[k]! * w + x]!;
          b[ch] = alongWidth ? src[plane + y * w + coords2[k]!]! : src[plane + coords2[k]! * w + x]!;
        }
        slerpInto(a, b, ratios[k]!, res);
        for (let ch = 0; ch < c; ch++) out[((bi * c + ch) * outH + y) * outW + x] = res[ch]!;
      }
    }
  }
  return out;
}

export function bislerp(samples: Tensor<'float32'>, width: number, height: number, checkInterrupt?: () => void): Tensor<'float32'> {
  const [n, c, h, w] = samples.shape as [number, number, number, number];
  const wide = slerpPass(samples.data, [n, c, h, w], width, true, checkInterrupt);
  const out = slerpPass(wide, [n, c, h, width], height, false, checkInterrupt);
  return tensor('float32', [n, c, height, width], out);
}
