/**
 * The SD3 VAE with ComfyUI's pixel conventions (spec/sd3-engine.md §4.4) and tiled variants
 * (VAEEncodeTiled / VAEDecodeTiled parameters). Weights are read from a standalone VAE file or a
 * checkpoint (prefix `first_stage_model.`, probed), written once as float32 to a weight cache that
 * the graphs read as external data — the VAE is small (≈ 84 M parameters) — and each graph's
 * session is made on first use.
 *
 *   const vae = await loadVae('models/vae/sd3_vae.safetensors');
 *   const image = await vae.decode(latent);   // latent [B, 16, h, w] (VAE space) → IMAGE [B, 8h, 8w, 3] in [0, 1]
 *   const z = await vae.encode(image);        // IMAGE [B, H, W, C≥3] → mean latent [B, 16, H/8, W/8]
 *
 * Encode returns the distribution's mean; ComfyUI samples mean + exp(½·logvar)·N(0,1) from torch's
 * unseeded global generator (not reproducible; the SD3 VAE's std is tiny).
 */
import * as path from 'node:path';
import { defineVaeDecoder, defineVaeEncoder, vaeConfigFromShapes, type VaeConfig } from '../arch/vae.js';
import { GraphBuilder } from '../onnx/index.js';
import { createSession, type EngineSession, type SessionOptions } from '../runtime/session.js';
import type { SafetensorsFile } from '../safetensors.js';
import type { Tensor } from '../tensor.js';
import { componentParams, openComponent, openComponentCache, type ComponentSource } from './component-weights.js';
import { tiledScale } from './vae-tiling.js';

export const VAE_DOWNSCALE = 8;

export interface TiledOptions {
  /** In pixels, as the ComfyUI nodes (default 512). */
  tileSize?: number;
  /** In pixels (default 64). */
  overlap?: number;
}

export interface Vae {
  readonly config: VaeConfig;
  encode(image: Tensor<'float32'>): Promise<Tensor<'float32'>>;
  decode(latent: Tensor<'float32'>): Promise<Tensor<'float32'>>;
  encodeTiled(image: Tensor<'float32'>, opts?: TiledOptions): Promise<Tensor<'float32'>>;
  decodeTiled(latent: Tensor<'float32'>, opts?: TiledOptions): Promise<Tensor<'float32'>>;
  release(): Promise<void>;
}

export interface VaeOptions {
  /** Key prefix; default: probed ('' or 'first_stage_model.'). */
  prefix?: string;
  /** Folder for the weight cache (float32 weights, `.vae-fp32.fp8cache`); default beside the file. */
  cacheDir?: string;
  session?: Omit<SessionOptions, 'externalDataFolder' | 'name'>;
}

function openVaeSource(paths: string | readonly string[], prefix?: string): ComponentSource {
  const candidates = prefix !== undefined ? [prefix] : ['', 'first_stage_model.', 'vae.'];
  for (const candidate of candidates) {
    const src = openComponent(paths, candidate);
    if (src.has('decoder.conv_in.weight') && src.has('encoder.conv_in.weight')) return src;
    src.close();
  }
  const list = typeof paths === 'string' ? [paths] : paths;
  throw new Error(`${list.map((p) => path.basename(p)).join(' + ')}: no VAE (looked for 'encoder.conv_in.weight' and 'decoder.conv_in.weight' under prefixes ${candidates.map((c) => `'${c}'`).join(', ')})`);
}

/**
 * The part's graph over the VAE's weight cache (component-weights.ts, float32 for every tensor), as
 * external data: onnxruntime maps the weights itself, so neither a protobuf copy nor JavaScript
 * arrays of them are alive during a decode (they were: ≈ 0.4 GB for the real VAE, still awaiting
 * garbage collection at the decode's activation peak).
 */
function graphBytes(cache: SafetensorsFile, part: 'encoder' | 'decoder', cfg: VaeConfig): Uint8Array {
  const g = new GraphBuilder(`vae_${part}`);
  const params = componentParams(g, cache, path.basename(cache.path));
  if (part === 'encoder') defineVaeEncoder(g, cfg, params);
  else defineVaeDecoder(g, cfg, params);
  return g.toBytes();
}

