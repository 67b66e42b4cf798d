/**
 * The "load weights" layer of the MMDiT: turns a checkpoint into the tensors the graph runs on,
 * written once to a weight-cache file (safetensors layout, `.fp8cache`), and hands them to the
 * definition as ONNX external data, so on every later load onnxruntime reads the bytes itself
 * and they never pass through JavaScript.
 *
 * Precision policy (DESIGN.md "The FP8 MMDiT engine"):
 *   'fp8'  joint-block Linears from fp16/bf16/fp32 → E4M3FN with a float32 scale per output
 *          channel (engine/quantize.ts); Linears already FP8 (plain or ComfyUI scaled-fp8, any
 *          layer) keep their values with their scalar scale_weight (1 when absent), codes moved
 *          exactly into the normal range (engine/fp8-range.ts); every other
 *          tensor (embedders, final layer, conv, qk-norm weights, all biases) float32; pos_embed stays
 *          fp16/bf16 when stored so (cast after cropping, exactly), else float32.
 *   'fp32' every tensor decoded to float32 exactly (fp8·scale_weight rounded once, as ComfyUI's
 *          float32 weight): the mode that matches ComfyUI on a CPU.
 * In the cache an FP8 Linear is `<stem>.weight` (FP8) + `<stem>.weight_scale` (F32 [] or [out]).
 */
