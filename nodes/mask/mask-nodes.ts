/**
 * Mask nodes of ComfyUI's `comfy_extras/nodes_mask.py` (V3 schema: every input carries an
 * options object, combos use the `["COMBO", {options}]` form): SolidMask, InvertMask,
 * MaskToImage, ImageToMask. MASK = float32 `[B, H, W]` (a bare `[H, W]` is accepted).
 */
import { tensor, type Tensor } from '../../engine/tensor.js';
import { MAX_RESOLUTION } from '../constants.js';
import { imageDims } from '../image-io.js';
import { defineNode } from '../node-api.js';

const MODULE = 'comfy_extras.nodes_mask';
const IMAGE_CHANNELS = ['red', 'green', 'blue', 'alpha'] as const;

type Mask = Tensor<'float32'>;

/** ComfyUI's `mask.reshape((-1, H, W))`. */
export function asMaskBatch(mask: Mask): { batch: number; height: number; width: number } {
  if (mask.shape.length < 2) throw new Error(`a MASK needs at least 2 dimensions, got shape [${mask.shape.join(', ')}]`);
  const height = mask.shape[mask.shape.length - 2]!;
  const width = mask.shape[mask.shape.length - 1]!;
  return { batch: mask.data.length / (height * width), height, width };
}

export const SolidMask = defineNode<{ value: number; width: number; height: number }>({
  name: 'SolidMask',
  displayName: 'Create Solid Mask',
  category: 'image/mask',
  pythonModule: MODULE,
  inputTypes: {
    required: {
      value: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.01 }],
      width: ['INT', { default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }],
      height: ['INT', { default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }],
    },
  },
  returnTypes: ['MASK'],
  execute: ({ value, width, height }) => [tensor('float32', [1, height, width], new Float32Array(height * width).fill(value))],
});

export const InvertMask = defineNode<{ mask: Mask }>({
  name: 'InvertMask',
  displayName: 'Invert Mask',
  category: 'image/mask',
  pythonModule: MODULE,
  searchAliases: ['reverse mask', 'flip mask'],
  inputTypes: { required: { mask: ['MASK', {}] } },
  returnTypes: ['MASK'],
  execute: ({ mask }) => [tensor('float32', mask.shape, mask.data.map((v) => 1 - v))],
});

export const MaskToImage = defineNode<{ mask: Mask }>({
  name: 'MaskToImage',
  displayName: 'Convert Mask to Image',
  category: 'image/mask',
  pythonModule: MODULE,
  searchAliases: ['convert mask'],
  inputTypes: { required: { mask: ['MASK', {}] } },
  returnTypes: ['IMAGE'],
  execute({ mask }) {
    const { batch, height, width } = asMaskBatch(mask);
    const out = new Float32Array(mask.data.length * 3);
    for (let p = 0; p < mask.data.length; p++) out.fill(mask.data[p]!, p * 3, p * 3 + 3);
    return [tensor('float32', [batch, height, width, 3], out)];
  },
});

export const ImageToMask = defineNode<{ image: Tensor<'float32'>; channel: (typeof IMAGE_CHANNELS)[number] }>({
  name: 'ImageToMask',
  displayName: 'Convert Image to Mask',
  category: 'image/mask',
  pythonModule: MODULE,
  searchAliases: ['extract channel', 'channel to mask'],
  inputTypes: {
    required: {
      image: ['IMAGE', {}],
      channel: ['COMBO', { multiselect: false, options: [...IMAGE_CHANNELS] }],
    },
  },
  returnTypes: ['MASK'],
  execute({ image, channel }) {
    const { batch, height, width, channels } = imageDims(image);
    const index = IMAGE_CHANNELS.indexOf(channel);
    if (index < 0) throw new Error(`unknown channel '${channel}'; choose one of ${IMAGE_CHANNELS.join(', ')}`);
    if (index >= channels) throw new Error(`image has ${channels} channels, so it has no '${channel}' channel`);
    const out = new Float32Array(batch * height * width);
    for (let p = 0; p < out.length; p++) out[p] = image.data[p * channels + index]!;
    return [tensor('float32', [batch, height, width], out)];
  },
});
