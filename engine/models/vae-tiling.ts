/**
 * ComfyUI's tiled processing (comfy/utils.py `tiled_scale_multidim`) for the VAE: overlapping tiles,
 * each output tile weighted by a linear feather over `overlap` (scaled) at every edge, summed and
 * divided by the summed weights. float32 arithmetic as torch's.
 *
 * Inputs and outputs are [B, C, H, W]; `scale` is the output/input size ratio (8 to decode, 1/8 to
 * encode); `tile` is [tileH, tileW] and `overlap` are in input units.
 */
import type { Tensor } from '../tensor.js';

export type TileFn = (tile: Tensor<'float32'>) => Promise<Tensor<'float32'>>;

export interface TiledScaleOptions {
  tile: { height: number; width: number };
  overlap: number;
  scale: number;
  outChannels: number;
}

/** Python's round(): half to even. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function slice(x: Tensor<'float32'>, b: number, y0: number, h: number, x0: number, w: number): Tensor<'float32'> {
  const [, c, H, W] = x.shape;
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const src = ((b * c + ch) * H + y0 + y) * W + x0;
      out.set(x.data.subarray(src, src + w), (ch * h + y) * w);
    }
  }
  return { dtype: 'float32', shape: [1, c, h, w], data: out };
}

/** Feather weights along one axis of length n (1 in the middle, (t+1)/f for the t-th sample from an edge). */
function featherAxis(n: number, feather: number): Float32Array {
  const m = new Float32Array(n).fill(1);
  if (feather >= n) return m;
  for (let t = 0; t < feather; t++) {
    const a = Math.fround((t + 1) / feather);
    m[t] = Math.fround(m[t] * a);
    m[n - 1 - t] = Math.fround(m[n - 1 - t] * a);
  }
  return m;
}

function starts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const out: number[] = [];
  for (let p = 0; p < size - overlap; p += tile - overlap) out.push(Math.max(0, Math.min(size - overlap, p)));
  return out;
}

async function tiledOne(x: Tensor<'float32'>, b: number, fn: TileFn, o: TiledScaleOptions, outH: number, outW: number): Promise<Float32Array> {
  const [, , H, W] = x.shape;
  const acc = new Float32Array(o.outChannels * outH * outW);
  const div = new Float32Array(outH * outW);
  const feather = pyRound(o.overlap * o.scale);
  for (const y0 of starts(H, o.tile.height, o.overlap)) {
    for (const x0 of starts(W, o.tile.width, o.overlap)) {
      const h = Math.min(o.tile.height, H - y0);
      const w = Math.min(o.tile.width, W - x0);
      const ps = await fn(slice(x, b, y0, h, x0, w));
      const [, pc, ph, pw] = ps.shape;
      const my = featherAxis(ph, feather);
      const mx = featherAxis(pw, feather);
      const oy = pyRound(y0 * o.scale);
      const ox = pyRound(x0 * o.scale);
      for (let yy = 0; yy < ph; yy++) {
        for (let xx = 0; xx < pw; xx++) {
          const m = Math.fround(my[yy] * mx[xx]);
          const at = (oy + yy) * outW + ox + xx;
          div[at] = Math.fround(div[at] + m);
          for (let ch = 0; ch < pc; ch++) {
            const i = ch * outH * outW + at;
            acc[i] = Math.fround(acc[i] + Math.fround(ps.data[(ch * ph + yy) * pw + xx] * m));
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) acc[i] = Math.fround(acc[i] / div[i % div.length]);
  return acc;
}

export async function tiledScale(x: Tensor<'float32'>, fn: TileFn, o: TiledScaleOptions): Promise<Tensor<'float32'>> {
  const [B, , H, W] = x.shape;
  const outH = pyRound(H * o.scale);
  const outW = pyRound(W * o.scale);
  const out = new Float32Array(B * o.outChannels * outH * outW);
  for (let b = 0; b < B; b++) {
    if (H <= o.tile.height && W <= o.tile.width) {
      out.set((await fn(slice(x, b, 0, H, 0, W))).data, b * o.outChannels * outH * outW);
      continue;
    }
    out.set(await tiledOne(x, b, fn, o, outH, outW), b * o.outChannels * outH * outW);
  }
  return { dtype: 'float32', shape: [B, o.outChannels, outH, outW], data: out };
}