import { closeSync, existsSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { expectedMmditShapes } from '../arch/mmdit-config.js';
import type { MmditLinear, MmditParams } from '../arch/mmdit.js';
import { toFloat32 } from '../dtypes.js';
import { normalizeFp8Range } from '../fp8-range.js';
import type { Fp8Format } from '../quantize.js';
import type { GraphBuilder } from '../onnx/index.js';
import { quantizeFp8 } from '../quantize.js';
import { openSafetensors, type SafetensorsFile } from '../safetensors.js';
import { scaledFp8EffectiveWeight } from '../scaled-fp8.js';
import { BYTES_PER_ELEMENT, isFp8DType, numel, type DType, type Tensor } from '../tensor.js';
import type { MmditCheckpoint } from './mmdit-checkpoint.js';

export type MmditPrecision = 'fp8' | 'fp32';
export const MMDIT_PRECISIONS: readonly MmditPrecision[] = ['fp8', 'fp32'];
export const WEIGHT_CACHE_FORMAT = 'comfy8-mmdit-weights/2'; // 2: FP8 codes moved to the normal range (fp8-range.ts)

interface PlannedTensor {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

/** Tensors written together (a Linear's weight, scale and bias come from one quantisation). */
export interface PlanGroup {
  entries: PlannedTensor[];
  produce(): Tensor[];
}

const STORAGE: Partial<Record<DType, string>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float8_e4m3fn: 'F8_E4M3', float8_e5m2: 'F8_E5M2' };

/** Linear stems of the definition: a 2-D `.weight` with a `.bias` beside it. */
function linearStems(shapes: ReadonlyMap<string, readonly number[]>): string[] {
  return [...shapes.keys()]
    .filter((k) => k.endsWith('.weight') && shapes.get(k)?.length === 2 && shapes.has(k.replace(/\.weight$/, '.bias')))
    .map((k) => k.slice(0, -'.weight'.length));
}

/** An FP8 weight and its scalar scale re-expressed exactly with normal-range codes (engine/fp8-range.ts). */
export function fullRangeFp8(weight: Tensor, scale: Tensor<'float32'>): [Tensor, Tensor<'float32'>] {
  const { codes, shift } = normalizeFp8Range(weight.data as Uint8Array, weight.dtype as Fp8Format);
  if (shift === 0) return [weight, scale];
  return [{ ...weight, data: codes } as Tensor, { ...scale, data: Float32Array.of(scale.data[0] * 2 ** -shift) }];
}

function scalarScale(ckpt: MmditCheckpoint, stem: string): Tensor<'float32'> {
  const key = `${stem}.scale_weight`;
  const value = ckpt.has(key) ? toFloat32(ckpt.read(key)).data[0] : 1;
  return { dtype: 'float32', shape: [], data: Float32Array.of(value) };
}

function planLinear(ckpt: MmditCheckpoint, stem: string, shape: readonly number[], precision: MmditPrecision): PlanGroup {
  const src = ckpt.dtypeOf(`${stem}.weight`);
  const bias = { name: `${stem}.bias`, dtype: 'float32' as DType, shape: [shape[0]] };
  const readBias = () => toFloat32(ckpt.read(`${stem}.bias`));
  const weight = (dtype: DType) => ({ name: `${stem}.weight`, dtype, shape });
  const scale = (s: readonly number[]) => ({ name: `${stem}.weight_scale`, dtype: 'float32' as DType, shape: s });
  if (precision === 'fp32') {
    const scaleOf = () => (ckpt.has(`${stem}.scale_weight`) ? ckpt.read(`${stem}.scale_weight`) : undefined);
    return { entries: [weight('float32'), bias], produce: () => [scaledFp8EffectiveWeight(ckpt.read(`${stem}.weight`), scaleOf()), readBias()] };
  }
  if (isFp8DType(src)) {
    return { entries: [weight(src), scale([]), bias], produce: () => [...fullRangeFp8(ckpt.read(`${stem}.weight`), scalarScale(ckpt, stem)), readBias()] };
  }
  if (stem.startsWith('joint_blocks.')) {
    const produce = () => {
      const q = quantizeFp8(ckpt.read(`${stem}.weight`), { format: 'float8_e4m3fn', granularity: 'channel', name: stem });
      return [q.weight, { ...q.scale, shape: [shape[0]] }, readBias()];
    };
    return { entries: [weight('float8_e4m3fn'), scale([shape[0]]), bias], produce };
  }
  return { entries: [weight('float32'), bias], produce: () => [toFloat32(ckpt.read(`${stem}.weight`)), readBias()] };
}

/** What the cache file holds for `ckpt` at `precision`, in write order. */
export function planMmditWeights(ckpt: MmditCheckpoint, precision: MmditPrecision): PlanGroup[] {
  const shapes = expectedMmditShapes(ckpt.config);
  const stems = linearStems(shapes);
  const inLinear = new Set(stems.flatMap((s) => [`${s}.weight`, `${s}.bias`]));
  const groups = stems.map((stem) => planLinear(ckpt, stem, shapes.get(`${stem}.weight`) as number[], precision));
  for (const [key, shape] of shapes) {
    if (inLinear.has(key)) continue;
    const src = ckpt.dtypeOf(key);
    if (key === 'pos_embed' && (src === 'float16' || src === 'bfloat16')) {
      // The largest non-Linear tensor (SD3.5 Medium: 147456 × 1536): kept as stored; the runner reads
      // only the cropped rows and widens them to float32, which is exact (mmdit-pos-embed.ts).
      groups.push({ entries: [{ name: key, dtype: src, shape }], produce: () => [ckpt.read(key)] });
      continue;
    }
    groups.push({ entries: [{ name: key, dtype: 'float32', shape }], produce: () => [scaledFp8EffectiveWeight(ckpt.read(key))] });
  }
  return groups;
}

function headerFor(groups: readonly PlanGroup[], metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const e of groups.flatMap((gr) => gr.entries)) {
    const bytes = numel(e.shape) * BYTES_PER_ELEMENT[e.dtype];
    header[e.name] = { dtype: STORAGE[e.dtype], shape: [...e.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + Math.ceil(json.length / 8) * 8, 0x20);
  out.writeBigUInt64LE(BigInt(out.length - 8), 0);
  json.copy(out, 8);
  return out;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, Math.min(1 << 30, bytes.length - done));
}

/**
 * Opens the weight cache at `cachePath` when its metadata says it was made from `source`; else
 * (missing, stale or unreadable, e.g. an interrupted write) writes it from `plan()` first.
 * `label` names the model part in errors.
 */
export function openOrWriteWeightCache(
  cachePath: string,
  source: string,
  format: string,
  plan: () => readonly PlanGroup[],
  label: string,
): { file: SafetensorsFile; reused: boolean } {
  if (existsSync(cachePath)) {
    try {
      const file = openSafetensors(cachePath);
      if (file.metadata.source === source) return { file, reused: true };
      file.close();
    } catch {
      // unreadable: rebuild it
    }
  }
  try {
    writeWeightCache(cachePath, plan(), { format, source });
  } catch (error) {
    const hint = (error as NodeJS.ErrnoException).code ? ' (pass cacheDir to write the weight cache elsewhere)' : '';
    throw new Error(`${label} weight cache '${cachePath}': ${(error as Error).message}${hint}`, { cause: error });
  }
  return { file: openSafetensors(cachePath), reused: false };
}

/** Streams the groups to `path` (one group's tensors in memory at a time), via a temporary file. */
export function writeWeightCache(path: string, groups: readonly PlanGroup[], metadata: Record<string, string>): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeAll(fd, headerFor(groups, metadata));
    for (const group of groups) {
      const tensors = group.produce();
      group.entries.forEach((e, i) => {
        const t = tensors[i];
        if (t.dtype !== e.dtype || numel(t.shape) !== numel(e.shape)) {
          throw new Error(`weight cache: '${e.name}' came out ${t.dtype} [${t.shape.join(', ')}], planned ${e.dtype} [${e.shape.join(', ')}]`);
        }
        writeAll(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    closeSync(fd);
    renameSync(temporary, path);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * MmditParams that declare every tensor of the cache file as external data at its byte range.
 * `location` is the cache file's name relative to the session's external-data folder.
 */
export function externalParams(g: GraphBuilder, cache: SafetensorsFile, location: string): MmditParams {
  const declared = new Map<string, string>();
  const value = (key: string): string => {
    const known = declared.get(key);
    if (known) return known;
    const info = cache.info(key);
    const name = g.externalInitializer(key, info.dtype, info.shape, { location, offset: info.byteOffset, length: info.byteLength });
    declared.set(key, name);
    return name;
  };
  return {
    tensor: value,
    linear(stem: string): MmditLinear {
      const fp8 = cache.has(`${stem}.weight_scale`);
      const scale = fp8 ? value(`${stem}.weight_scale`) : undefined;
      const perChannel = fp8 && cache.info(`${stem}.weight_scale`).shape.length === 1;
      return { weight: value(`${stem}.weight`), bias: value(`${stem}.bias`), scale, perChannel };
    },
  };
}
