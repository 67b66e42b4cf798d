/**
 * Synthetic SD3-layout checkpoints: every key and shape of a real all-in-one SD3/SD3.5 file
 * (spec/sd3-engine.md §1.2, §1.5, §3.5–3.8, §4.3) at any size, filled with deterministic
 * pseudo-random values. Used for the demo checkpoint (demo-checkpoint.ts), the pipeline bench
 * (an SD3.5-Medium-sized model) and detection tests (headers only).
 *
 *   const shapes = sd3CheckpointShapes(DEMO_SPEC);          // Map<full key, shape>
 *   writeSyntheticCheckpoint('/m/x.safetensors', DEMO_SPEC); // streams the file, a tensor at a time
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { expectedMmditShapes, type MmditConfig } from '../../engine/arch/mmdit-config.js';
import { encodeFromFloat32 } from '../../engine/dtypes.js';

export interface ClipSpec {
  width: number;
  layers: number;
  mlp: number;
  /** text_projection output width (CLIP-G needs one; real CLIP-L files carry one too). */
  projection?: number;
}

export interface T5Spec {
  dModel: number;
  heads: number;
  dKv: number;
  ff: number;
  blocks: number;
}

export interface VaeSpec {
  channels: number[];
  encoderBlocks: number;
  decoderBlocks: number;
}

export interface MmditSpec {
  depth: number;
  posEmbedMaxSize: number;
  qkNorm: boolean;
  dualAttentionBlocks: number[];
  contextInChannels: number;
  admInChannels: number;
}

export type StorageDtype = 'F32' | 'F16' | 'BF16' | 'F8_E4M3';

export interface Sd3CheckpointSpec {
  /** Seeds every value (with the key). */
  seedTag: string;
  mmdit?: MmditSpec;
  clipL?: ClipSpec;
  clipG?: ClipSpec;
  t5?: T5Spec;
  vae?: VaeSpec;
  /** Storage of float tensors (default F16); FP8 only for Linear/conv weights of the MMDiT blocks. */
  storage?: StorageDtype;
}

export const CLIP_VOCAB = 49408;
export const CLIP_POSITIONS = 77;
export const T5_VOCAB = 32128;

export function mmditConfigOf(m: MmditSpec): MmditConfig {
  const D = 64 * m.depth;
  return {
    keyFormat: 'original',
    prefix: 'model.diffusion_model.',
    hiddenSize: D,
    numHeads: m.depth,
    headDim: 64,
    depth: m.depth,
    patchSize: 2,
    inChannels: 16,
    outChannels: 16,
    posEmbedMaxSize: m.posEmbedMaxSize,
    contextInChannels: m.contextInChannels,
    admInChannels: m.admInChannels,
    mlpHiddenSize: 4 * D,
    qkNorm: m.qkNorm ? 'rms' : null,
    dualAttentionBlocks: m.dualAttentionBlocks,
    preOnlyLastContextBlock: true,
  };
}

/** CLIP text tower keys in HF layout (no prefix). */
export function clipShapes(c: ClipSpec): Map<string, number[]> {
  const s = new Map<string, number[]>();
  s.set('text_model.embeddings.token_embedding.weight', [CLIP_VOCAB, c.width]);
  s.set('text_model.embeddings.position_embedding.weight', [CLIP_POSITIONS, c.width]);
  for (let i = 0; i < c.layers; i++) {
    const p = `text_model.encoder.layers.${i}.`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      s.set(`${p}self_attn.${n}.weight`, [c.width, c.width]);
      s.set(`${p}self_attn.${n}.bias`, [c.width]);
    }
    for (const n of ['layer_norm1', 'layer_norm2']) {
      s.set(`${p}${n}.weight`, [c.width]);
      s.set(`${p}${n}.bias`, [c.width]);
    }
    s.set(`${p}mlp.fc1.weight`, [c.mlp, c.width]);
    s.set(`${p}mlp.fc1.bias`, [c.mlp]);
    s.set(`${p}mlp.fc2.weight`, [c.width, c.mlp]);
    s.set(`${p}mlp.fc2.bias`, [c.width]);
  }
  s.set('text_model.final_layer_norm.weight', [c.width]);
  s.set('text_model.final_layer_norm.bias', [c.width]);
  if (c.projection !== undefined) s.set('text_projection.weight', [c.projection, c.width]);
  return s;
}

