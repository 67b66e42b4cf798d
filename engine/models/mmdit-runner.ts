/**
 * The "run" layer of the MMDiT (stable-diffusion.cpp's MMDiTRunner): opens a checkpoint lazily,
 * prepares its weights once into a `.fp8cache` file (mmdit-weights.ts) and reuses it on later
 * loads, builds the graph (engine/arch/mmdit.ts) over that file as external data, creates the
 * onnxruntime session, and runs ComfyUI's denoiser wrapper for flow models (spec §2.10):
 *   t = σ·1000 (float32), v = MMDiT(x, t, context, y), denoised = x − v·σ (float32, σ per item).
 * Batches go in and out whole, so CFG evaluates cond and uncond in one run.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { defineMmdit, MMDIT_DEBUG_OUTPUTS, MMDIT_OUTPUT, type MmditAttention } from '../arch/mmdit.js';
import type { MmditConfig } from '../arch/mmdit-config.js';
import { GraphBuilder } from '../onnx/index.js';
import { createSession, type EngineSession, type SessionOptions } from '../runtime/session.js';
import type { SafetensorsFile } from '../safetensors.js';
import type { Tensor } from '../tensor.js';
import { openMmditCheckpoint, type MmditCheckpoint } from './mmdit-checkpoint.js';
import { PosEmbedCrops } from './mmdit-pos-embed.js';
import { externalParams, MMDIT_PRECISIONS, openOrWriteWeightCache, planMmditWeights, WEIGHT_CACHE_FORMAT, type MmditPrecision } from './mmdit-weights.js';

export interface MmditRunnerOptions {
  /** 'fp8' (default): FP8 block weights, ≈ 1 byte/param; 'fp32': everything float32 (ComfyUI CPU parity). */
  precision?: MmditPrecision;
  /** Folder for the weight cache; default: beside the (first) checkpoint file. */
  cacheDir?: string;
  /** Add the embedder and block-0 outputs to the graph (parity tests). */
  debugOutputs?: boolean;
  /** Tie each FP8 dequantisation to its layer (default true; false only to measure what it saves). */
  orderedDequantize?: boolean;
  /** 'fused' (default: onnxruntime's MultiHeadAttention) or 'standard' ONNX ops (arch/mmdit.ts). */
  attention?: MmditAttention;
  /** 'standard' attention: heads computed at a time (default: all); fewer bound the L×L scores' memory. */
  attentionHeadsPerChunk?: number;
  /** Passed to createSession (device, threads, arena, log). */
  session?: Omit<SessionOptions, 'externalDataFolder' | 'name'>;
}

export interface MmditInputs {
  x: Tensor<'float32'>; // [B, 16, H, W]
  timesteps: Tensor<'float32'>; // [B]
  context: Tensor<'float32'>; // [B, T, C_ctx]
  y: Tensor<'float32'>; // [B, C_adm]
}

export interface WeightCacheInfo {
  path: string;
  /** True when an existing cache file was used instead of writing one. */
  reused: boolean;
}

/** Identifies the sources: a cache made from other files (or older ones) is not reused. */
function fingerprint(paths: readonly string[], precision: MmditPrecision): string {
  const files = paths.map((p) => {
    const s = statSync(p);
    return { path: path.resolve(p), size: s.size, mtimeMs: s.mtimeMs };
  });
  return JSON.stringify({ format: WEIGHT_CACHE_FORMAT, precision, files });
}

export function weightCachePath(paths: readonly string[], precision: MmditPrecision, cacheDir?: string): string {
  const first = path.resolve(paths[0]);
  const base = path.basename(first).replace(/\.safetensors$/, '');
  if (cacheDir === undefined) return `${first.replace(/\.safetensors$/, '')}.mmdit-${precision}.fp8cache`;
  const id = createHash('sha256').update(paths.map((p) => path.resolve(p)).join('\n')).digest('hex').slice(0, 12);
  return path.join(cacheDir, `${base}-${id}.mmdit-${precision}.fp8cache`);
}

/** Opens the cache for `ckpt`, writing it first when missing or made from other sources. */
function openWeightCache(ckpt: MmditCheckpoint, precision: MmditPrecision, cachePath: string): { file: SafetensorsFile; reused: boolean } {
  return openOrWriteWeightCache(cachePath, fingerprint(ckpt.paths, precision), WEIGHT_CACHE_FORMAT, () => planMmditWeights(ckpt, precision), 'MMDiT');
}

function sigmaPerItem(sigma: number | Float32Array | Tensor, batch: number): Float32Array {
  const values = typeof sigma === 'number' ? Float32Array.of(sigma) : sigma instanceof Float32Array ? sigma : (sigma.data as Float32Array);
  if (values.length === batch) return Float32Array.from(values);
  if (values.length === 1) return new Float32Array(batch).fill(values[0]);
  throw new Error(`MMDiT denoise: sigma has ${values.length} values for a batch of ${batch}; give one, or one per item`);
}

