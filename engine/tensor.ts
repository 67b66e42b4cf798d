/**
 * The engine's one tensor type: a dtype, a shape and the raw elements in a typed array.
 *
 * Storage per dtype (DESIGN.md): float32 → Float32Array, float16/bfloat16 → Uint16Array (raw bits),
 * float8_e4m3fn/float8_e5m2 → Uint8Array (raw bits), int64 → BigInt64Array, int32 → Int32Array,
 * uint8/bool → Uint8Array. Conversions between float types live in `engine/dtypes.ts`.
 *
 * Example (a 2×3 float32 tensor):
 *   { dtype: 'float32', shape: [2, 3], data: Float32Array(6) }
 */
export type DType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float8_e4m3fn'
  | 'float8_e5m2'
  | 'int64'
  | 'int32'
  | 'uint8'
  | 'bool';

export interface TensorDataMap {
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  float8_e4m3fn: Uint8Array;
  float8_e5m2: Uint8Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TensorDataMap[D];
}

export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float8_e4m3fn: 1,
  float8_e5m2: 1,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

export const FLOAT_DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16', 'float8_e4m3fn', 'float8_e5m2'];

export function isFloatDType(dtype: DType): boolean {
  return FLOAT_DTYPES.includes(dtype);
}

export function isFp8DType(dtype: DType): dtype is 'float8_e4m3fn' | 'float8_e5m2' {
  return dtype === 'float8_e4m3fn' || dtype === 'float8_e5m2';
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocData<D extends DType>(dtype: D, n: number): TensorDataMap[D] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n) as TensorDataMap[D];
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(n) as TensorDataMap[D];
    case 'int64':
      return new BigInt64Array(n) as TensorDataMap[D];
    case 'int32':
      return new Int32Array(n) as TensorDataMap[D];
    default:
      return new Uint8Array(n) as TensorDataMap[D];
  }
}

export function zeros<D extends DType>(dtype: D, shape: readonly number[]): Tensor<D> {
  return { dtype, shape: [...shape], data: allocData(dtype, numel(shape)) };
}

/** Wraps existing data; throws when the element count does not match the shape. */
export function tensor<D extends DType>(dtype: D, shape: readonly number[], data: TensorDataMap[D]): Tensor<D> {
  const n = numel(shape);
  if (data.length !== n) {
    throw new Error(`tensor: shape [${shape.join(', ')}] needs ${n} elements, got ${data.length}`);
  }
  return { dtype, shape: [...shape], data };
}

export function isTensor(value: unknown): value is Tensor {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Partial<Tensor>;
  return typeof t.dtype === 'string' && Array.isArray(t.shape) && ArrayBuffer.isView(t.data);
}
