/**
 * Conversions between the engine's dtypes, bit-exact with PyTorch's CPU `tensor.to(dtype)`.
 *
 * Float targets round to nearest even; see engine/fp8.ts and engine/half.ts for the overflow and
 * NaN rules of each format. Every cast goes through float32, which equals torch's direct cast:
 * torch itself converts bf16/f16/fp8 ⇄ fp8/f16/bf16 via float, and every fp8/f16/bf16 value is
 * exactly representable in float32. Integer → float rounds once (int64 beyond 2^53 included);
 * float → integer truncates toward zero like C++ `static_cast` (NaN → 0; uint8 wraps modulo 256,
 * as x86 does through int32; out-of-range int32/int64 values, undefined behaviour in C++, clamp).
 */
import { allocData, numel, type DType, type Tensor, type TensorDataMap } from './tensor.js';
import { decodeFp8Into, encodeFp8e4m3fn, encodeFp8e5m2 } from './fp8.js';
import { decodeBfloat16Into, decodeFloat16Into, encodeBfloat16, encodeFloat16 } from './half.js';

export {
  FP8_E4M3FN_MAX,
  FP8_E5M2_MAX,
  float32ToFp8e4m3fn,
  float32ToFp8e5m2,
  fp8e4m3fnToFloat32,
  fp8e5m2ToFloat32,
} from './fp8.js';
export { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from './half.js';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array;

function int64ToFloat32(value: bigint): number {
  const magnitude = value < 0n ? -value : value;
  if (magnitude <= 9007199254740992n) return Math.fround(Number(value));
  // Keep 25 significant bits plus a sticky bit so the one float32 rounding sees the whole value.
  const shift = BigInt(magnitude.toString(2).length - 25);
  const kept = magnitude >> shift;
  const sticky = magnitude & ((1n << shift) - 1n) ? 1n : 0n;
  const rounded = Math.fround(Number((kept << 1n) | sticky) * 2 ** (Number(shift) - 1));
  return value < 0n ? -rounded : rounded;
}

/**
 * float32 values of raw storage: `data` as `TensorDataMap[dtype]` holds it (Uint16 bits for
 * f16/bf16, Uint8 codes for fp8). Always returns a new array.
 */
export function decodeToFloat32(data: TypedArray, dtype: DType): Float32Array {
  const out = new Float32Array(data.length);
  decodeToFloat32Into(data, dtype, out);
  return out;
}

/** As decodeToFloat32, into a caller's buffer (reused buffers skip page faults on big tensors). */
export function decodeToFloat32Into(data: TypedArray, dtype: DType, out: Float32Array): void {
  if (out.length < data.length) {
    throw new Error(`decodeToFloat32Into: output holds ${out.length} values, input has ${data.length}`);
  }
  switch (dtype) {
    case 'float16':
      return decodeFloat16Into(data as Uint16Array, out);
    case 'bfloat16':
      return decodeBfloat16Into(data as Uint16Array, out);
    case 'float8_e4m3fn':
    case 'float8_e5m2':
      return decodeFp8Into(data as Uint8Array, dtype, out);
    case 'float32':
      // Through integer views so NaN payloads are copied untouched.
      new Uint32Array(out.buffer, out.byteOffset, data.length).set(new Uint32Array(data.buffer, data.byteOffset, data.length));
      return;
    case 'int64': {
      const ints = data as BigInt64Array;
      for (let i = 0; i < ints.length; i++) out[i] = int64ToFloat32(ints[i]);
      return;
    }
    default:
      // int32 / uint8 / bool: Float32Array assignment rounds each exact double once.
      out.set(data as Exclude<TypedArray, BigInt64Array>);
  }
}

function truncateToInt(x: number, min: number, max: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.min(max, Math.max(min, Math.trunc(x)));
}

function encodeInt64(src: Float32Array): BigInt64Array {
  const out = new BigInt64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    if (Number.isNaN(x)) continue;
    if (x >= 2 ** 63) out[i] = 0x7fffffffffffffffn;
    else if (x < -(2 ** 63)) out[i] = -0x8000000000000000n;
    else out[i] = BigInt(Math.trunc(x));
  }
  return out;
}

