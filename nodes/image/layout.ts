/**
 * Moving the channel axis: IMAGE tensors are channels-last `[B, H, W, C]`; ComfyUI's resize
 * helpers (and latents) are channels-first `[B, C, H, W]`.
 */
import { tensor, type Tensor } from '../../engine/tensor.js';

export function toChannelsFirst(image: Tensor<'float32'>): Tensor<'float32'> {
  const [b, h, w, c] = image.shape as [number, number, number, number];
  const out = new Float32Array(image.data.length);
  const plane = h * w;
  for (let n = 0; n < b; n++) {
    const base = n * plane * c;
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < c; ch++) out[base + ch * plane + p] = image.data[base + p * c + ch]!;
    }
  }
  return tensor('float32', [b, c, h, w], out);
}

export function toChannelsLast(samples: Tensor<'float32'>): Tensor<'float32'> {
  const [b, c, h, w] = samples.shape as [number, number, number, number];
  const out = new Float32Array(samples.data.length);
  const plane = h * w;
  for (let n = 0; n < b; n++) {
    const base = n * plane * c;
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < c; ch++) out[base + p * c + ch] = samples.data[base + ch * plane + p]!;
    }
  }
  return tensor('float32', [b, h, w, c], out);
}
