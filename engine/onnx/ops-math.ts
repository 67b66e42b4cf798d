/**
 * Elementwise, matrix and reduction ops (ONNX opset 21 signatures). Each returns its output name.
 * Shape-like arguments accept either a graph value or a plain number list (written as an int64 constant).
 */
import type { DType } from '../tensor.js';
import { onnxDataType } from './dtype-codes.js';
import { asFloat, type GraphBuilder, type Value } from './graph-builder.js';

/** A 1-D int64 constant (shapes, axes, pads) — or the value itself when one is given. */
export function int64s(g: GraphBuilder, values: readonly number[] | Value, nameHint = 'ints'): Value {
  if (typeof values === 'string') return values;
  return g.constant({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) }, nameHint);
}

/** A rank-0 constant of a float dtype (float32 unless told). */
export function scalar(g: GraphBuilder, value: number, dtype: 'float32' | 'int64' = 'float32'): Value {
  if (dtype === 'int64') return g.constant({ dtype, shape: [], data: BigInt64Array.of(BigInt(value)) }, 'scalar');
  return g.constant({ dtype, shape: [], data: Float32Array.of(value) }, 'scalar');
}

const unary = (op: string) => (g: GraphBuilder, x: Value): Value => g.node(op, [x])[0];
const binary = (op: string) => (g: GraphBuilder, a: Value, b: Value): Value => g.node(op, [a, b])[0];

export const add = binary('Add');
export const sub = binary('Sub');
export const mul = binary('Mul');
export const div = binary('Div');
export const pow = binary('Pow');
export const equal = binary('Equal');
export const less = binary('Less');
export const sqrt = unary('Sqrt');
export const neg = unary('Neg');
export const exp = unary('Exp');
export const tanh = unary('Tanh');
export const erf = unary('Erf');
export const sigmoid = unary('Sigmoid');
export const identity = unary('Identity');

/** MatMul with numpy broadcasting of leading (batch) dims — also the batched matmul of attention. */
export const matMul = binary('MatMul');

export interface GemmOptions {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

/** Y = alpha·A'·B' + beta·C for 2-D A and B; `transB` suits Linear weights stored [out, in]. */
export function gemm(g: GraphBuilder, a: Value, b: Value, c?: Value, opts: GemmOptions = {}): Value {
  return g.node('Gemm', c ? [a, b, c] : [a, b], {
    alpha: opts.alpha === undefined ? undefined : asFloat(opts.alpha),
    beta: opts.beta === undefined ? undefined : asFloat(opts.beta),
    transA: opts.transA ? 1 : undefined,
    transB: opts.transB ? 1 : undefined,
  })[0];
}

export function where(g: GraphBuilder, condition: Value, a: Value, b: Value): Value {
  return g.node('Where', [condition, a, b])[0];
}

export function cast(g: GraphBuilder, x: Value, to: DType, opts: { saturate?: boolean } = {}): Value {
  return g.node('Cast', [x], { to: onnxDataType(to), saturate: opts.saturate === false ? 0 : undefined })[0];
}

/** Mean over `axes` (opset 18+: axes is an input). keepdims defaults to true, as ONNX's. */
export function reduceMean(g: GraphBuilder, x: Value, axes: readonly number[], opts: { keepdims?: boolean } = {}): Value {
  return g.node('ReduceMean', [x, int64s(g, axes, 'axes')], { keepdims: opts.keepdims === false ? 0 : 1 })[0];
}

export function softmax(g: GraphBuilder, x: Value, axis = -1): Value {
  return g.node('Softmax', [x], { axis })[0];
}

export function einsum(g: GraphBuilder, equation: string, inputs: readonly Value[]): Value {
  return g.node('Einsum', inputs, { equation })[0];
}
