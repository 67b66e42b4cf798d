/**
 * The MMDiT configuration read from a checkpoint's key → shape map (spec/sd3-engine.md §1.3–1.6),
 * so SD3 Medium, SD3.5 Medium (MMDiT-X), SD3.5 Large and tiny test models load through one path.
 *
 * Rules (ComfyUI `comfy/model_detection.py`, as the spec states them):
 *   MMDiT iff `{prefix}joint_blocks.0.context_block.attn.qkv.weight` exists (or, for a diffusers
 *   file, `transformer_blocks.0.attn.to_q.weight`, converted by engine/names/mmdit-diffusers.ts);
 *   D = x_embedder.proj.weight.shape[0], heads = D / 64 (head dim 64), patch = shape[2],
 *   in = shape[1]; out = final_layer.linear.weight.shape[0] / patch²; adm = y_embedder.mlp.0 in;
 *   context = context_embedder in; pos_embed_max = round(sqrt(pos_embed.shape[1]));
 *   qk_norm iff `joint_blocks.0.context_block.attn.ln_q.weight`; dual attention in every block i
 *   with `joint_blocks.i.x_block.attn2.qkv.weight`; the last block's context half is pre-only.
 * The number of joint blocks is counted (ComfyUI's `num_blocks`); in the published models it equals
 * D / 64 ("depth"), and the tiny test models follow it too. Every expected tensor is then
 * checked for presence and shape, and unknown keys are refused, each error naming the key.
 */
import { diffusersPrefix, diffusersRecipes, recipeShape, type DiffusersRecipe } from '../names/mmdit-diffusers.js';

export type ShapeMap = ReadonlyMap<string, readonly number[]> | Readonly<Record<string, readonly number[]>>;

export interface MmditConfig {
  /** 'original' (`joint_blocks.N`, ComfyUI/Stability) or 'diffusers' (`transformer_blocks.N`). */
  keyFormat: 'original' | 'diffusers';
  /** Prefix of the diffusion-model keys in the file, e.g. `model.diffusion_model.` or ''. */
  prefix: string;
  /** D. */
  hiddenSize: number;
  numHeads: number;
  headDim: number;
  /** Number of joint blocks. */
  depth: number;
  patchSize: number;
  inChannels: number;
  outChannels: number;
  /** M: pos_embed holds an M×M grid. */
  posEmbedMaxSize: number;
  /** Width of the text tokens fed to context_embedder (4096 for SD3). */
  contextInChannels: number;
  /** Width of the pooled vector y (2048 for SD3). */
  admInChannels: number;
  /** fc1 width (4·D in every published model). */
  mlpHiddenSize: number;
  qkNorm: 'rms' | null;
  /** Blocks whose x half has MMDiT-X self-attention `attn2` (SD3.5 Medium: 0–12). */
  dualAttentionBlocks: number[];
  /** The last block's context half has only shift/scale modulation and qkv (always true for SD3). */
  preOnlyLastContextBlock: boolean;
}

export const MMDIT_PROBE = 'joint_blocks.0.context_block.attn.qkv.weight';
export const TIMESTEP_EMBED_DIM = 256;
const HEAD_DIM = 64;
/** Keys a scaled-FP8 checkpoint adds beside the layers (spec §6.2); not weights of the definition. */
const SCALED_FP8_EXTRAS = /(^scaled_fp8$|\.scale_weight$|\.scale_input$)/;

function toMap(shapes: ShapeMap): Map<string, readonly number[]> {
  return shapes instanceof Map ? new Map(shapes) : new Map(Object.entries(shapes as Record<string, readonly number[]>));
}

export interface MmditLocation {
  keyFormat: 'original' | 'diffusers';
  prefix: string;
}

/** Where the MMDiT sits among `keys`; the most populated prefix wins when several carry the probe. */
export function locateMmdit(keys: Iterable<string>): MmditLocation {
  const all = [...keys];
  const prefixes = all.filter((k) => k.endsWith(MMDIT_PROBE)).map((k) => k.slice(0, k.length - MMDIT_PROBE.length));
  if (prefixes.length > 0) {
    const count = (p: string) => all.filter((k) => k.startsWith(p)).length;
    const prefix = prefixes.reduce((best, p) => (count(p) > count(best) ? p : best));
    return { keyFormat: 'original', prefix };
  }
  const diffusers = diffusersPrefix(all);
  if (diffusers !== undefined) return { keyFormat: 'diffusers', prefix: diffusers };
  throw new Error(
    `not an MMDiT checkpoint: no key ends in '${MMDIT_PROBE}' (ComfyUI/Stability layout, e.g. ` +
      `'model.diffusion_model.${MMDIT_PROBE}') or in 'transformer_blocks.0.attn.to_q.weight' (diffusers); ` +
      `the ${all.length} keys start with ${[...new Set(all.map((k) => k.split('.')[0]))].slice(0, 6).join(', ')}`,
  );
}

