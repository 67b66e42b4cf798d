/**
 * The LATENT value and batch-axis helpers shared by the latent nodes.
 * LATENT = `{ samples: float32 [B, C, H/8, W/8], batch_index?, noise_mask?, … }` (ComfyUI's dict;
 * unknown keys such as `downscale_ratio_spacial` are carried along by copying).
 */
import { tensor, type Tensor } from '../../engine/tensor.js';

export interface Latent {
  samples: Tensor<'float32'>;
  batch_index?: number[];
  noise_mask?: Tensor<'float32'>;
  downscale_ratio_spacial?: number;
  [key: string]: unknown;
}

function batchStride(t: Tensor<'float32'>): number {
  return t.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** `t[start:start + length]` along the first axis. */
export function sliceBatch(t: Tensor<'float32'>, start: number, length: number): Tensor<'float32'> {
  const stride = batchStride(t);
  const data = t.data.slice(start * stride, (start + length) * stride);
  return tensor('float32', [length, ...t.shape.slice(1)], data);
}

/** `t.repeat(times, 1, 1, …)`: the whole batch, `times` times over. */
export function repeatBatch(t: Tensor<'float32'>, times: number): Tensor<'float32'> {
  const data = new Float32Array(t.data.length * times);
  for (let i = 0; i < times; i++) data.set(t.data, i * t.data.length);
  return tensor('float32', [t.shape[0]! * times, ...t.shape.slice(1)], data);
}

export function cloneTensor(t: Tensor<'float32'>): Tensor<'float32'> {
  return tensor('float32', t.shape, t.data.slice());
}
