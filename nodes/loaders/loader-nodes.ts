/**
 * Model loader nodes (ComfyUI nodes.py, comfy_extras/nodes_sd3.py): CheckpointLoaderSimple,
 * CLIPLoader, DualCLIPLoader, TripleCLIPLoader, VAELoader. Files are identified by their tensors
 * (detect.ts), loaded through the server's model manager (so two loaders naming the same weights
 * share one load) and loaded at once, so a broken file fails its loader node.
 */
import path from 'node:path';
import { createModelHandle } from '../models/model-handle.js';
import { modelStoreOf } from '../models/model-manager.js';
import { mmditPart } from '../models/mmdit-part.js';
import { defineNode, type ModelPartSpec, type NodeEnvironment } from '../node-api.js';
import { acquireEncoders, createClipHandle, type ClipHandle } from '../conditioning/clip-handle.js';
import { createVaeHandle, type VaeHandle } from '../vae/vae-nodes.js';
import { assignSd3Encoders, inspectModelFile, type FoundEncoder } from './detect.js';
import { vaePart } from './model-parts.js';

function resolveModel(env: NodeEnvironment, folder: string, name: string, node: string): string {
  const file = env.folders.resolve(folder, name);
  if (!file) throw new Error(`${node}: '${name}' is not in the ${folder} folders; have: ${env.folders.listFiles(folder).join(', ') || '(none)'}`);
  return file;
}

/** Runs `fn`, prefixing any error with the node and file so the execution_error names them. */
async function naming<T>(node: string, file: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    throw new Error(`${node}: cannot load '${path.basename(file)}': ${message}`, { cause: error });
  }
}

async function loadNow<T>(env: NodeEnvironment, spec: ModelPartSpec<T>): Promise<void> {
  (await modelStoreOf(env).acquire(spec)).release();
}

async function clipFrom(encoders: readonly FoundEncoder[], env: NodeEnvironment): Promise<ClipHandle> {
  const handle = createClipHandle(assignSd3Encoders(encoders), env);
  (await acquireEncoders(handle, env)).release();
  return handle;
}

export const CheckpointLoaderSimple = defineNode<{ ckpt_name: string }>({
  name: 'CheckpointLoaderSimple',
  displayName: 'Load Checkpoint',
  description: 'Loads a diffusion model checkpoint, diffusion models are used to denoise latents.',
  category: 'loaders',
  pythonModule: 'nodes',
  inputTypes: (env) => ({
    required: { ckpt_name: [env.folders.listFiles('checkpoints'), { tooltip: 'The name of the checkpoint (model) to load.' }] },
  }),
  returnTypes: ['MODEL', 'CLIP', 'VAE'],
  outputTooltips: [
    'The model used for denoising latents.',
    'The CLIP model used for encoding text prompts.',
    'The VAE model used for encoding and decoding images to and from latent space.',
  ],
  async execute({ ckpt_name }, ctx) {
    const node = 'CheckpointLoaderSimple';
    const file = resolveModel(ctx.env, 'checkpoints', ckpt_name, node);
    return naming(node, file, async () => {
      const found = inspectModelFile(file);
      if (!found.mmdit) throw new Error("no SD3/SD3.5 diffusion model in it (no 'model.diffusion_model.joint_blocks.0.…' tensors); this server runs SD3-family MMDiT checkpoints");
      const precision = modelStoreOf(ctx.env).precision.unet;
      const part = mmditPart([file], precision);
      await loadNow(ctx.env, part);
      const clip = found.encoders.length > 0 ? await clipFrom(found.encoders, ctx.env) : null;
      let vae: VaeHandle | null = null;
      if (found.vae) {
        const spec = vaePart(found.vae);
        await loadNow(ctx.env, spec);
        vae = createVaeHandle(spec);
      }
      return [createModelHandle(part, precision), clip, vae];
    });
  },
});

export const CLIP_LOADER_TYPES = ['stable_diffusion', 'stable_cascade', 'sd3', 'stable_audio', 'mochi', 'ltxv', 'pixart', 'cosmos', 'lumina2', 'wan', 'hidream', 'chroma', 'ace', 'omnigen2', 'qwen_image', 'hunyuan_image', 'flux2', 'ovis'] as const;
export const DUAL_CLIP_LOADER_TYPES = ['sdxl', 'sd3', 'flux', 'hunyuan_video', 'hidream', 'hunyuan_image'] as const;
const DEVICE = { device: [['default', 'cpu'], { advanced: true }] } as const;