/** T5 v1.1 encoder keys in HF layout (no prefix). */
export function t5Shapes(t: T5Spec): Map<string, number[]> {
  const s = new Map<string, number[]>();
  const inner = t.heads * t.dKv;
  s.set('shared.weight', [T5_VOCAB, t.dModel]);
  for (let b = 0; b < t.blocks; b++) {
    const p = `encoder.block.${b}.layer.`;
    for (const n of ['q', 'k', 'v']) s.set(`${p}0.SelfAttention.${n}.weight`, [inner, t.dModel]);
    s.set(`${p}0.SelfAttention.o.weight`, [t.dModel, inner]);
    if (b === 0) s.set(`${p}0.SelfAttention.relative_attention_bias.weight`, [32, t.heads]);
    s.set(`${p}0.layer_norm.weight`, [t.dModel]);
    s.set(`${p}1.DenseReluDense.wi_0.weight`, [t.ff, t.dModel]);
    s.set(`${p}1.DenseReluDense.wi_1.weight`, [t.ff, t.dModel]);
    s.set(`${p}1.DenseReluDense.wo.weight`, [t.dModel, t.ff]);
    s.set(`${p}1.layer_norm.weight`, [t.dModel]);
  }
  s.set('encoder.final_layer_norm.weight', [t.dModel]);
  return s;
}

function addConv(s: Map<string, number[]>, name: string, out: number, inp: number, k: number): void {
  s.set(`${name}.weight`, [out, inp, k, k]);
  s.set(`${name}.bias`, [out]);
}

function addNorm(s: Map<string, number[]>, name: string, c: number): void {
  s.set(`${name}.weight`, [c]);
  s.set(`${name}.bias`, [c]);
}

function addRes(s: Map<string, number[]>, name: string, cin: number, cout: number): void {
  addNorm(s, `${name}.norm1`, cin);
  addConv(s, `${name}.conv1`, cout, cin, 3);
  addNorm(s, `${name}.norm2`, cout);
  addConv(s, `${name}.conv2`, cout, cout, 3);
  if (cin !== cout) addConv(s, `${name}.nin_shortcut`, cout, cin, 1);
}

function addMid(s: Map<string, number[]>, prefix: string, c: number): void {
  addRes(s, `${prefix}.mid.block_1`, c, c);
  addNorm(s, `${prefix}.mid.attn_1.norm`, c);
  for (const n of ['q', 'k', 'v', 'proj_out']) addConv(s, `${prefix}.mid.attn_1.${n}`, c, c, 1);
  addRes(s, `${prefix}.mid.block_2`, c, c);
}

/** The SD3 VAE (16 latent channels, no quant convs), ldm layout (no prefix). */
export function vaeShapes(v: VaeSpec): Map<string, number[]> {
  const s = new Map<string, number[]>();
  const ch = v.channels;
  const top = ch[ch.length - 1];
  addConv(s, 'encoder.conv_in', ch[0], 3, 3);
  let cin = ch[0];
  ch.forEach((cout, lvl) => {
    for (let b = 0; b < v.encoderBlocks; b++) addRes(s, `encoder.down.${lvl}.block.${b}`, b === 0 ? cin : cout, cout);
    cin = cout;
    if (lvl !== ch.length - 1) addConv(s, `encoder.down.${lvl}.downsample.conv`, cout, cout, 3);
  });
  addMid(s, 'encoder', top);
  addNorm(s, 'encoder.norm_out', top);
  addConv(s, 'encoder.conv_out', 32, top, 3);
  addConv(s, 'decoder.conv_in', top, 16, 3);
  addMid(s, 'decoder', top);
  cin = top;
  for (let lvl = ch.length - 1; lvl >= 0; lvl--) {
    const cout = ch[lvl];
    for (let b = 0; b < v.decoderBlocks; b++) addRes(s, `decoder.up.${lvl}.block.${b}`, b === 0 ? cin : cout, cout);
    cin = cout;
    if (lvl !== 0) addConv(s, `decoder.up.${lvl}.upsample.conv`, cout, cout, 3);
  }
  addNorm(s, 'decoder.norm_out', ch[0]);
  addConv(s, 'decoder.conv_out', 3, ch[0], 3);
  return s;
}

