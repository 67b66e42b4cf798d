/**
 * Writes a small .safetensors file for tests (format: 8-byte little-endian header length, JSON
 * header with dtype/shape/data_offsets, then the raw little-endian tensor bytes) and returns each
 * tensor's absolute byte range in the file — what an ONNX external-data reference needs.
 */
import * as fs from 'node:fs';
import type { Tensor } from '../../../engine/tensor.js';

const SAFETENSORS_DTYPE: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float8_e4m3fn: 'F8_E4M3', float8_e5m2: 'F8_E5M2', int64: 'I64' };

export interface ByteRange {
  offset: number;
  length: number;
}

export function writeSafetensors(file: string, tensors: Record<string, Tensor>): Record<string, ByteRange> {
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let cursor = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: SAFETENSORS_DTYPE[t.dtype], shape: t.shape, data_offsets: [cursor, cursor + bytes.length] };
    chunks.push(bytes);
    cursor += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8 + 3); // odd padding: offsets need not be aligned
  const lengthField = Buffer.alloc(8);
  lengthField.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([lengthField, Buffer.from(json), ...chunks]));
  const base = 8 + json.length;
  const ranges: Record<string, ByteRange> = {};
  for (const [name, info] of Object.entries(header) as Array<[string, { data_offsets: [number, number] }]>) {
    ranges[name] = { offset: base + info.data_offsets[0], length: info.data_offsets[1] - info.data_offsets[0] };
  }
  return ranges;
}
