/**
 * Engine dtypes ↔ ONNX `TensorProto.DataType` codes (onnx.proto). FP8 codes are the ones
 * spec/sd3-engine.md §6.1 names: FLOAT8E4M3FN = 17, FLOAT8E5M2 = 19.
 */
import type { DType } from '../tensor.js';

export const ONNX_DATA_TYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  bfloat16: 16,
  float8_e4m3fn: 17,
  float8_e5m2: 19,
};

export function onnxDataType(dtype: DType): number {
  const code = ONNX_DATA_TYPE[dtype];
  if (code === undefined) {
    throw new Error(`onnxDataType: unknown dtype '${dtype}'; expected one of ${Object.keys(ONNX_DATA_TYPE).join(', ')}`);
  }
  return code;
}

export function dtypeFromOnnx(code: number): DType {
  for (const [dtype, c] of Object.entries(ONNX_DATA_TYPE)) if (c === code) return dtype as DType;
  throw new Error(`dtypeFromOnnx: ONNX data type ${code} has no engine dtype`);
}
