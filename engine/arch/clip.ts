/**
 * CLIP text towers as SD3 uses them (spec/sd3-engine.md §3.5–3.7): CLIP-L (OpenAI ViT-L/14,
 * quick-GELU) and CLIP-G (OpenCLIP bigG/14 in HF layout, exact GELU). Definition only; the dims
 * come from the weights (width, depth, MLP size; heads = width/64, at least 1).
 *
 * Graph: tokens int64 [B, L] (L ≤ positions, 77 in SD3), embed_override float32 [B, L, W] and
 * override_mask float32 [B, L, 1] (textual-inversion vectors replace token embeddings where the mask
 * is 1) → hidden [B, L, W] (output of layer depth−2, before the final LayerNorm: ComfyUI's
 * layer_idx −2), pooled [B, W] (final LayerNorm at the first `<|endoftext|>`), and with a
 * `text_projection` pooled_projected [B, P]. Causal mask, no padding mask (SD3).
 */
import * as op from '../onnx/index.js';
import type { GraphBuilder, Value } from '../onnx/index.js';
import { embeddingLookup, linearLayer, mergeHeads, positions, splitHeads, type EmbeddingValues, type LinearValues } from './encoder-ops.js';

export type ClipActivation = 'quick_gelu' | 'gelu';

export interface ClipConfig {
  width: number;
  layers: number;
  mlp: number;
  heads: number;
  vocab: number;
  positions: number;
  /** Output width of text_projection, when the file has one. */
  projection?: number;
  activation: ClipActivation;
  /** Which layer's output is `hidden` (0-based; ComfyUI's −2 = layers − 2). */
  hiddenLayer: number;
}

export interface ClipParams {
  tensor(key: string): Value;
  linear(stem: string): LinearValues;
  embedding(key: string): EmbeddingValues;
}

export const CLIP_EOS_TOKEN = 49407;
const LN_EPS = 1e-5;
export const CLIP_TOKEN_EMBEDDING = 'text_model.embeddings.token_embedding.weight';
export const CLIP_POSITION_EMBEDDING = 'text_model.embeddings.position_embedding.weight';
export const CLIP_PROJECTION = 'text_projection';

const layerPrefix = (i: number) => `text_model.encoder.layers.${i}.`;

/** Derives the configuration from tensor shapes (keys without prefix). Throws naming a missing key. */
export function clipConfigFromShapes(shapes: ReadonlyMap<string, readonly number[]>, activation: ClipActivation): ClipConfig {
  const need = (key: string): readonly number[] => {
    const s = shapes.get(key);
    if (!s) throw new Error(`CLIP weights: missing '${key}' (a CLIP text model in HF layout has text_model.embeddings.*, text_model.encoder.layers.N.*)`);
    return s;
  };
  const [vocab, width] = need(CLIP_TOKEN_EMBEDDING);
  let layers = 0;
  while (shapes.has(`${layerPrefix(layers)}mlp.fc1.weight`)) layers++;
  if (layers < 2) throw new Error(`CLIP weights: found ${layers} encoder layer(s); SD3 uses the second-to-last layer, so at least 2 are needed`);
  const proj = shapes.get(`${CLIP_PROJECTION}.weight`);
  need('text_model.final_layer_norm.weight');
  return {
    width,
    vocab,
    layers,
    mlp: need(`${layerPrefix(0)}mlp.fc1.weight`)[0],
    heads: Math.max(1, Math.floor(width / 64)),
    positions: need(CLIP_POSITION_EMBEDDING)[0],
    projection: proj ? proj[0] : undefined,
    activation,
    hiddenLayer: layers - 2,
  };
}

/** Keys and Linear stems the graph reads. */
export function clipWeightKeys(cfg: ClipConfig): { keys: string[]; linears: string[] } {
  const linears: string[] = [];
  const keys = [CLIP_TOKEN_EMBEDDING, CLIP_POSITION_EMBEDDING, 'text_model.final_layer_norm.weight', 'text_model.final_layer_norm.bias'];
  for (let i = 0; i < cfg.layers; i++) {
    const p = layerPrefix(i);
    linears.push(...['q_proj', 'k_proj', 'v_proj', 'out_proj'].map((n) => `${p}self_attn.${n}`), `${p}mlp.fc1`, `${p}mlp.fc2`);
    keys.push(...['layer_norm1', 'layer_norm2'].flatMap((n) => [`${p}${n}.weight`, `${p}${n}.bias`]));
  }
  if (cfg.projection !== undefined) linears.push(CLIP_PROJECTION);
  return { keys: [...keys, ...linears.flatMap((s) => [`${s}.weight`, `${s}.bias`])], linears };
}

