/**
 * VAE nodes (ComfyUI nodes.py): VAEDecode, VAEEncode, their tiled forms, VAEEncodeForInpaint and
 * SetLatentNoiseMask. LATENT samples here are in VAE space (the sampler's output after
 * process_out); IMAGE is float32 [B, H, W, 3] in [0, 1].
 */
import type { Vae } from '../../engine/models/vae-runner.js';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { commonUpscale } from '../image/common-upscale.js';
import type { Latent } from '../latent/latent.js';
import { modelStoreOf } from '../models/model-manager.js';
import { defineNode, type ModelPartSpec, type NodeEnvironment } from '../node-api.js';

export interface VaeHandle {
  readonly kind: 'sd3_vae';
  readonly part: ModelPartSpec<Vae>;
}

export function createVaeHandle(part: ModelPartSpec<Vae>): VaeHandle {
  return Object.freeze({ kind: 'sd3_vae' as const, part });
}

function requireVae(value: unknown): VaeHandle {
  if (value === null || value === undefined) throw new Error('ERROR: VAE is invalid: None\n\nIf the VAE is from a checkpoint loader node your checkpoint does not contain a valid VAE.');
  if (typeof value !== 'object' || (value as VaeHandle).kind !== 'sd3_vae') throw new Error("input 'vae' is not a VAE loaded by this server (CheckpointLoaderSimple, VAELoader)");
  return value as VaeHandle;
}

function requireLatent(value: unknown): Latent {
  const samples = (value as Latent | undefined)?.samples;
  if (!samples || samples.dtype !== 'float32' || samples.shape.length !== 4) throw new Error("input 'samples' is not a LATENT ({samples: float32 [B, C, h, w]})");
  return value as Latent;
}

async function withVae<T>(vae: unknown, env: NodeEnvironment, run: (v: Vae) => Promise<T>): Promise<T> {
  const lease = await modelStoreOf(env).acquire(requireVae(vae).part);
  try {
    return await run(lease.value);
  } finally {
    lease.release();
  }
}

export const VAEDecode = defineNode<{ samples: unknown; vae: unknown }>({
  name: 'VAEDecode',
  displayName: 'VAE Decode',
  description: 'Decodes latent images back into pixel space images.',
  category: 'latent',
  pythonModule: 'nodes',
  inputTypes: {
    required: {
      samples: ['LATENT', { tooltip: 'The latent to be decoded.' }],
      vae: ['VAE', { tooltip: 'The VAE model used for decoding the latent.' }],
    },
  },
  returnTypes: ['IMAGE'],
  outputTooltips: ['The decoded image.'],
  async execute({ samples, vae }, ctx) {
    const latent = requireLatent(samples);
    return [await withVae(vae, ctx.env, (v) => v.decode(latent.samples))];
  },
});

export const VAEEncode = defineNode<{ pixels: Tensor<'float32'>; vae: unknown }>({
  name: 'VAEEncode',
  displayName: 'VAE Encode',
  category: 'latent',
  pythonModule: 'nodes',
  inputTypes: { required: { pixels: ['IMAGE'], vae: ['VAE'] } },
  returnTypes: ['LATENT'],
  async execute({ pixels, vae }, ctx) {
    return [{ samples: await withVae(vae, ctx.env, (v) => v.encode(pixels)) }];
  },
});

const TEMPORAL = {
  temporal_size: ['INT', { default: 64, min: 8, max: 4096, step: 4, tooltip: 'Only used for video VAEs: Amount of frames to decode at a time.' }],
  temporal_overlap: ['INT', { default: 8, min: 4, max: 4096, step: 4, tooltip: 'Only used for video VAEs: Amount of frames to overlap.' }],
} as const;

export const VAEDecodeTiled = defineNode<{ samples: unknown; vae: unknown; tile_size: number; overlap: number }>({
  name: 'VAEDecodeTiled',
  displayName: 'VAE Decode (Tiled)',
  category: '_for_testing',
  pythonModule: 'nodes',
  inputTypes: {
    required: {
      samples: ['LATENT'],
      vae: ['VAE'],
      tile_size: ['INT', { default: 512, min: 64, max: 4096, step: 32 }],
      overlap: ['INT', { default: 64, min: 0, max: 4096, step: 32 }],
      ...TEMPORAL,
    },
  },
  returnTypes: ['IMAGE'],
  async execute({ samples, vae, tile_size, overlap }, ctx) {
    const latent = requireLatent(samples);
    return [await withVae(vae, ctx.env, (v) => v.decodeTiled(latent.samples, { tileSize: tile_size, overlap }))];
  },
});

export const VAEEncodeTiled = defineNode<{ pixels: Tensor<'float32'>; vae: unknown; tile_size: number; overlap: number }>({
  name: 'VAEEncodeTiled',
  displayName: 'VAE Encode (Tiled)',
  category: '_for_testing',
  pythonModule: 'nodes',
  inputTypes: {
    required: {
      pixels: ['IMAGE'],
      vae: ['VAE'],
      tile_size: ['INT', { default: 512, min: 64, max: 4096, step: 64 }],
      overlap: ['INT', { default: 64, min: 0, max: 4096, step: 32 }],
      ...TEMPORAL,
    },
  },
  returnTypes: ['LATENT'],
  async execute({ pixels, vae, tile_size, overlap }, ctx) {
    return [{ samples: await withVae(vae, ctx.env, (v) => v.encodeTiled(pixels, { tileSize: tile_size, overlap })) }];
  },
});

