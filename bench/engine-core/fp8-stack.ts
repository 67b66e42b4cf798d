/**
 * The benchmark's FP8 model: a stack of square Linear layers whose FP8 weights live in one
 * safetensors-layout file and reach onnxruntime as external data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as op from '../../engine/onnx/index.js';

export interface StackSpec {
  layers: number;
  dim: number;
}

export interface StackFile {
  file: string;
  /** Absolute byte offset of layer i's FP8 weight [dim, dim] in the file. */
  weightOffsets: number[];
  scaleOffsets: number[];
}

/**
 * Writes `layers` FP8 E4M3FN weights (|w| in [0.5, 2), random signs) and per-channel float32 scales
 * in safetensors layout: 8-byte header length, JSON header (odd length, so offsets are unaligned
 * like real files), then the tensors. Written in 16 MiB chunks, never whole in memory.
 */
export function writeStackFile(dir: string, spec: StackSpec): StackFile {
  const perWeight = spec.dim * spec.dim;
  const header: Record<string, unknown> = {};
  let cursor = 0;
  for (let i = 0; i < spec.layers; i++) {
    header[`blocks.${i}.weight`] = { dtype: 'F8_E4M3', shape: [spec.dim, spec.dim], data_offsets: [cursor, cursor + perWeight] };
    cursor += perWeight;
    header[`blocks.${i}.scale_weight`] = { dtype: 'F32', shape: [spec.dim], data_offsets: [cursor, cursor + 4 * spec.dim] };
    cursor += 4 * spec.dim;
  }
  const json = JSON.stringify(header) + '   ';
  const base = 8 + json.length;
  const file = path.join(dir, 'stack.safetensors');
  const fd = fs.openSync(file, 'w');
  try {
    const lengthField = Buffer.alloc(8);
    lengthField.writeBigUInt64LE(BigInt(json.length));
    fs.writeSync(fd, lengthField);
    fs.writeSync(fd, json);
    const chunk = Buffer.alloc(Math.min(perWeight, 16 << 20));
    let seed = 12345;
    const scale = Buffer.from(new Float32Array(spec.dim).fill(1 / (1.2 * Math.sqrt(spec.dim))).buffer);
    for (let i = 0; i < spec.layers; i++) {
      for (let written = 0; written < perWeight; written += chunk.length) {
        for (let j = 0; j < chunk.length; j++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          chunk[j] = 0x30 + ((seed >>> 16) & 0x0f) + ((seed >>> 8) & 0x80); // exponent 6..7: 0.5 ≤ |w| < 2
        }
        fs.writeSync(fd, chunk, 0, Math.min(chunk.length, perWeight - written));
      }
      fs.writeSync(fd, scale);
    }
  } finally {
    fs.closeSync(fd);
  }
  const weightOffsets = Array.from({ length: spec.layers }, (_, i) => base + i * (perWeight + 4 * spec.dim));
  return { file, weightOffsets, scaleOffsets: weightOffsets.map((o) => o + perWeight) };
}

export type StackVariant = 'matmul' | 'matmul-ordered' | 'gemm-hoisted' | 'gemm' | 'gemm-ordered';

export const STACK_VARIANTS: Readonly<Record<StackVariant, string>> = {
  matmul: 'MatMul(x, Transpose(DQ(W)))',
  'matmul-ordered': 'same + ordering trick',
  'gemm-hoisted': 'fp8Linear, all DQ emitted first',
  gemm: 'fp8Linear (Gemm transB)',
  'gemm-ordered': 'fp8Linear + ordering trick',
};

/** One Linear layer of the stack in the given form; x [1, tokens, dim], W [out, in] FP8. */
function layer(g: op.GraphBuilder, x: string, w: string, s: string, variant: StackVariant, hoistedWeight?: string): string {
  if (variant === 'gemm-hoisted') return op.linear(g, x, hoistedWeight ?? '');
  if (variant === 'gemm' || variant === 'gemm-ordered') return op.fp8Linear(g, x, w, s, { perChannel: true, ordered: variant === 'gemm-ordered' });
  const weight = variant === 'matmul-ordered' ? op.dequantizeAfter(g, w, s, x, { axis: 0 }) : op.dequantizeLinear(g, w, s, { axis: 0 });
  return op.matMul(g, x, op.transpose(g, weight, [1, 0]));
}

/**
 * x [1, tokens, dim] → layers × Linear(dim → dim): FP8 weights stored [out, in] with
 * per-output-channel scales, as the engine holds checkpoint Linear weights (see STACK_VARIANTS).
 */
export function buildStackModel(stack: StackFile, spec: StackSpec, variant: StackVariant): Uint8Array {
  const g = new op.GraphBuilder('fp8-stack');
  let x = g.input('x', 'float32', [1, 'tokens', spec.dim]);
  const location = path.basename(stack.file);
  const fp8 = Array.from({ length: spec.layers }, (_, i) => ({
    w: g.externalInitializer(`w${i}`, 'float8_e4m3fn', [spec.dim, spec.dim], { location, offset: stack.weightOffsets[i], length: spec.dim * spec.dim }),
    s: g.externalInitializer(`s${i}`, 'float32', [spec.dim], { location, offset: stack.scaleOffsets[i], length: 4 * spec.dim }),
  }));
  const hoisted = variant === 'gemm-hoisted' ? fp8.map(({ w, s }) => op.dequantizeLinear(g, w, s, { axis: 0 })) : [];
  for (let i = 0; i < spec.layers; i++) x = layer(g, x, fp8[i].w, fp8[i].s, variant, hoisted[i]); // [1, tokens, dim]
  g.output(x, 'float32', [1, 'tokens', spec.dim], 'y');
  return g.toBytes();
}
