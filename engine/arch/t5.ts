/**
 * T5 v1.1 encoder (T5-XXL as SD3 uses it, spec/sd3-engine.md §3.8). Definition only; dims from the
 * weights: d_model and vocab from the embedding, heads from relative_attention_bias [buckets, heads],
 * head size from q [heads·d_kv, d_model], FFN size from wi_0, depth from the block count.
 *
 * Graph: tokens int64 [B, L] → hidden [B, L, d_model] (after final_layer_norm). No attention mask
 * (SD3 attends to pads), no 1/√d scaling, one relative-position bias [1, H, L, L] shared by all
 * blocks, gated-GELU(tanh) FFN, RMSNorm eps 1e-6 with weight only, no biases.
 */
import * as op from '../onnx/index.js';
import type { GraphBuilder, Value } from '../onnx/index.js';
import { embeddingLookup, linearLayer, mergeHeads, positions, splitHeads, type EmbeddingValues, type LinearValues } from './encoder-ops.js';

export interface T5Config {
  dModel: number;
  vocab: number;
  heads: number;
  dKv: number;
  ff: number;
  blocks: number;
  buckets: number;
  maxDistance: number;
  /** The key of the embedding table ('shared.weight' or 'encoder.embed_tokens.weight'). */
  embeddingKey: string;
}

export interface T5Params {
  tensor(key: string): Value;
  linear(stem: string): LinearValues;
  embedding(key: string): EmbeddingValues;
}

const RMS_EPS = 1e-6;
export const T5_REL_BIAS = 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight';
const block = (i: number) => `encoder.block.${i}.layer.`;
const ATTN = ['q', 'k', 'v', 'o'].map((n) => `0.SelfAttention.${n}`);
const FFN = ['wi_0', 'wi_1', 'wo'].map((n) => `1.DenseReluDense.${n}`);

export function t5ConfigFromShapes(shapes: ReadonlyMap<string, readonly number[]>): T5Config {
  const need = (key: string): readonly number[] => {
    const s = shapes.get(key);
    if (!s) throw new Error(`T5 weights: missing '${key}' (an HF T5 encoder has shared.weight, encoder.block.N.layer.{0,1}.*)`);
    return s;
  };
  const embeddingKey = shapes.has('shared.weight') ? 'shared.weight' : 'encoder.embed_tokens.weight';
  const [vocab, dModel] = need(embeddingKey);
  const [buckets, heads] = need(T5_REL_BIAS);
  let blocks = 0;
  while (shapes.has(`${block(blocks)}0.SelfAttention.q.weight`)) blocks++;
  if (!shapes.has(`${block(0)}1.DenseReluDense.wi_0.weight`)) {
    throw new Error(`T5 weights: '${block(0)}1.DenseReluDense.wi_0.weight' missing — only T5 v1.1 (gated-GELU) encoders are supported`);
  }
  need('encoder.final_layer_norm.weight');
  return {
    dModel,
    vocab,
    heads,
    dKv: need(`${block(0)}0.SelfAttention.q.weight`)[0] / heads,
    ff: need(`${block(0)}1.DenseReluDense.wi_0.weight`)[0],
    blocks,
    buckets,
    maxDistance: 128,
    embeddingKey,
  };
}

export function t5WeightKeys(cfg: T5Config): { keys: string[]; linears: string[] } {
  const linears: string[] = [];
  const keys = [cfg.embeddingKey, T5_REL_BIAS, 'encoder.final_layer_norm.weight'];
  for (let i = 0; i < cfg.blocks; i++) {
    linears.push(...[...ATTN, ...FFN].map((s) => `${block(i)}${s}`));
    keys.push(`${block(i)}0.layer_norm.weight`, `${block(i)}1.layer_norm.weight`);
  }
  return { keys: [...keys, ...linears.map((s) => `${s}.weight`)], linears };
}

/**
 * HF T5 `_relative_position_bucket` (bidirectional) for `rel = key − query`, with its float32
 * arithmetic: log(float32(n)/max_exact) / float32(ln(max_distance/max_exact)) · (half − max_exact),
 * truncated. For 32 buckets / 128 it gives the table of spec §3.8.
 */
export function t5RelativeBucket(rel: number, buckets = 32, maxDistance = 128): number {
  const half = Math.floor(buckets / 2);
  const maxExact = Math.floor(half / 2);
  const n = Math.abs(rel);
  const base = rel > 0 ? half : 0;
  if (n < maxExact) return base + n;
  const f = Math.fround;
  const ratio = f(Math.log(f(f(n) / maxExact)));
  const large = maxExact + Math.trunc(f(f(ratio / f(Math.log(maxDistance / maxExact))) * (half - maxExact)));
  return base + Math.min(large, half - 1);
}

/** float32 [1, H, L, L] relative-position bias; rel is clamped to ±maxDistance (buckets saturate before). */
function relativeBias(g: GraphBuilder, p: T5Params, cfg: T5Config, tokens: Value): Value {
  const span = cfg.maxDistance;
  const table = BigInt64Array.from({ length: 2 * span + 1 }, (_, i) => BigInt(t5RelativeBucket(i - span, cfg.buckets, cfg.maxDistance)));
  const pos = positions(g, tokens);
  const rel = op.sub(g, op.unsqueeze(g, pos, [0]), op.unsqueeze(g, pos, [1])); // [L, L] = key − query
  const clamped = g.node('Max', [g.node('Min', [rel, op.scalar(g, span, 'int64')])[0], op.scalar(g, -span, 'int64')])[0];
  const index = op.add(g, clamped, op.scalar(g, span, 'int64'));
  const bucket = op.gather(g, g.constant({ dtype: 'int64', shape: [table.length], data: table }, 't5_buckets'), index, 0); // [L, L]
  const bias = op.gather(g, p.tensor(T5_REL_BIAS), bucket, 0); // [L, L, H]
  return op.unsqueeze(g, op.transpose(g, bias, [2, 0, 1]), [0]);
}

function t5Block(g: GraphBuilder, p: T5Params, cfg: T5Config, i: number, x: Value, bias: Value): Value {
  const pre = block(i);
  const lin = (stem: string, v: Value) => linearLayer(g, p.linear(`${pre}${stem}`), v);
  const h = op.rmsNorm(g, x, p.tensor(`${pre}0.layer_norm.weight`), { epsilon: RMS_EPS });
  const [q, k, v] = ATTN.slice(0, 3).map((s) => splitHeads(g, lin(s, h), cfg.heads));
  const attn = op.scaledDotProductAttention(g, q, k, v, { scale: 1, mask: bias });
  const x1 = op.add(g, x, lin(ATTN[3], mergeHeads(g, attn)));
  const h2 = op.rmsNorm(g, x1, p.tensor(`${pre}1.layer_norm.weight`), { epsilon: RMS_EPS });
  const gated = op.mul(g, op.gelu(g, lin(FFN[0], h2), 'tanh'), lin(FFN[1], h2));
  return op.add(g, x1, lin(FFN[2], gated));
}

export function defineT5(g: GraphBuilder, cfg: T5Config, p: T5Params): void {
  const tokens = g.input('tokens', 'int64', ['batch', 'tokens']);
  let x = embeddingLookup(g, p.embedding(cfg.embeddingKey), tokens);
  const bias = relativeBias(g, p, cfg, tokens);
  for (let i = 0; i < cfg.blocks; i++) x = t5Block(g, p, cfg, i, x, bias);
  const out = op.rmsNorm(g, x, p.tensor('encoder.final_layer_norm.weight'), { epsilon: RMS_EPS });
  g.output(out, 'float32', ['batch', 'tokens', cfg.dModel], 'hidden');
}
