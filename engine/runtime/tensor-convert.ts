/**
 * Engine Tensor ↔ onnxruntime Tensor. Data is shared, not copied, where the layouts agree
 * (fp16 travels as raw bits in a Uint16Array, int64 as a BigInt64Array).
 */
import * as ort from 'onnxruntime-node';
import type { DType, Tensor } from '../tensor.js';

/** Engine dtypes that onnxruntime-node can take as run-time inputs/outputs. */
const ORT_TYPE_OF: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  uint8: 'uint8',
  bool: 'bool',
};

const DTYPE_OF = Object.fromEntries(Object.entries(ORT_TYPE_OF).map(([d, o]) => [o, d])) as Partial<Record<string, DType>>;

export const FEEDABLE_DTYPES = Object.keys(ORT_TYPE_OF) as DType[];

export function ortTypeOf(dtype: DType): ort.Tensor.Type {
  const type = ORT_TYPE_OF[dtype];
  if (type === undefined) {
    throw new Error(
      `onnxruntime-node cannot take a ${dtype} tensor as a run input or output; use one of ${FEEDABLE_DTYPES.join(', ')} ` +
        `(cast with engine/dtypes castTensor, or keep FP8/bf16 data as initializers)`,
    );
  }
  return type;
}

/** The engine dtype of an onnxruntime type name, or undefined when the engine has none. */
export function engineDTypeOf(type: string): DType | undefined {
  return DTYPE_OF[type];
}

export function toOrtTensor(t: Tensor): ort.Tensor {
  const type = ortTypeOf(t.dtype);
  return new ort.Tensor(type, t.data as ort.Tensor.DataTypeMap[typeof type], [...t.shape]);
}

export function fromOrtTensor(name: string, t: ort.Tensor): Tensor {
  const dtype = engineDTypeOf(t.type);
  if (dtype === undefined) throw new Error(`output '${name}' has onnxruntime type ${t.type}, which has no engine dtype`);
  const shape = t.dims.map(Number);
  const raw = t.data as ArrayBufferView & { length: number };
  // onnxruntime may hand fp16 back as a Float16Array where the platform has one; keep raw bits.
  if (dtype === 'float16' && !(raw instanceof Uint16Array)) {
    return { dtype, shape, data: new Uint16Array(raw.buffer, raw.byteOffset, raw.length) };
  }
  return { dtype, shape, data: raw as Tensor['data'] };
}