export interface OriginalShapes {
  location: MmditLocation;
  /** Original keys without prefix → shape (scaled-FP8 scale tensors included, marker excluded). */
  shapes: Map<string, readonly number[]>;
  /** For diffusers files: how each original tensor is assembled. */
  recipes?: Map<string, DiffusersRecipe>;
}

/** The MMDiT's tensors under original names, prefix removed; other components' keys are left out. */
export function mmditOriginalShapes(shapes: ShapeMap): OriginalShapes {
  const all = toMap(shapes);
  const location = locateMmdit(all.keys());
  const out = new Map<string, readonly number[]>();
  if (location.keyFormat === 'original') {
    for (const [key, shape] of all) {
      if (key.startsWith(location.prefix) && key !== `${location.prefix}scaled_fp8`) out.set(key.slice(location.prefix.length), shape);
    }
    return { location, shapes: out };
  }
  const mine = [...all.keys()].filter((k) => k.startsWith(location.prefix));
  const { recipes, unused } = diffusersRecipes(mine, location.prefix);
  if (unused.length > 0) {
    throw new Error(`diffusers MMDiT: unknown key(s) ${unused.slice(0, 5).join(', ')} (not in engine/names/mmdit-diffusers.ts)`);
  }
  const byOriginal = new Map<string, DiffusersRecipe>();
  for (const r of recipes) {
    out.set(r.original, recipeShape(r, (k) => all.get(k) as readonly number[]));
    byOriginal.set(r.original, r);
  }
  return { location, shapes: out, recipes: byOriginal };
}

function need(shapes: ReadonlyMap<string, readonly number[]>, key: string, rank: number): readonly number[] {
  const s = shapes.get(key);
  if (!s) throw new Error(`MMDiT checkpoint: missing tensor '${key}'`);
  if (s.length !== rank) throw new Error(`MMDiT checkpoint: '${key}' has shape [${s.join(', ')}], expected rank ${rank}`);
  return s;
}

function countBlocks(shapes: ReadonlyMap<string, readonly number[]>): number {
  let n = 0;
  while (shapes.has(`joint_blocks.${n}.context_block.attn.qkv.weight`)) n++;
  return n;
}

/** The configuration of an MMDiT whose original-named shapes (prefix removed) are given. */
export function configFromOriginalShapes(shapes: ReadonlyMap<string, readonly number[]>, location: MmditLocation): MmditConfig {
  const [hiddenSize, inChannels, patchSize, patchW] = need(shapes, 'x_embedder.proj.weight', 4);
  if (patchSize !== patchW) throw new Error(`MMDiT checkpoint: 'x_embedder.proj.weight' has a non-square patch [${patchSize}, ${patchW}]`);
  if (hiddenSize % HEAD_DIM !== 0) {
    throw new Error(`MMDiT checkpoint: 'x_embedder.proj.weight' gives hidden size ${hiddenSize}, not a multiple of the head dim ${HEAD_DIM}`);
  }
  const finalOut = need(shapes, 'final_layer.linear.weight', 2)[0];
  const numPatches = need(shapes, 'pos_embed', 3)[1];
  const posEmbedMaxSize = Math.round(Math.sqrt(numPatches));
  if (posEmbedMaxSize * posEmbedMaxSize !== numPatches) {
    throw new Error(`MMDiT checkpoint: 'pos_embed' holds ${numPatches} positions, not a square grid`);
  }
  const depth = countBlocks(shapes);
  const dualAttentionBlocks = Array.from({ length: depth }, (_, i) => i).filter((i) => shapes.has(`joint_blocks.${i}.x_block.attn2.qkv.weight`));
  const lastProj = `joint_blocks.${depth - 1}.context_block.attn.proj.weight`;
  return {
    ...location,
    hiddenSize,
    numHeads: hiddenSize / HEAD_DIM,
    headDim: HEAD_DIM,
    depth,
    patchSize,
    inChannels,
    outChannels: finalOut / (patchSize * patchSize),
    posEmbedMaxSize,
    contextInChannels: need(shapes, 'context_embedder.weight', 2)[1],
    admInChannels: need(shapes, 'y_embedder.mlp.0.weight', 2)[1],
    mlpHiddenSize: need(shapes, 'joint_blocks.0.x_block.mlp.fc1.weight', 2)[0],
    qkNorm: shapes.has('joint_blocks.0.context_block.attn.ln_q.weight') ? 'rms' : null,
    dualAttentionBlocks,
    preOnlyLastContextBlock: !shapes.has(lastProj),
  };
}

