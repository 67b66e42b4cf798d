/**
 * What a model file holds, told from its tensor names and shapes only (never its file name or
 * `__metadata__`): an MMDiT, a VAE, CLIP towers and/or a T5 encoder, each under its key prefix
 * (spec/sd3-engine.md §1.2). Each part found is checked against the full key list its
 * configuration implies, so a file with missing or mis-shaped tensors fails with the key named.
 *
 *   const found = inspectModelFile('/m/clip_g.safetensors');  // { encoders: [{ family: 'clip', width: 1280, … }], … }
 *   const set = assignSd3Encoders([...a.encoders, ...b.encoders]); // narrower CLIP → clip_l, wider → clip_g
 */
import path from 'node:path';
import { detectMmditConfig, type MmditConfig } from '../../engine/arch/mmdit-config.js';
import { openSafetensors } from '../../engine/safetensors.js';
import { clipShapes, t5Shapes, vaeShapes } from './synthetic-sd3.js';
import type { EncoderLocation, VaeLocation } from './model-parts.js';

export interface FoundEncoder {
  readonly family: 'clip' | 't5';
  readonly path: string;
  readonly prefix: string;
  readonly width: number;
  readonly layers: number;
  /** text_projection output width (CLIP). */
  readonly projection?: number;
  /** The kind a checkpoint prefix names (`text_encoders.clip_g.…`); undefined in a standalone file. */
  readonly declaredKind?: 'clip_l' | 'clip_g' | 't5xxl';
}

export interface FileContents {
  readonly path: string;
  readonly mmdit?: MmditConfig;
  readonly vae?: VaeLocation;
  readonly encoders: readonly FoundEncoder[];
}

type Shapes = Map<string, number[]>;

const ENCODER_PREFIXES = ['', 'text_encoders.clip_l.transformer.', 'text_encoders.clip_g.transformer.', 'text_encoders.t5xxl.transformer.', 'text_encoders.clip_l.', 'text_encoders.clip_g.', 'text_encoders.t5xxl.'];
const VAE_PREFIXES = ['', 'first_stage_model.', 'vae.'];