function prefixed(into: Map<string, number[]>, prefix: string, shapes: Map<string, number[]>): void {
  for (const [k, v] of shapes) into.set(prefix + k, v);
}

/** Every key (with its all-in-one prefix) and shape of the checkpoint `spec` describes. */
export function sd3CheckpointShapes(spec: Sd3CheckpointSpec): Map<string, number[]> {
  const s = new Map<string, number[]>();
  if (spec.mmdit) prefixed(s, 'model.diffusion_model.', expectedMmditShapes(mmditConfigOf(spec.mmdit)));
  if (spec.vae) prefixed(s, 'first_stage_model.', vaeShapes(spec.vae));
  if (spec.clipL) prefixed(s, 'text_encoders.clip_l.transformer.', clipShapes(spec.clipL));
  if (spec.clipG) prefixed(s, 'text_encoders.clip_g.transformer.', clipShapes(spec.clipG));
  if (spec.t5) prefixed(s, 'text_encoders.t5xxl.transformer.', t5Shapes(spec.t5));
  return s;
}

// ---------------------------------------------------------------- deterministic values

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** mulberry32 → uniform floats in [−1, 1). */
function uniformInto(out: Float32Array, seed: number): void {
  let a = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
}

const isNormWeight = (key: string) => /(norm[^.]*|ln_[qk]|layer_norm\d?|norm\d)\.weight$/.test(key);

/** Values of one tensor: norms ≈ 1, biases small, weights ±1/√fan_in, embeddings ±0.5. */
export function syntheticValues(seedTag: string, key: string, shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  uniformInto(out, fnv1a(`${seedTag}:${key}`));
  let scale: number;
  let offset = 0;
  if (isNormWeight(key)) {
    scale = 0.1;
    offset = 1;
  } else if (key.endsWith('.bias')) scale = 0.02;
  else if (/embedding\.weight$|shared\.weight$|pos_embed$|relative_attention_bias/.test(key)) scale = 0.5;
  else scale = 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1) || 1);
  for (let i = 0; i < n; i++) out[i] = out[i] * scale + offset;
  return out;
}

const ST_TO_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F8_E4M3: 'float8_e4m3fn' } as const;

/** FP8 storage only where ComfyUI's fp8 checkpoints use it: MMDiT block Linears. */
function storageOf(key: string, storage: StorageDtype): StorageDtype {
  if (storage !== 'F8_E4M3') return storage;
  return key.startsWith('model.diffusion_model.joint_blocks.') && key.endsWith('.weight') && !/ln_[qk]\.weight$/.test(key) ? 'F8_E4M3' : 'F16';
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Streams a synthetic checkpoint to `path` (through a temporary file renamed into place), one
 * tensor in memory at a time. `metadata` goes into `__metadata__`.
 */
export function writeSyntheticCheckpoint(path: string, spec: Sd3CheckpointSpec, metadata: Record<string, string> = {}): void {
  writeSyntheticFile(path, sd3CheckpointShapes(spec), { seedTag: spec.seedTag, storage: spec.storage, metadata });
}

/** Any key → shape map as a safetensors file of synthetic values (keys sorted). */
export function writeSyntheticFile(path: string, shapeMap: ReadonlyMap<string, readonly number[]>, opts: { seedTag: string; storage?: StorageDtype; metadata?: Record<string, string> }): void {
  const shapes = [...shapeMap].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const storage = opts.storage ?? 'F16';
  const header: Record<string, unknown> = { __metadata__: opts.metadata ?? {} };
  let offset = 0;
  const plan = shapes.map(([key, shape]) => {
    const st = storageOf(key, storage);
    const bytes = shape.reduce((a, b) => a * b, 1) * (st === 'F32' ? 4 : st === 'F8_E4M3' ? 1 : 2);
    header[key] = { dtype: st, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
    return { key, shape, st };
  });
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(8 + Math.ceil(json.length / 8) * 8, 0x20);
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  json.copy(head, 8);
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeAll(fd, head);
    for (const { key, shape, st } of plan) {
      const data = encodeFromFloat32(syntheticValues(opts.seedTag, key, shape), ST_TO_DTYPE[st]);
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}