function requireSd3Type(node: string, type: string, valid: readonly string[]): void {
  if (type === 'sd3') return;
  const known = valid.includes(type) ? `ComfyUI's type '${type}' is not supported here` : `unknown type '${type}'`;
  throw new Error(`${node}: ${known}; this server runs SD3/SD3.5 text encoders only: use type 'sd3' (ComfyUI's choices: ${valid.join(', ')})`);
}

async function loadClipFiles(node: string, names: readonly string[], env: NodeEnvironment): Promise<[ClipHandle]> {
  const files = names.map((n) => resolveModel(env, 'text_encoders', n, node));
  const found: FoundEncoder[] = [];
  for (const file of files) found.push(...(await naming(node, file, () => inspectModelFile(file).encoders)));
  const label = files.map((f) => path.basename(f)).join(' + ');
  return [await naming(node, label, () => clipFrom(found, env))];
}

const clipNames = (env: NodeEnvironment) => env.folders.listFiles('text_encoders');

export const CLIPLoader = defineNode<{ clip_name: string; type: string; device?: string }>({
  name: 'CLIPLoader',
  displayName: 'Load CLIP',
  description: '[Recipes]\n\nsd3: t5 xxl / clip-g / clip-l\n\nThis server runs SD3/SD3.5 text encoders; the other types are listed for workflow compatibility and fail at execution.',
  category: 'advanced/loaders',
  pythonModule: 'nodes',
  inputTypes: (env) => ({ required: { clip_name: [clipNames(env)], type: [CLIP_LOADER_TYPES] }, optional: DEVICE }),
  returnTypes: ['CLIP'],
  async execute({ clip_name, type }, ctx) {
    requireSd3Type('CLIPLoader', type, CLIP_LOADER_TYPES);
    return loadClipFiles('CLIPLoader', [clip_name], ctx.env);
  },
});

export const DualCLIPLoader = defineNode<{ clip_name1: string; clip_name2: string; type: string; device?: string }>({
  name: 'DualCLIPLoader',
  description: '[Recipes]\n\nsd3: clip-l, clip-g / clip-l, t5 / clip-g, t5 (any slot order)',
  category: 'advanced/loaders',
  pythonModule: 'nodes',
  inputTypes: (env) => ({ required: { clip_name1: [clipNames(env)], clip_name2: [clipNames(env)], type: [DUAL_CLIP_LOADER_TYPES] }, optional: DEVICE }),
  returnTypes: ['CLIP'],
  async execute({ clip_name1, clip_name2, type }, ctx) {
    requireSd3Type('DualCLIPLoader', type, DUAL_CLIP_LOADER_TYPES);
    return loadClipFiles('DualCLIPLoader', [clip_name1, clip_name2], ctx.env);
  },
});

export const TripleCLIPLoader = defineNode<{ clip_name1: string; clip_name2: string; clip_name3: string }>({
  name: 'TripleCLIPLoader',
  description: '[Recipes]\n\nsd3: clip-l, clip-g, t5 (any slot order: each file is identified by its weights)',
  category: 'advanced/loaders',
  pythonModule: 'comfy_extras.nodes_sd3',
  inputTypes: (env) => ({ required: { clip_name1: [clipNames(env)], clip_name2: [clipNames(env)], clip_name3: [clipNames(env)] } }),
  returnTypes: ['CLIP'],
  async execute({ clip_name1, clip_name2, clip_name3 }, ctx) {
    return loadClipFiles('TripleCLIPLoader', [clip_name1, clip_name2, clip_name3], ctx.env);
  },
});

export const VAELoader = defineNode<{ vae_name: string }>({
  name: 'VAELoader',
  displayName: 'Load VAE',
  category: 'loaders',
  pythonModule: 'nodes',
  inputTypes: (env) => ({ required: { vae_name: [[...env.folders.listFiles('vae'), 'pixel_space']] } }),
  returnTypes: ['VAE'],
  async execute({ vae_name }, ctx) {
    if (vae_name === 'pixel_space') throw new Error("VAELoader: 'pixel_space' (no VAE, for pixel-space models) is not supported: SD3/SD3.5 need their 16-channel VAE");
    const file = resolveModel(ctx.env, 'vae', vae_name, 'VAELoader');
    return naming('VAELoader', file, async () => {
      const found = inspectModelFile(file);
      if (!found.vae) throw new Error("no VAE in it (looked for 'encoder.conv_in.weight' and 'decoder.conv_in.weight', also under 'first_stage_model.')");
      const spec = vaePart(found.vae);
      await loadNow(ctx.env, spec);
      return [createVaeHandle(spec)];
    });
  },
});

export const loaderNodes = [CheckpointLoaderSimple, CLIPLoader, DualCLIPLoader, TripleCLIPLoader, VAELoader];
