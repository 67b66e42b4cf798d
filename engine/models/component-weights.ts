/**
 * Weights of one model component (CLIP-L, CLIP-G, T5) found under a key prefix in one or more
 * safetensors files, turned into a weight-cache file that the ONNX graph reads as external data —
 * the MMDiT's approach (mmdit-weights.ts, whose cache writer this reuses), so multi-GB encoders
 * never pass through a protobuf and are prepared once.
 *
 * Precision (as the MMDiT):
 *   'fp8'  Linears chosen by `quantizable` (the transformer layers) from fp16/bf16/fp32 → E4M3FN with a
 *          float32 scale per output channel; Linears already FP8 (plain or scaled-fp8) keep their
 *          values with their scalar scale_weight (1 when absent), codes moved exactly into the
 *          normal range (engine/fp8-range.ts); everything else float32.
 *   'fp32' float32 compute on the file's values: Linear weights stored fp16/bf16 stay so in the cache
 *          and are widened (exactly) next to their Gemm — the same numbers at half the memory of a
 *          float32 store (CLIP-G: 1.4 instead of 2.8 GB); every other tensor decoded to float32
 *          (fp8 · scale_weight rounded once, as ComfyUI's weight).
 * An FP8 embedding table stays FP8 in both modes and is looked up by code (see the graph side).
 * In the cache an FP8 Linear is `<stem>.weight` (FP8) + `<stem>.weight_scale` (F32 [] or [out]).
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { toFloat32 } from '../dtypes.js';
import type { GraphBuilder, Value } from '../onnx/index.js';
import { quantizeFp8 } from '../quantize.js';
import { openSafetensors, type SafetensorsFile } from '../safetensors.js';
import { scaledFp8EffectiveWeight } from '../scaled-fp8.js';
import { isFp8DType, type DType, type Tensor } from '../tensor.js';
import { fullRangeFp8, openOrWriteWeightCache, type PlanGroup } from './mmdit-weights.js';

export type EncoderPrecision = 'fp8' | 'fp32';
export const ENCODER_PRECISIONS: readonly EncoderPrecision[] = ['fp8', 'fp32'];
const CACHE_FORMAT = 'comfy8-component-weights/2'; // 2: 16-bit Linear weights kept as stored in 'fp32'; FP8 codes in the normal range

/** A component's tensors under `prefix`, seen without it. */
export interface ComponentSource {
  readonly paths: readonly string[];
  readonly prefix: string;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  has(key: string): boolean;
  dtypeOf(key: string): DType;
  read(key: string): Tensor;
  close(): void;
}

export function openComponent(paths: string | readonly string[], prefix: string): ComponentSource {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  const owner = new Map<string, { file: SafetensorsFile; key: string }>();
  const files: SafetensorsFile[] = [];
  try {
    for (const p of list) {
      const file = openSafetensors(p);
      files.push(file);
      for (const key of file.keys()) if (key.startsWith(prefix)) owner.set(key.slice(prefix.length), { file, key });
    }
  } catch (error) {
    files.forEach((f) => f.close());
    throw error;
  }
  const entry = (key: string) => {
    const found = owner.get(key);
    if (!found) throw new Error(`${list.map((p) => path.basename(p)).join(' + ')}: no tensor '${prefix}${key}'`);
    return found;
  };
  return {
    paths: list,
    prefix,
    shapes: new Map([...owner].map(([key, e]) => [key, e.file.info(e.key).shape])),
    has: (key) => owner.has(key),
    dtypeOf: (key) => entry(key).file.info(entry(key).key).dtype,
    read: (key) => entry(key).file.read(entry(key).key),
    close: () => files.forEach((f) => f.close()),
  };
}

export interface ComponentPlanOptions {
  precision: EncoderPrecision;
  /** Keys the graph uses (others, e.g. position_ids or an unused text_projection, are left out). */
  keys: readonly string[];
  /** Linear stems (`…q_proj`): the ones the graph runs as FP8 in 'fp8' precision. */
  quantizable: (stem: string) => boolean;
  /** Linear stems the graph uses (weight [out, in], bias optional). */
  linears: readonly string[];
}

const f32Entry = (name: string, shape: readonly number[]) => ({ name, dtype: 'float32' as DType, shape });

function planLinear(src: ComponentSource, stem: string, opts: ComponentPlanOptions): PlanGroup {
  const shape = src.shapes.get(`${stem}.weight`) as number[];
  const hasBias = src.has(`${stem}.bias`);
  const bias = hasBias ? [f32Entry(`${stem}.bias`, [shape[0]])] : [];
  const readBias = (): Tensor[] => (hasBias ? [toFloat32(src.read(`${stem}.bias`))] : []);
  const scaleKey = `${stem}.scale_weight`;
  const dtype = src.dtypeOf(`${stem}.weight`);
  if (opts.precision === 'fp32' && (dtype === 'float16' || dtype === 'bfloat16')) {
    return { entries: [{ name: `${stem}.weight`, dtype, shape }, ...bias], produce: () => [src.read(`${stem}.weight`), ...readBias()] };
  }
  if (opts.precision === 'fp32') {
    const produce = () => [scaledFp8EffectiveWeight(src.read(`${stem}.weight`), src.has(scaleKey) ? src.read(scaleKey) : undefined), ...readBias()];
    return { entries: [f32Entry(`${stem}.weight`, shape), ...bias], produce };
  }
  if (isFp8DType(dtype)) {
    const scale = (): Tensor<'float32'> => ({ dtype: 'float32', shape: [], data: Float32Array.of(src.has(scaleKey) ? toFloat32(src.read(scaleKey)).data[0] : 1) });
    return {
      entries: [{ name: `${stem}.weight`, dtype, shape }, f32Entry(`${stem}.weight_scale`, []), ...bias],
      produce: () => [...fullRangeFp8(src.read(`${stem}.weight`), scale()), ...readBias()],
    };
  }
  if (opts.quantizable(stem)) {
    const produce = () => {
      const q = quantizeFp8(src.read(`${stem}.weight`), { format: 'float8_e4m3fn', granularity: 'channel', name: stem });
      return [q.weight, { ...q.scale, shape: [shape[0]] }, ...readBias()];
    };
    return { entries: [{ name: `${stem}.weight`, dtype: 'float8_e4m3fn', shape }, f32Entry(`${stem}.weight_scale`, [shape[0]]), ...bias], produce };
  }
  return { entries: [f32Entry(`${stem}.weight`, shape), ...bias], produce: () => [toFloat32(src.read(`${stem}.weight`)), ...readBias()] };
}