export class MmditRunner {
  private constructor(
    readonly config: MmditConfig,
    readonly precision: MmditPrecision,
    readonly cache: WeightCacheInfo,
    private readonly session: EngineSession,
    private readonly positions: PosEmbedCrops,
  ) {}

  /** Loads `paths` (one file, or the parts of a split checkpoint). Throws naming the key of a broken checkpoint. */
  static async load(paths: string | readonly string[], opts: MmditRunnerOptions = {}): Promise<MmditRunner> {
    const precision = opts.precision ?? 'fp8';
    if (!MMDIT_PRECISIONS.includes(precision)) throw new Error(`MMDiT precision '${precision}'; valid: ${MMDIT_PRECISIONS.join(', ')}`);
    const list = typeof paths === 'string' ? [paths] : [...paths];
    const ckpt = openMmditCheckpoint(list);
    let cacheFile: SafetensorsFile | undefined;
    try {
      const cachePath = weightCachePath(list, precision, opts.cacheDir);
      const { file, reused } = openWeightCache(ckpt, precision, cachePath);
      cacheFile = file;
      const g = new GraphBuilder('mmdit');
      defineMmdit(g, ckpt.config, externalParams(g, file, path.basename(cachePath)), {
        debugOutputs: opts.debugOutputs,
        orderedDequantize: opts.orderedDequantize,
        attention: opts.attention,
        attentionHeadsPerChunk: opts.attentionHeadsPerChunk,
      });
      // The memory arena on: with each dequantisation tied to its layer the arena holds about one
      // step's activations plus a layer's float32 weights, and reusing them beats fresh pages —
      // SD3.5-Medium-shaped 512² step here: 32.0 s and 2.7 GiB RSS with it, 40.5 s (first call at a
      // size) and 4.2 GiB without (glibc kept the freed pages but fragmented).
      const session = await createSession(g.toBytes(), {
        enableCpuMemArena: true,
        ...opts.session,
        name: `mmdit(${path.basename(list[0])})`,
        externalDataFolder: path.dirname(cachePath),
      });
      const positions = new PosEmbedCrops(cachePath, ckpt.config.posEmbedMaxSize, ckpt.config.hiddenSize, ckpt.config.patchSize);
      return new MmditRunner(ckpt.config, precision, { path: cachePath, reused }, session, positions);
    } finally {
      cacheFile?.close();
      ckpt.close();
    }
  }

  /** The raw model: velocity `out` [B, C, H, W] (and debug outputs when built with them). */
  async forward(inputs: MmditInputs, outputs?: readonly string[]): Promise<Record<string, Tensor<'float32'>>> {
    if (inputs.x.shape.length !== 4) throw new Error(`MMDiT: x has shape [${inputs.x.shape.join(', ')}]; expected [batch, ${this.config.inChannels}, height, width]`);
    const p = this.config.patchSize;
    const [height, width] = inputs.x.shape.slice(2);
    const pos = this.positions.crop(Math.ceil(height / p), Math.ceil(width / p)); // odd sizes are padded to whole patches
    const feeds = { x: inputs.x, timesteps: inputs.timesteps, context: inputs.context, y: inputs.y, pos };
    return (await this.session.run(feeds, outputs ? { outputs } : {})) as Record<string, Tensor<'float32'>>;
  }

  /** ComfyUI's CONST denoiser: x [B, C, H, W], σ (one or per item), context [B, T, C_ctx], pooled [B, C_adm] → denoised. */
  async denoise(x: Tensor<'float32'>, sigma: number | Float32Array | Tensor, context: Tensor<'float32'>, pooled: Tensor<'float32'>): Promise<Tensor<'float32'>> {
    const batch = x.shape[0];
    const sigmas = sigmaPerItem(sigma, batch);
    const timesteps = Float32Array.from(sigmas, (s) => Math.fround(s * 1000)); // exact float32 product, as torch
    const { [MMDIT_OUTPUT]: v } = await this.forward({ x, timesteps: { dtype: 'float32', shape: [batch], data: timesteps }, context, y: pooled }, [MMDIT_OUTPUT]);
    const per = x.data.length / batch;
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = x.data[i] - Math.fround(v.data[i] * sigmas[Math.floor(i / per)]);
    return { dtype: 'float32', shape: [...x.shape], data: out };
  }

  get outputNames(): readonly string[] {
    return this.session.outputs.map((o) => o.name);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export { MMDIT_DEBUG_OUTPUTS, MMDIT_OUTPUT };