function under(shapes: Shapes, prefix: string): Shapes {
  const out: Shapes = new Map();
  for (const [k, v] of shapes) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

/** Throws naming the first tensor of `expected` that `got` lacks or holds with another shape. */
export function checkKeys(what: string, file: string, prefix: string, expected: Map<string, number[]>, got: Shapes): void {
  for (const [key, shape] of expected) {
    const have = got.get(key);
    const where = `${path.basename(file)}: ${what}`;
    if (!have) throw new Error(`${where}: missing tensor '${prefix}${key}' (expected shape [${shape.join(', ')}])`);
    if (have.join(',') !== shape.join(',')) throw new Error(`${where}: tensor '${prefix}${key}' has shape [${have.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

function countWhile(has: (i: number) => boolean): number {
  let n = 0;
  while (has(n)) n++;
  return n;
}

function findClip(file: string, prefix: string, all: Shapes): FoundEncoder | undefined {
  const s = under(all, prefix);
  const embed = s.get('text_model.embeddings.token_embedding.weight');
  if (!embed || !s.has('text_model.final_layer_norm.weight')) return undefined;
  const width = embed[1];
  const layers = countWhile((i) => s.has(`text_model.encoder.layers.${i}.mlp.fc1.weight`));
  if (layers < 2) throw new Error(`${path.basename(file)}: CLIP text model under '${prefix}' has ${layers} layer(s); SD3 uses the second-to-last, so it needs ≥ 2`);
  const mlp = s.get('text_model.encoder.layers.0.mlp.fc1.weight')![0];
  const projection = s.get('text_projection.weight')?.[0];
  const expected = clipShapes({ width, layers, mlp, projection });
  expected.set('text_model.embeddings.token_embedding.weight', embed); // vocabulary size as stored
  expected.set('text_model.embeddings.position_embedding.weight', [s.get('text_model.embeddings.position_embedding.weight')?.[0] ?? 77, width]);
  checkKeys('CLIP text model', file, prefix, expected, s);
  const declared = prefix.includes('clip_l') ? 'clip_l' : prefix.includes('clip_g') ? 'clip_g' : undefined;
  return { family: 'clip', path: file, prefix, width, layers, projection, declaredKind: declared };
}

function findT5(file: string, prefix: string, all: Shapes): FoundEncoder | undefined {
  const s = under(all, prefix);
  if (!s.has('encoder.final_layer_norm.weight') || !s.has('encoder.block.0.layer.0.SelfAttention.q.weight')) return undefined;
  const embeddingKey = s.has('shared.weight') ? 'shared.weight' : 'encoder.embed_tokens.weight';
  const embed = s.get(embeddingKey);
  const bias = s.get('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight');
  const ff = s.get('encoder.block.0.layer.1.DenseReluDense.wi_0.weight');
  if (!embed || !bias || !ff) {
    throw new Error(`${path.basename(file)}: T5 encoder under '${prefix}' lacks ${!embed ? `'${prefix}shared.weight'` : !bias ? 'the relative attention bias' : "'…DenseReluDense.wi_0.weight' (only T5 v1.1 gated-GELU encoders are supported)"}`);
  }
  const heads = bias[1];
  const dModel = embed[1];
  const blocks = countWhile((i) => s.has(`encoder.block.${i}.layer.0.SelfAttention.q.weight`));
  const expected = t5Shapes({ dModel, heads, dKv: s.get('encoder.block.0.layer.0.SelfAttention.q.weight')![0] / heads, ff: ff[0], blocks });
  expected.delete('shared.weight');
  checkKeys('T5 encoder', file, prefix, expected, s);
  return { family: 't5', path: file, prefix, width: dModel, layers: blocks, declaredKind: prefix ? 't5xxl' : undefined };
}

function findVae(file: string, all: Shapes): VaeLocation | undefined {
  for (const prefix of VAE_PREFIXES) {
    const s = under(all, prefix);
    if (!s.has('encoder.conv_in.weight') || !s.has('decoder.conv_in.weight')) continue;
    const channels: number[] = [];
    while (s.has(`encoder.down.${channels.length}.block.0.conv1.weight`)) channels.push(s.get(`encoder.down.${channels.length}.block.0.conv1.weight`)![0]);
    const encoderBlocks = countWhile((i) => s.has(`encoder.down.0.block.${i}.conv1.weight`));
    const decoderBlocks = countWhile((i) => s.has(`decoder.up.0.block.${i}.conv1.weight`));
    if (channels.length === 0) throw new Error(`${path.basename(file)}: VAE under '${prefix}' has no 'encoder.down.0.block.0.conv1.weight'`);
    const expected = vaeShapes({ channels, encoderBlocks, decoderBlocks });
    const latent = s.get('decoder.conv_in.weight')![1];
    if (latent !== 16) throw new Error(`${path.basename(file)}: VAE with ${latent} latent channels; SD3/SD3.5 use 16 (an SD1.x/SDXL VAE has 4)`);
    checkKeys('VAE', file, prefix, expected, s);
    return { path: file, prefix };
  }
  return undefined;
}

/** Reads the header of a safetensors file and identifies every SD3 part in it. */
export function inspectModelFile(file: string): FileContents {
  if (!/\.(safetensors|sft)$/i.test(file)) throw new Error(`${path.basename(file)}: only .safetensors files can be loaded here (pickle .ckpt/.pt files are not supported)`);
  const f = openSafetensors(file);
  let all: Shapes;
  try {
    all = new Map(f.keys().map((k) => [k, f.info(k).shape]));
  } finally {
    f.close();
  }
  const hasMmdit = [...all.keys()].some((k) => k.endsWith('joint_blocks.0.context_block.attn.qkv.weight') || k.includes('transformer_blocks.0.attn.to_q.weight'));
  const mmdit = hasMmdit ? detectMmditConfig(all) : undefined;
  const encoders: FoundEncoder[] = [];
  for (const prefix of ENCODER_PREFIXES) {
    const t5 = findT5(file, prefix, all);
    if (t5) encoders.push(t5);
    const clip = findClip(file, prefix, all);
    if (clip) encoders.push(clip);
  }
  return { path: file, mmdit, vae: findVae(file, all), encoders };
}

export interface Sd3EncoderSet {
  clipL?: EncoderLocation & { width: number; pooledWidth: number };
  clipG?: EncoderLocation & { width: number; pooledWidth: number };
  t5?: EncoderLocation & { width: number };
}

const REAL_CLIP_G_WIDTH = 1280;

/**
 * SD3's encoders out of what the files hold, in any slot order: T5 by its key layout; CLIP towers
 * by the checkpoint prefix when there is one, else of two the narrower is CLIP-L and the wider
 * CLIP-G; a lone standalone tower is CLIP-G from 1280 wide (or 31+ layers), else CLIP-L.
 */
export function assignSd3Encoders(found: readonly FoundEncoder[]): Sd3EncoderSet {
  const set: Sd3EncoderSet = {};
  const t5s = found.filter((e) => e.family === 't5');
  if (t5s.length > 1) throw new Error(`more than one T5 encoder given (${t5s.map((e) => path.basename(e.path)).join(', ')}); SD3 uses one`);
  if (t5s[0]) set.t5 = { kind: 't5xxl', path: t5s[0].path, prefix: t5s[0].prefix, width: t5s[0].width };
  const clips = found.filter((e) => e.family === 'clip');
  if (clips.length > 2) throw new Error(`${clips.length} CLIP text models given; SD3 uses two (CLIP-L and CLIP-G)`);
  const asKind = (e: FoundEncoder, kind: 'clip_l' | 'clip_g') => ({ kind, path: e.path, prefix: e.prefix, width: e.width, pooledWidth: kind === 'clip_g' ? (e.projection ?? e.width) : e.width });
  const undeclared = clips.filter((e) => !e.declaredKind);
  for (const e of clips.filter((c) => c.declaredKind)) set[e.declaredKind === 'clip_l' ? 'clipL' : 'clipG'] = asKind(e, e.declaredKind as 'clip_l' | 'clip_g');
  if (undeclared.length === 2 && !set.clipL && !set.clipG) {
    const [narrow, wide] = [...undeclared].sort((a, b) => a.width - b.width);
    if (narrow.width === wide.width) throw new Error(`two CLIP text models of the same width ${narrow.width} (${path.basename(narrow.path)}, ${path.basename(wide.path)}); SD3 needs a CLIP-L and a wider CLIP-G`);
    set.clipL = asKind(narrow, 'clip_l');
    set.clipG = asKind(wide, 'clip_g');
  } else {
    for (const e of undeclared) {
      const looksG = set.clipL ? e.width > set.clipL.width : set.clipG ? e.width >= set.clipG.width : e.width >= REAL_CLIP_G_WIDTH || e.layers >= 31;
      const slot = looksG ? 'clipG' : 'clipL';
      if (set[slot]) throw new Error(`two CLIP text models both look like ${slot === 'clipG' ? 'CLIP-G' : 'CLIP-L'} (${path.basename(set[slot]!.path)}, ${path.basename(e.path)})`);
      set[slot] = asKind(e, looksG ? 'clip_g' : 'clip_l');
    }
  }
  if (!set.t5 && !set.clipL && !set.clipG) throw new Error('no SD3 text encoder (CLIP-L, CLIP-G or T5-XXL) found in the given file(s)');
  return set;
}