/** torch.round: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** MASK [B, H, W] or [H, W] → [B, 1, H, W]. */
function maskPlanes(mask: Tensor<'float32'>): Tensor<'float32'> {
  if (mask.shape.length < 2) throw new Error(`a MASK needs at least 2 dimensions, got [${mask.shape.join(', ')}]`);
  const h = mask.shape[mask.shape.length - 2];
  const w = mask.shape[mask.shape.length - 1];
  return tensor('float32', [mask.data.length / (h * w), 1, h, w], mask.data);
}

/** clamp(conv2d(round(mask), ones(k, k), padding = ceil((k − 1) / 2)), 0, 1): grows the mask by k. */
function growMask(m: Tensor<'float32'>, k: number): Tensor<'float32'> {
  const [B, , H, W] = m.shape;
  const pad = Math.ceil((k - 1) / 2);
  const oh = H + 2 * pad - k + 1;
  const ow = W + 2 * pad - k + 1;
  const out = new Float32Array(B * oh * ow);
  for (let b = 0; b < B; b++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) {
          const sy = y + dy - pad;
          if (sy < 0 || sy >= H) continue;
          for (let dx = 0; dx < k; dx++) {
            const sx = x + dx - pad;
            if (sx >= 0 && sx < W) sum += roundHalfEven(m.data[(b * H + sy) * W + sx]);
          }
        }
        out[(b * oh + y) * ow + x] = Math.min(1, Math.max(0, sum));
      }
  return tensor('float32', [B, 1, oh, ow], out);
}

/** [B, 1, H, W] cropped to rows y0…y0+h, cols x0…x0+w. */
function cropPlanes(t: Tensor<'float32'>, y0: number, x0: number, h: number, w: number): Tensor<'float32'> {
  const [B, C, H, W] = t.shape;
  const out = new Float32Array(B * C * h * w);
  for (let p = 0; p < B * C; p++) for (let y = 0; y < h; y++) out.set(t.data.subarray((p * H + y + y0) * W + x0, (p * H + y + y0) * W + x0 + w), (p * h + y) * w);
  return tensor('float32', [B, C, h, w], out);
}

/** IMAGE [B, H, W, C] cropped and with masked pixels set to 0.5 (ComfyUI's VAEEncodeForInpaint). */
function greyOutMasked(pixels: Tensor<'float32'>, mask: Tensor<'float32'>, y0: number, x0: number, h: number, w: number): Tensor<'float32'> {
  const [B, H, W, C] = pixels.shape;
  const out = new Float32Array(B * h * w * C);
  const mb = mask.shape[0];
  for (let b = 0; b < B; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const keep = Math.fround(1 - roundHalfEven(mask.data[((b % mb) * h + y) * w + x]));
        for (let c = 0; c < C; c++) {
          const v = pixels.data[((b * H + y + y0) * W + x + x0) * C + c];
          out[((b * h + y) * w + x) * C + c] = c < 3 ? Math.fround(Math.fround(Math.fround(v - 0.5) * keep) + 0.5) : v;
        }
      }
  return tensor('float32', [B, h, w, C], out);
}

export const VAEEncodeForInpaint = defineNode<{ pixels: Tensor<'float32'>; vae: unknown; mask: Tensor<'float32'>; grow_mask_by: number }>({
  name: 'VAEEncodeForInpaint',
  displayName: 'VAE Encode (for Inpainting)',
  category: 'latent/inpaint',
  pythonModule: 'nodes',
  inputTypes: { required: { pixels: ['IMAGE'], vae: ['VAE'], mask: ['MASK'], grow_mask_by: ['INT', { default: 6, min: 0, max: 64, step: 1 }] } },
  returnTypes: ['LATENT'],
  async execute({ pixels, vae, mask, grow_mask_by }, ctx) {
    const [, H, W] = pixels.shape;
    const h = Math.floor(H / 8) * 8;
    const w = Math.floor(W / 8) * 8;
    const y0 = Math.floor((H % 8) / 2);
    const x0 = Math.floor((W % 8) / 2);
    const resized = await commonUpscale(maskPlanes(mask), W, H, 'bilinear', 'disabled');
    const cropped = cropPlanes(resized, y0, x0, h, w);
    const grown = grow_mask_by === 0 ? cropped : growMask(cropped, grow_mask_by);
    const noiseMask = cropPlanes(grown, 0, 0, h, w);
    noiseMask.data.forEach((v, i) => (noiseMask.data[i] = roundHalfEven(v)));
    const masked = greyOutMasked(pixels, cropped, y0, x0, h, w);
    const samples = await withVae(vae, ctx.env, (v) => v.encode(masked));
    return [{ samples, noise_mask: noiseMask }];
  },
});

export const SetLatentNoiseMask = defineNode<{ samples: unknown; mask: Tensor<'float32'> }>({
  name: 'SetLatentNoiseMask',
  displayName: 'Set Latent Noise Mask',
  category: 'latent/inpaint',
  pythonModule: 'nodes',
  inputTypes: { required: { samples: ['LATENT'], mask: ['MASK'] } },
  returnTypes: ['LATENT'],
  execute({ samples, mask }) {
    return [{ ...requireLatent(samples), noise_mask: maskPlanes(mask) }];
  },
});

export const vaeNodes = [VAEDecode, VAEEncode, VAEDecodeTiled, VAEEncodeTiled, VAEEncodeForInpaint, SetLatentNoiseMask];