/** IMAGE [B, H, W, C] → pixels [B, 3, H', W'] in [−1, 1], cropped centred to multiples of 8, alpha dropped. */
export function imageToPixels(image: Tensor<'float32'>, channels = 3): Tensor<'float32'> {
  const [B, H, W, C] = image.shape;
  if (image.shape.length !== 4 || C < channels) throw new Error(`VAE encode: IMAGE must be [B, H, W, C≥${channels}], got [${image.shape.join(', ')}]`);
  const h = Math.floor(H / VAE_DOWNSCALE) * VAE_DOWNSCALE;
  const w = Math.floor(W / VAE_DOWNSCALE) * VAE_DOWNSCALE;
  if (h === 0 || w === 0) throw new Error(`VAE encode: image ${W}×${H} is smaller than ${VAE_DOWNSCALE}×${VAE_DOWNSCALE}`);
  const oy = Math.floor((H % VAE_DOWNSCALE) / 2);
  const ox = Math.floor((W % VAE_DOWNSCALE) / 2);
  const out = new Float32Array(B * channels * h * w);
  for (let b = 0; b < B; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < channels; c++) {
          const v = image.data[((b * H + y + oy) * W + x + ox) * C + c];
          out[((b * channels + c) * h + y) * w + x] = Math.fround(Math.fround(v * 2) - 1);
        }
  return { dtype: 'float32', shape: [B, channels, h, w], data: out };
}

/** decoded [B, 3, H, W] in ≈[−1, 1] → IMAGE [B, H, W, 3], clamp((x + 1) / 2, 0, 1). */
export function pixelsToImage(x: Tensor<'float32'>): Tensor<'float32'> {
  const [B, C, H, W] = x.shape;
  const out = new Float32Array(B * H * W * C);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H * W; i++) {
        const v = Math.fround(Math.fround(x.data[(b * C + c) * H * W + i] + 1) / 2);
        out[(b * H * W + i) * C + c] = Math.min(1, Math.max(0, v));
      }
  return { dtype: 'float32', shape: [B, H, W, C], data: out };
}

/** The first `channels` channels of [B, 2·channels, h, w] (the mean of mean ‖ logvar). */
function meanOf(moments: Tensor<'float32'>, channels: number): Tensor<'float32'> {
  const [B, C2, h, w] = moments.shape;
  const out = new Float32Array(B * channels * h * w);
  for (let b = 0; b < B; b++) out.set(moments.data.subarray(b * C2 * h * w, (b * C2 + channels) * h * w), b * channels * h * w);
  return { dtype: 'float32', shape: [B, channels, h, w], data: out };
}