function encodeInt32(src: Float32Array): Int32Array {
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = truncateToInt(src[i], -(2 ** 31), 2 ** 31 - 1);
  return out;
}

function encodeUint8(src: Float32Array): Uint8Array {
  const out = new Uint8Array(src.length);
  // Uint8Array assignment wraps modulo 256 after truncation (ToUint8), like x86's int32 route.
  for (let i = 0; i < src.length; i++) out[i] = truncateToInt(src[i], -(2 ** 31), 2 ** 31 - 1);
  return out;
}

function encodeBool(src: Float32Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0; // NaN is truthy in torch
  return out;
}

/** Storage of `dtype` holding `src` converted as torch's `.to(dtype)` does. Always a new array. */
export function encodeFromFloat32<D extends DType>(src: Float32Array, dtype: D): TensorDataMap[D] {
  const encoders: { [K in DType]: (s: Float32Array) => TensorDataMap[K] } = {
    float32: (s) => decodeToFloat32(s, 'float32'),
    float16: encodeFloat16,
    bfloat16: encodeBfloat16,
    float8_e4m3fn: encodeFp8e4m3fn,
    float8_e5m2: encodeFp8e5m2,
    int64: encodeInt64,
    int32: encodeInt32,
    uint8: encodeUint8,
    bool: encodeBool,
  };
  const encode = encoders[dtype];
  if (!encode) throw new Error(`encodeFromFloat32: unknown dtype '${dtype}'; valid: ${Object.keys(encoders).join(', ')}`);
  return encode(src) as TensorDataMap[D];
}

/** The same tensor when already float32 (no copy), else a decoded copy. */
export function toFloat32(t: Tensor): Tensor<'float32'> {
  if (t.dtype === 'float32') return t as Tensor<'float32'>;
  return { dtype: 'float32', shape: [...t.shape], data: decodeToFloat32(t.data, t.dtype) };
}

function copyData<D extends DType>(t: Tensor<D>): TensorDataMap[D] {
  const out = allocData(t.dtype, numel(t.shape));
  (out as { set(a: ArrayLike<number | bigint>): void }).set(t.data as ArrayLike<number | bigint>);
  return out;
}

type IntDType = 'int64' | 'int32' | 'uint8' | 'bool';

function isIntDType(dtype: DType): dtype is IntDType {
  return dtype === 'int64' || dtype === 'int32' || dtype === 'uint8' || dtype === 'bool';
}

/** Integer → integer wraps to the target width, like C++ `static_cast`. */
function castIntData(t: Tensor, dtype: IntDType): TensorDataMap[IntDType] {
  const values: bigint[] =
    t.dtype === 'int64' ? Array.from(t.data as BigInt64Array) : Array.from(t.data as Int32Array, (v) => BigInt(v));
  switch (dtype) {
    case 'int64':
      return BigInt64Array.from(values);
    case 'int32':
      return Int32Array.from(values, (v) => Number(BigInt.asIntN(32, v)));
    case 'uint8':
      return Uint8Array.from(values, (v) => Number(BigInt.asUintN(8, v)));
    case 'bool':
      return Uint8Array.from(values, (v) => (v !== 0n ? 1 : 0));
  }
}

/**
 * `t.to(dtype)`: always a new tensor. Integer → integer stays integral (wrapping); everything else
 * goes through float32, exact as explained at the top of this file.
 */
export function castTensor(t: Tensor, dtype: DType): Tensor {
  const shape = [...t.shape];
  if (t.dtype === dtype) return { dtype, shape, data: copyData(t) };
  if (isIntDType(t.dtype) && isIntDType(dtype)) return { dtype, shape, data: castIntData(t, dtype) };
  return { dtype, shape, data: encodeFromFloat32(decodeToFloat32(t.data, t.dtype), dtype) };
}
