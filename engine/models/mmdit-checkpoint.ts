/**
 * An MMDiT inside one or more safetensors files (a single-file checkpoint, a standalone diffusion
 * model, or a split set), seen under original key names without prefix. Headers only are read at
 * open; each tensor is read on demand. diffusers files are assembled through
 * engine/names/mmdit-diffusers.ts recipes (q/k/v stacked, scale/shift halves swapped).
 */
import { checkMmditShapes, configFromOriginalShapes, mmditOriginalShapes, type MmditConfig } from '../arch/mmdit-config.js';
import type { DiffusersRecipe } from '../names/mmdit-diffusers.js';
import { openSafetensors, type SafetensorsFile } from '../safetensors.js';
import { SCALED_FP8_MARKER } from '../scaled-fp8.js';
import { BYTES_PER_ELEMENT, numel, type DType, type Tensor } from '../tensor.js';
import { castTensor } from '../dtypes.js';

export interface MmditCheckpoint {
  readonly paths: readonly string[];
  readonly config: MmditConfig;
  /** Original keys (no prefix) → shape; scaled-FP8 `scale_weight`/`scale_input` included. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** Whether a `scaled_fp8` marker sits under the MMDiT prefix. */
  readonly scaledFp8: boolean;
  has(key: string): boolean;
  /** The stored dtype of an original tensor (for assembled diffusers tensors: their sources'). */
  dtypeOf(key: string): DType;
  read(key: string): Tensor;
  close(): void;
}

function openAll(paths: readonly string[]): Map<string, SafetensorsFile> {
  const owner = new Map<string, SafetensorsFile>();
  const opened: SafetensorsFile[] = [];
  try {
    for (const path of paths) {
      const file = openSafetensors(path);
      opened.push(file);
      for (const key of file.keys()) {
        const previous = owner.get(key);
        if (previous) throw new Error(`split checkpoint: tensor '${key}' is in both '${previous.path}' and '${path}'`);
        owner.set(key, file);
      }
    }
  } catch (error) {
    opened.forEach((f) => f.close());
    throw error;
  }
  return owner;
}

/** Stacks tensors of one dtype along dim 0, or swaps the two halves of dim 0 of one tensor. */
function combine(recipe: DiffusersRecipe, parts: Tensor[]): Tensor {
  const dtype = parts[0].dtype;
  const mixed = parts.find((p) => p.dtype !== dtype);
  const same = mixed ? parts.map((p) => castTensor(p, 'float32')) : parts;
  const bytes = BYTES_PER_ELEMENT[same[0].dtype];
  const views = same.map((p) => new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  const out = new Uint8Array(views.reduce((n, v) => n + v.length, 0));
  if (recipe.combine === 'swapHalves') {
    const half = out.length / 2;
    out.set(views[0].subarray(half), 0);
    out.set(views[0].subarray(0, half), half);
  } else {
    let at = 0;
    for (const v of views) (out.set(v, at), (at += v.length));
  }
  const shape = recipe.combine === 'concatRows' ? [same.reduce((n, p) => n + p.shape[0], 0), ...same[0].shape.slice(1)] : [...same[0].shape];
  const data = new (same[0].data.constructor as new (b: ArrayBuffer, o: number, n: number) => Tensor['data'])(out.buffer, 0, out.length / bytes);
  return { dtype: same[0].dtype, shape, data } as Tensor;
}

/** Opens the files, finds the MMDiT, derives and checks its configuration (errors name the key). */
export function openMmditCheckpoint(paths: string | readonly string[]): MmditCheckpoint {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  const owner = openAll(list);
  const close = () => new Set(owner.values()).forEach((f) => f.close());
  try {
    const allShapes = new Map([...owner].map(([key, file]) => [key, file.info(key).shape as readonly number[]]));
    const { location, shapes, recipes } = mmditOriginalShapes(allShapes);
    const config = configFromOriginalShapes(shapes, location);
    checkMmditShapes(config, shapes);
    const fileKey = (key: string) => `${location.prefix}${key}`;
    const fileOf = (k: string) => owner.get(k) as SafetensorsFile;
    const sourcesOf = (key: string): string[] => {
      const recipe = recipes?.get(key);
      if (recipe) return recipe.sources;
      if (!shapes.has(key)) throw new Error(`MMDiT checkpoint: no tensor '${key}' (prefix '${location.prefix}')`);
      return [fileKey(key)];
    };
    return {
      paths: list,
      config,
      shapes,
      scaledFp8: owner.has(`${location.prefix}${SCALED_FP8_MARKER}`),
      has: (key) => shapes.has(key),
      dtypeOf: (key) => fileOf(sourcesOf(key)[0]).info(sourcesOf(key)[0]).dtype,
      read(key) {
        const recipe = recipes?.get(key);
        if (!recipe) return fileOf(sourcesOf(key)[0]).read(sourcesOf(key)[0]);
        const t = combine(recipe, recipe.sources.map((s) => fileOf(s).read(s)));
        if (numel(t.shape) !== t.data.length) throw new Error(`diffusers MMDiT: assembling '${key}' gave inconsistent data`);
        return t;
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}
