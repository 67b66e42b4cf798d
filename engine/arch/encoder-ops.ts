/**
 * Graph pieces shared by the text encoders (clip.ts, t5.ts): Linear from params (float32, 16-bit
 * widened or FP8 dequantised next to its Gemm, as the MMDiT), embedding lookup (an FP8 table is gathered as its
 * byte codes and decoded through a 256-entry table, so it stays 1 byte per value), head split/merge,
 * position ranges.
 */
import { FP8_E4M3FN_TO_F32_BITS, FP8_E5M2_TO_F32_BITS } from '../fp8.js';
import * as op from '../onnx/index.js';
import type { GraphBuilder, Value } from '../onnx/index.js';

export interface LinearValues {
  weight: Value;
  bias?: Value;
  scale?: Value;
  perChannel?: boolean;
  /** The weight is stored 16-bit (as in the file) and widened to float32 next to its Gemm. */
  widen?: boolean;
}

export interface EmbeddingValues {
  table: Value;
  fp8?: 'float8_e4m3fn' | 'float8_e5m2';
}

/** torch.nn.Linear over the last dim; `ordered` ties an FP8 dequantisation or 16-bit widening to the layer's input. */
export function linearLayer(g: GraphBuilder, l: LinearValues, x: Value, ordered = true): Value {
  if (l.scale !== undefined) return op.fp8Linear(g, x, l.weight, l.scale, { bias: l.bias, perChannel: l.perChannel, ordered });
  if (l.widen) return op.linear(g, x, ordered ? op.castAfter(g, l.weight, x) : op.cast(g, l.weight, 'float32'), l.bias);
  return op.linear(g, x, l.weight, l.bias);
}

/** The decode table of an FP8 format, NaN codes mapped to 0 (ComfyUI runs nan_to_num on FP8 embeddings). */
function fp8DecodeTable(format: 'float8_e4m3fn' | 'float8_e5m2'): Float32Array {
  const bits = format === 'float8_e4m3fn' ? FP8_E4M3FN_TO_F32_BITS : FP8_E5M2_TO_F32_BITS;
  const table = new Float32Array(bits.buffer.slice(bits.byteOffset, bits.byteOffset + bits.byteLength));
  for (let i = 0; i < table.length; i++) {
    if (Number.isNaN(table[i])) table[i] = 0;
    else if (!Number.isFinite(table[i])) table[i] = Math.sign(table[i]) * 3.4028234663852886e38;
  }
  return table;
}

/** tokens [B, L] int64 → [B, L, D] float32. */
export function embeddingLookup(g: GraphBuilder, e: EmbeddingValues, tokens: Value): Value {
  if (!e.fp8) return op.gather(g, e.table, tokens, 0);
  const codes = op.cast(g, op.gather(g, e.table, tokens, 0), 'int32'); // [B, L, D] byte codes
  const table = g.constant({ dtype: 'float32', shape: [256], data: fp8DecodeTable(e.fp8) }, 'fp8_decode');
  return op.gather(g, table, codes, 0);
}

/** [B, L, H·d] → [B, H, L, d]. */
export function splitHeads(g: GraphBuilder, x: Value, heads: number): Value {
  return op.transpose(g, op.reshape(g, x, [0, 0, heads, -1]), [0, 2, 1, 3]);
}

/** [B, H, L, d] → [B, L, H·d]. */
export function mergeHeads(g: GraphBuilder, x: Value): Value {
  return op.reshape(g, op.transpose(g, x, [0, 2, 1, 3]), [0, 0, -1]);
}

/** int64 [L] = 0 … L−1 where L = dim 1 of `tokens`. */
export function positions(g: GraphBuilder, tokens: Value): Value {
  const length = op.squeeze(g, op.shape(g, tokens, { start: 1, end: 2 }), [0]);
  return g.node('Range', [op.scalar(g, 0, 'int64'), length, op.scalar(g, 1, 'int64')])[0];
}
