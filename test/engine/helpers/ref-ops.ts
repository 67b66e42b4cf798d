/**
 * Plain-TypeScript reference implementations of the ONNX ops the builder emits, written from the
 * ONNX operator docs / torch definitions, computed in float64 and rounded once to float32.
 * Used only by tests (the helper_test_op / test-backend-ops pattern of STYLE.md).
 */
export interface Arr {
  shape: number[];
  data: Float64Array;
}

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
export const arr = (shape: number[], data: ArrayLike<number>): Arr => ({ shape, data: Float64Array.from(data) });

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Seeded PRNG (mulberry32) and Box–Muller normals: reproducible test inputs. */
export function rng(seed: number): { uniform: () => number; normal: () => number } {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/** A float32-representable random array (values rounded through Math.fround). */
export function randn(r: ReturnType<typeof rng>, shape: number[], scale = 1, offset = 0): Arr {
  return arr(shape, Array.from({ length: size(shape) }, () => Math.fround(r.normal() * scale + offset)));
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** Index into `x` for output multi-index `idx` under numpy broadcasting. */
function broadcastIndex(x: Arr, idx: readonly number[]): number {
  const st = strides(x.shape);
  const off = idx.length - x.shape.length;
  let flat = 0;
  for (let i = 0; i < x.shape.length; i++) flat += (x.shape[i] === 1 ? 0 : idx[i + off]) * st[i];
  return flat;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

export function map(x: Arr, f: (v: number) => number): Arr {
  return { shape: [...x.shape], data: x.data.map(f) };
}

export function zip(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const shape = broadcastShape(a.shape, b.shape);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    data[i] = f(a.data[broadcastIndex(a, idx)], b.data[broadcastIndex(b, idx)]);
  }
  return { shape, data };
}

/** numpy.matmul for rank ≥ 2 with broadcast batch dims. */
export function matmul(a: Arr, b: Arr): Arr {
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) throw new Error(`matmul: inner dims ${k} vs ${k2}`);
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = new Float64Array(size(batch) * m * n);
  for (let bi = 0; bi < size(batch); bi++) {
    const idx = unravel(bi, batch);
    const aOff = broadcastIndex({ shape: a.shape.slice(0, -2), data: a.data }, idx) * m * k;
    const bOff = broadcastIndex({ shape: b.shape.slice(0, -2), data: b.data }, idx) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a.data[aOff + i * k + t] * b.data[bOff + t * n + j];
        out[bi * m * n + i * n + j] = s;
      }
  }
  return { shape: [...batch, m, n], data: out };
}

export function transpose(x: Arr, perm: readonly number[]): Arr {
  const shape = perm.map((p) => x.shape[p]);
  const st = strides(x.shape);
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    let src = 0;
    for (let d = 0; d < perm.length; d++) src += idx[d] * st[perm[d]];
    data[i] = x.data[src];
  }
  return { shape, data };
}

/** Generic gather by index function: out[idx] = x[source(idx)]. */
export function remap(x: Arr, shape: number[], source: (idx: number[]) => number[] | undefined, fill = 0): Arr {
  const st = strides(x.shape);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const src = source(unravel(i, shape));
    data[i] = src === undefined ? fill : x.data[src.reduce((acc, v, d) => acc + v * st[d], 0)];
  }
  return { shape, data };
}

export function concat(xs: Arr[], axis: number): Arr {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((acc, x) => acc + x.shape[axis], 0);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    let k = 0;
    while (idx[axis] >= xs[k].shape[axis]) idx[axis] -= xs[k++].shape[axis];
    data[i] = xs[k].data[idx.reduce((acc, v, d) => acc + v * strides(xs[k].shape)[d], 0)];
  }
  return { shape, data };
}

/** Reduces over `axis` (keepdims) with f(values) → value. */
export function reduceAxis(x: Arr, axis: number, f: (values: number[]) => number): Arr {
  const shape = [...x.shape];
  shape[axis] = 1;
  const st = strides(x.shape);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const base = unravel(i, shape).reduce((acc, v, d) => acc + v * st[d], 0);
    data[i] = f(Array.from({ length: x.shape[axis] }, (_, j) => x.data[base + j * st[axis]]));
  }
  return { shape, data };
}

export const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Normalises over the last axis with g(values) → per-element values. */
export function lastAxis(x: Arr, g: (values: number[]) => number[]): Arr {
  const n = x.shape[x.shape.length - 1];
  const data = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / n; r++) data.set(g(Array.from(x.data.subarray(r * n, r * n + n))), r * n);
  return { shape: [...x.shape], data };
}

export function softmaxLast(x: Arr): Arr {
  return lastAxis(x, (v) => {
    const m = Math.max(...v);
    const e = v.map((t) => Math.exp(t - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((t) => t / s);
  });
}

/** erf with |error| < 1.2e-7 (Numerical Recipes erfc Chebyshev fit), plenty against float32 kernels. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
      t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = 1 - t * Math.exp(poly);
  return x >= 0 ? r : -r;
}

export const geluErf = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** FP8 decode straight from the format definition (spec/sd3-engine.md §6.1), independent of engine/fp8.ts. */
export function fp8Decode(code: number, format: 'e4m3fn' | 'e5m2'): number {
  const sign = code & 0x80 ? -1 : 1;
  if (format === 'e4m3fn') {
    const e = (code >> 3) & 0xf;
    const m = code & 7;
    if (e === 15 && m === 7) return NaN;
    return sign * (e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7));
  }
  const e = (code >> 2) & 0x1f;
  const m = code & 3;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (e === 0 ? m * 2 ** -16 : (1 + m / 4) * 2 ** (e - 15));
}