function averageOf(parts: Tensor<'float32'>[]): Tensor<'float32'> {
  const data = new Float32Array(parts[0].data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(Math.fround(Math.fround(parts[0].data[i] + parts[1].data[i]) + parts[2].data[i]) / 3);
  return { ...parts[0], data };
}

/** The tile sizes of ComfyUI's tiled nodes; VAEDecodeTiled lowers an overlap above tile_size / 4 to it. */
function tileParams(opts: TiledOptions, clampOverlap: boolean): { tile: number; overlap: number } {
  const tile = opts.tileSize ?? 512;
  let overlap = opts.overlap ?? 64;
  if (clampOverlap && tile < overlap * 4) overlap = Math.floor(tile / 4);
  return { tile, overlap };
}

/** One session per graph part, made on first use (an encode-only caller never builds the decoder). */
function lazySessions(list: readonly string[], opts: VaeOptions, config: VaeConfig): { get(part: 'encoder' | 'decoder'): Promise<EngineSession>; release(): Promise<void> } {
  const sessions: Partial<Record<'encoder' | 'decoder', Promise<EngineSession>>> = {};
  const make = async (part: 'encoder' | 'decoder') => {
    const src = openVaeSource(list, opts.prefix);
    const keys = [...src.shapes.keys()].filter((k) => k.startsWith('encoder.') || k.startsWith('decoder.'));
    let cache: SafetensorsFile | undefined;
    try {
      cache = openComponentCache(src, 'vae', { precision: 'fp32', keys, linears: [], quantizable: () => false }, opts.cacheDir).file;
      // 'extended', not 'all': the NCHWc convolution layout of 'all' adds reordered copies of the
      // full-resolution activations. Real-size SD3 VAE, 512² decode here: peak RSS 1.88 against
      // 2.25 GiB, 27.7 against 22.3 s — memory is what limits a decode (4× at 1024²).
      return await createSession(graphBytes(cache, part, config), {
        graphOptimizationLevel: 'extended',
        ...opts.session,
        name: `vae_${part}(${path.basename(list[0])})`,
        externalDataFolder: path.dirname(cache.path),
      });
    } finally {
      cache?.close();
      src.close();
    }
  };
  return {
    get: (part) => (sessions[part] ??= make(part)),
    async release() {
      for (const s of Object.values(sessions)) await (await s).release();
    },
  };
}

export async function loadVae(paths: string | readonly string[], opts: VaeOptions = {}): Promise<Vae> {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  const src = openVaeSource(list, opts.prefix);
  const config = vaeConfigFromShapes(src.shapes);
  src.close();
  const sessions = lazySessions(list, opts, config);
  const session = (part: 'encoder' | 'decoder') => sessions.get(part);
  const runEncoder = async (pixels: Tensor<'float32'>) => meanOf((await (await session('encoder')).run({ pixels })).moments as Tensor<'float32'>, config.latentChannels);
  const runDecoder = async (latent: Tensor<'float32'>) => (await (await session('decoder')).run({ latent })).decoded as Tensor<'float32'>;
  const checkLatent = (latent: Tensor<'float32'>) => {
    if (latent.shape.length !== 4 || latent.shape[1] !== config.latentChannels) {
      throw new Error(`VAE decode: latent must be [B, ${config.latentChannels}, h, w], got [${latent.shape.join(', ')}]`);
    }
  };
  return {
    config,
    encode: (image) => runEncoder(imageToPixels(image, config.imageChannels)),
    async decode(latent) {
      checkLatent(latent);
      return pixelsToImage(await runDecoder(latent));
    },
    async encodeTiled(image, tiledOpts = {}) {
      const { tile, overlap } = tileParams(tiledOpts, false);
      const pixels = imageToPixels(image, config.imageChannels);
      const pass = (th: number, tw: number) =>
        tiledScale(pixels, runEncoder, { tile: { height: th, width: tw }, overlap, scale: 1 / VAE_DOWNSCALE, outChannels: config.latentChannels });
      // ComfyUI encode_tiled_: (x, y), then (2x, y/2), then (x/2, 2y); tile = (height, width) = (y, x).
      return averageOf([await pass(tile, tile), await pass(Math.floor(tile / 2), tile * 2), await pass(tile * 2, Math.floor(tile / 2))]);
    },
    async decodeTiled(latent, tiledOpts = {}) {
      checkLatent(latent);
      const { tile, overlap } = tileParams(tiledOpts, true);
      const t = Math.floor(tile / VAE_DOWNSCALE);
      const o = Math.floor(overlap / VAE_DOWNSCALE);
      const pass = (th: number, tw: number) => tiledScale(latent, runDecoder, { tile: { height: th, width: tw }, overlap: o, scale: VAE_DOWNSCALE, outChannels: config.imageChannels });
      // ComfyUI decode_tiled_: (x/2, 2y) + (2x, y/2) + (x, y), averaged, then clamp((x + 1) / 2).
      return pixelsToImage(averageOf([await pass(t * 2, Math.floor(t / 2)), await pass(Math.floor(t / 2), t * 2), await pass(t, t)]));
    },
    release: () => sessions.release(),
  };
}
