// Types of latent-math.js for TypeScript consumers (the pack's tests).
import type { Tensor } from 'comfy8/node-api';

export type BlendMode = 'normal' | 'add' | 'subtract';
export interface Summary {
  mean: number;
  std: number;
  min: number;
  max: number;
}
export function valuesOf(t: Tensor): Float32Array;
export function blend(a: Tensor, b: Tensor, factor: number, mode: BlendMode): Tensor<'float32'>;
export function scale(t: Tensor, factor: number): Tensor<'float32'>;
export function standardize(t: Tensor, std: number): Tensor<'float32'>;
export function summarize(v: Float32Array): Summary;
export function statsText(t: Tensor): string;