export function planComponentWeights(src: ComponentSource, opts: ComponentPlanOptions): PlanGroup[] {
  const inLinear = new Set(opts.linears.flatMap((s) => [`${s}.weight`, `${s}.bias`]));
  const groups = opts.linears.map((stem) => planLinear(src, stem, opts));
  for (const key of opts.keys) {
    if (inLinear.has(key)) continue;
    const shape = src.shapes.get(key) as number[];
    const dtype = src.dtypeOf(key);
    if (isFp8DType(dtype) && !src.has(key.replace(/\.weight$/, '.scale_weight'))) {
      groups.push({ entries: [{ name: key, dtype, shape }], produce: () => [src.read(key)] }); // looked up by code
      continue;
    }
    const scaleKey = key.replace(/\.weight$/, '.scale_weight');
    const scale = () => (scaleKey !== key && src.has(scaleKey) ? src.read(scaleKey) : undefined);
    groups.push({ entries: [f32Entry(key, shape)], produce: () => [scaledFp8EffectiveWeight(src.read(key), scale())] });
  }
  return groups;
}

function fingerprint(src: ComponentSource, tag: string, precision: EncoderPrecision): string {
  const files = src.paths.map((p) => ({ path: path.resolve(p), size: statSync(p).size, mtimeMs: statSync(p).mtimeMs }));
  return JSON.stringify({ format: CACHE_FORMAT, tag, prefix: src.prefix, precision, files });
}

export function componentCachePath(src: ComponentSource, tag: string, precision: EncoderPrecision, cacheDir?: string): string {
  const first = path.resolve(src.paths[0]);
  const base = path.basename(first).replace(/\.safetensors$/, '');
  if (cacheDir === undefined) return `${first.replace(/\.safetensors$/, '')}.${tag}-${precision}.fp8cache`;
  const id = createHash('sha256').update(`${src.paths.map((p) => path.resolve(p)).join('\n')}\n${src.prefix}`).digest('hex').slice(0, 12);
  return path.join(cacheDir, `${base}-${id}.${tag}-${precision}.fp8cache`);
}

/** Opens the cache for `src`, writing it first when missing or made from other sources. */
export function openComponentCache(src: ComponentSource, tag: string, opts: ComponentPlanOptions, cacheDir?: string): { file: SafetensorsFile; reused: boolean } {
  const cachePath = componentCachePath(src, tag, opts.precision, cacheDir);
  return openOrWriteWeightCache(cachePath, fingerprint(src, tag, opts.precision), CACHE_FORMAT, () => planComponentWeights(src, opts), tag);
}

/** One Linear's graph values (as MmditLinear). */
export interface ComponentLinear {
  weight: Value;
  bias?: Value;
  scale?: Value;
  perChannel?: boolean;
  /** Stored fp16/bf16: widen to float32 in the graph. */
  widen?: boolean;
}

export interface ComponentParams {
  tensor(key: string): Value;
  linear(stem: string): ComponentLinear;
  /** An embedding table: float32, or FP8 codes (declared uint8) to look up through a decode table. */
  embedding(key: string): { table: Value; fp8?: 'float8_e4m3fn' | 'float8_e5m2' };
}

/** Params declaring every cache tensor as external data; `location` is the cache's file name. */
export function componentParams(g: GraphBuilder, cache: SafetensorsFile, location: string): ComponentParams {
  const declared = new Map<string, string>();
  const value = (key: string, as?: DType): string => {
    const known = declared.get(key);
    if (known) return known;
    const info = cache.info(key);
    const name = g.externalInitializer(key, as ?? info.dtype, info.shape, { location, offset: info.byteOffset, length: info.byteLength });
    declared.set(key, name);
    return name;
  };
  return {
    tensor: (key) => value(key),
    linear(stem) {
      const fp8 = cache.has(`${stem}.weight_scale`);
      const stored = cache.info(`${stem}.weight`).dtype;
      return {
        weight: value(`${stem}.weight`),
        widen: stored === 'float16' || stored === 'bfloat16',
        bias: cache.has(`${stem}.bias`) ? value(`${stem}.bias`) : undefined,
        scale: fp8 ? value(`${stem}.weight_scale`) : undefined,
        perChannel: fp8 && cache.info(`${stem}.weight_scale`).shape.length === 1,
      };
    },
    embedding(key) {
      const dtype = cache.info(key).dtype;
      if (isFp8DType(dtype)) return { table: value(key, 'uint8'), fp8: dtype };
      return { table: value(key) };
    },
  };
}