function addLinear(into: Map<string, number[]>, name: string, out: number, inp: number): void {
  into.set(`${name}.weight`, [out, inp]);
  into.set(`${name}.bias`, [out]);
}

/** Every tensor the definition reads, with its shape (original names, no prefix); spec §1.5. */
export function expectedMmditShapes(c: MmditConfig): Map<string, number[]> {
  const D = c.hiddenSize;
  const s = new Map<string, number[]>();
  s.set('x_embedder.proj.weight', [D, c.inChannels, c.patchSize, c.patchSize]);
  s.set('x_embedder.proj.bias', [D]);
  s.set('pos_embed', [1, c.posEmbedMaxSize * c.posEmbedMaxSize, D]);
  addLinear(s, 't_embedder.mlp.0', D, TIMESTEP_EMBED_DIM);
  addLinear(s, 't_embedder.mlp.2', D, D);
  addLinear(s, 'y_embedder.mlp.0', D, c.admInChannels);
  addLinear(s, 'y_embedder.mlp.2', D, D);
  addLinear(s, 'context_embedder', D, c.contextInChannels);
  for (let i = 0; i < c.depth; i++) {
    for (const sub of ['context_block', 'x_block'] as const) {
      const preOnly = sub === 'context_block' && i === c.depth - 1 && c.preOnlyLastContextBlock;
      const dual = sub === 'x_block' && c.dualAttentionBlocks.includes(i);
      const p = `joint_blocks.${i}.${sub}`;
      addLinear(s, `${p}.adaLN_modulation.1`, (preOnly ? 2 : dual ? 9 : 6) * D, D);
      for (const attn of dual ? ['attn', 'attn2'] : ['attn']) {
        addLinear(s, `${p}.${attn}.qkv`, 3 * D, D);
        if (!(preOnly && attn === 'attn')) addLinear(s, `${p}.${attn}.proj`, D, D);
        if (c.qkNorm) {
          s.set(`${p}.${attn}.ln_q.weight`, [c.headDim]);
          s.set(`${p}.${attn}.ln_k.weight`, [c.headDim]);
        }
      }
      if (!preOnly) {
        addLinear(s, `${p}.mlp.fc1`, c.mlpHiddenSize, D);
        addLinear(s, `${p}.mlp.fc2`, D, c.mlpHiddenSize);
      }
    }
  }
  addLinear(s, 'final_layer.adaLN_modulation.1', 2 * D, D);
  addLinear(s, 'final_layer.linear', c.outChannels * c.patchSize * c.patchSize, D);
  return s;
}

/** Throws naming the first missing, mis-shaped or unknown key. Scaled-FP8 scale tensors must be scalars of a known layer. */
export function checkMmditShapes(c: MmditConfig, shapes: ReadonlyMap<string, readonly number[]>): void {
  const expected = expectedMmditShapes(c);
  const where = c.prefix ? ` (prefix '${c.prefix}')` : '';
  for (const [key, shape] of expected) {
    const got = shapes.get(key);
    if (!got) throw new Error(`MMDiT checkpoint${where}: missing tensor '${key}' (expected shape [${shape.join(', ')}])`);
    if (got.join(',') !== shape.join(',')) {
      throw new Error(`MMDiT checkpoint${where}: '${key}' has shape [${got.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
  for (const [key, shape] of shapes) {
    if (expected.has(key)) continue;
    const layerWeight = key.replace(/\.scale_(weight|input)$/, '.weight');
    if (SCALED_FP8_EXTRAS.test(key) && expected.has(layerWeight) && shape.reduce((a, b) => a * b, 1) === 1) continue;
    throw new Error(
      `MMDiT checkpoint${where}: unexpected tensor '${key}' [${shape.join(', ')}] for a ${c.depth}-block MMDiT ` +
        `(qk_norm ${c.qkNorm ?? 'none'}, dual attention in [${c.dualAttentionBlocks.join(', ')}])`,
    );
  }
}

/** Locate, convert names, derive the configuration and check every tensor: the one entry point. */
export function detectMmditConfig(shapes: ShapeMap): MmditConfig {
  const { location, shapes: original } = mmditOriginalShapes(shapes);
  const config = configFromOriginalShapes(original, location);
  checkMmditShapes(config, original);
  return config;
}
