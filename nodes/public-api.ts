/**
 * The public node API for custom node packs: `import { … } from 'comfy8/node-api'`.
 *
 * A pack declares nodes the ComfyUI way (INPUT_TYPES, RETURN_TYPES, FUNCTION, …; see
 * docs/plugins.md) and uses these types and helpers to work on the values that flow between
 * nodes. Everything here is plain data and pure functions, so a pack holding another copy of
 * this module (an editor, a test) behaves the same.
 *
 *   import { defineNodeClass, type Image, type InputTypes } from 'comfy8/node-api';
 *   export const Invert = defineNodeClass({
 *     INPUT_TYPES: (): InputTypes => ({ required: { image: ['IMAGE'] } }),
 *     RETURN_TYPES: ['IMAGE'],
 *     FUNCTION: 'invert',
 *     CATEGORY: 'image',
 *     invert({ image }: { image: Image }) { return [mapTensor(image, (v) => 1 - v)]; },
 *   });
 */
import { tensor, type Tensor } from '../engine/tensor.js';
import type { ComfyNodeClass, ComfyNodeFields } from './plugins/declaration.js';

export type { DType, Tensor, TensorDataMap } from '../engine/tensor.js';
export { BYTES_PER_ELEMENT, FLOAT_DTYPES, isFloatDType, isFp8DType, isTensor, numel, tensor, zeros } from '../engine/tensor.js';
export { castTensor, decodeToFloat32, encodeFromFloat32, toFloat32, float16ToFloat32, float32ToFloat16 } from '../engine/dtypes.js';
export type { ExecutionContext, HiddenKind, InputOptions, InputSpec, InputTypes, Logger, NodeEnvironment, NodeReturn, PreviewImage } from './node-api.js';
export { ExecutionBlocker, InterruptedError } from './node-api.js';
export type { ComfyNodeClass, ComfyNodeFields, NanPolicy } from './plugins/declaration.js';
/** The loader's own declaration check, for a pack's tests: throws naming pack, node and field. */
export { readDeclaration as checkNodeClass } from './plugins/declaration.js';

/** IMAGE: float32 [B, H, W, C], values 0..1. */
export type Image = Tensor<'float32'>;
/** MASK: float32 [B, H, W], values 0..1. */
export type Mask = Tensor<'float32'>;
/** LATENT: ComfyUI's dict; `samples` is [B, C, H/8, W/8] (FP8 only for nodes with ACCEPTS_FP8). */
export interface Latent {
  samples: Tensor;
  batch_index?: number[];
  noise_mask?: Tensor;
  [key: string]: unknown;
}
/** CONDITIONING: `[cond [B, T, D], { pooled_output, …options }]` pairs. */
export type Conditioning = [Tensor, Record<string, unknown>][];

/** What a pack exports as NODE_CLASS_MAPPINGS. */
export type NodeClassMappings = Record<string, ComfyNodeClass>;

/** Identity with types for a plain-object node declaration (classes need no helper). */
export function defineNodeClass<T extends ComfyNodeFields>(node: T): T {
  return node;
}

/** A new float32 tensor of the same shape with `fn` applied to every element. */
export function mapTensor(t: Tensor<'float32'>, fn: (value: number, index: number) => number): Tensor<'float32'> {
  const src = t.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = fn(src[i]!, i);
  return tensor('float32', t.shape, out);
}

/** Clamps to 0..1 (IMAGE/MASK outputs must stay in range); NaN stays NaN. */
export function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}