function activation(g: GraphBuilder, x: Value, kind: ClipActivation): Value {
  if (kind === 'gelu') return op.gelu(g, x, 'none');
  return op.mul(g, x, op.sigmoid(g, op.mul(g, x, op.scalar(g, 1.702))));
}

/** float32 [L, L]: 0 on and below the diagonal, −inf above. */
function causalMask(g: GraphBuilder, tokens: Value): Value {
  const pos = positions(g, tokens);
  const above = g.node('Greater', [op.unsqueeze(g, pos, [0]), op.unsqueeze(g, pos, [1])])[0]; // key > query
  return op.where(g, above, op.scalar(g, -Infinity), op.scalar(g, 0));
}

function encoderLayer(g: GraphBuilder, p: ClipParams, cfg: ClipConfig, i: number, x: Value, mask: Value): Value {
  const pre = layerPrefix(i);
  const ln = (name: string, v: Value) => op.layerNorm(g, v, p.tensor(`${pre}${name}.weight`), p.tensor(`${pre}${name}.bias`), { epsilon: LN_EPS });
  const lin = (stem: string, v: Value) => linearLayer(g, p.linear(`${pre}${stem}`), v);
  const h = ln('layer_norm1', x);
  const [q, k, v] = ['q_proj', 'k_proj', 'v_proj'].map((n) => splitHeads(g, lin(`self_attn.${n}`, h), cfg.heads));
  const attn = op.scaledDotProductAttention(g, q, k, v, { scale: 1 / Math.sqrt(cfg.width / cfg.heads), mask });
  const x1 = op.add(g, x, lin('self_attn.out_proj', mergeHeads(g, attn)));
  const mlp = lin('mlp.fc2', activation(g, lin('mlp.fc1', ln('layer_norm2', x1)), cfg.activation));
  return op.add(g, x1, mlp);
}

/** The position of the first EOS per row → the row's vector: x [B, L, W] → [B, W]. */
function atFirstEos(g: GraphBuilder, x: Value, tokens: Value): Value {
  const isEos = op.cast(g, op.equal(g, tokens, op.scalar(g, CLIP_EOS_TOKEN, 'int64')), 'int32');
  const first = g.node('ArgMax', [isEos], { axis: 1, keepdims: 1, select_last_index: 0 })[0]; // [B, 1]
  const index = op.expand(g, op.unsqueeze(g, first, [2]), op.concat(g, [op.shape(g, x, { end: 1 }), op.int64s(g, [1]), op.shape(g, x, { start: 2 })], 0));
  return op.squeeze(g, g.node('GatherElements', [x, index], { axis: 1 })[0], [1]);
}

export function defineClip(g: GraphBuilder, cfg: ClipConfig, p: ClipParams): void {
  const tokens = g.input('tokens', 'int64', ['batch', 'tokens']);
  const override = g.input('embed_override', 'float32', ['batch', 'tokens', cfg.width]);
  const overrideMask = g.input('override_mask', 'float32', ['batch', 'tokens', 1]);
  const tokenEmbeds = embeddingLookup(g, p.embedding(CLIP_TOKEN_EMBEDDING), tokens);
  const keep = op.sub(g, op.scalar(g, 1), overrideMask);
  const embeds = op.add(g, op.mul(g, tokenEmbeds, keep), op.mul(g, override, overrideMask));
  const pos = op.gather(g, p.tensor(CLIP_POSITION_EMBEDDING), positions(g, tokens), 0); // [L, W]
  let x = op.add(g, embeds, pos);
  const mask = causalMask(g, tokens);
  let hidden: Value | undefined;
  for (let i = 0; i < cfg.layers; i++) {
    x = encoderLayer(g, p, cfg, i, x, mask);
    if (i === cfg.hiddenLayer) hidden = x;
  }
  const final = op.layerNorm(g, x, p.tensor('text_model.final_layer_norm.weight'), p.tensor('text_model.final_layer_norm.bias'), { epsilon: LN_EPS });
  const pooled = atFirstEos(g, final, tokens);
  g.output(hidden as Value, 'float32', ['batch', 'tokens', cfg.width], 'hidden');
  g.output(pooled, 'float32', ['batch', cfg.width], 'pooled');
  if (cfg.projection !== undefined) {
    g.output(linearLayer(g, p.linear(CLIP_PROJECTION), pooled, false), 'float32', ['batch', cfg.projection], 'pooled_projected');
  }
}
