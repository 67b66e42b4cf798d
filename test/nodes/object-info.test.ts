/**
 * `/object_info` entries of built-in nodes compared with ComfyUI's own definitions (written out
 * by hand from ComfyUI's nodes.py and comfy_extras/nodes_sd3.py, V1 wire shape as server.py
 * builds it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinNodes, createBuiltinRegistry } from '../../nodes/builtins.js';
import { toNodeDefWire } from '../../nodes/registry.js';
import { makeTestEnv } from '../helpers/env.js';

const env = makeTestEnv();
fs.writeFileSync(path.join(env.folders.inputDir, 'example.png'), '');
fs.writeFileSync(path.join(env.folders.inputDir, 'a.jpg'), '');
fs.writeFileSync(path.join(env.folders.inputDir, 'x.latent'), '');

const MAX = 16384;

const COMFY: Record<string, Record<string, unknown>> = {
  SaveImage: {
    input: {
      required: {
        images: ['IMAGE', { tooltip: 'The images to save.' }],
        filename_prefix: [
          'STRING',
          {
            default: 'ComfyUI',
            tooltip:
              'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.',
          },
        ],
      },
      hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
    },
    input_order: { required: ['images', 'filename_prefix'], hidden: ['prompt', 'extra_pnginfo'] },
    is_input_list: false,
    output: ['IMAGE'],
    output_is_list: [false],
    output_name: ['images'],
    name: 'SaveImage',
    display_name: 'Save Image',
    description: 'Saves the input images to your ComfyUI output directory.',
    python_module: 'nodes',
    category: 'image',
    output_node: true,
    search_aliases: ['save', 'save image', 'export image', 'output image', 'write image', 'download'],
  },
  LoadImage: {
    input: { required: { image: [['a.jpg', 'example.png'], { image_upload: true }] } },
    input_order: { required: ['image'] },
    is_input_list: false,
    output: ['IMAGE', 'MASK'],
    output_is_list: [false, false],
    output_name: ['IMAGE', 'MASK'],
    name: 'LoadImage',
    display_name: 'Load Image',
    description: '',
    python_module: 'nodes',
    category: 'image',
    output_node: false,
    search_aliases: ['load image', 'open image', 'import image', 'image input', 'upload image', 'read image', 'image loader'],
  },
  // A V3 node: ComfyUI sends display_name null here (no display name set); Comfy8 sends the class name.
  EmptySD3LatentImage: {
    input: {
      required: {
        width: ['INT', { default: 1024, min: 16, max: MAX, step: 16 }],
        height: ['INT', { default: 1024, min: 16, max: MAX, step: 16 }],
        batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
      },
    },
    input_order: { required: ['width', 'height', 'batch_size'] },
    is_input_list: false,
    output: ['LATENT'],
    output_is_list: [false],
    output_name: ['LATENT'],
    name: 'EmptySD3LatentImage',
    description: '',
    python_module: 'comfy_extras.nodes_sd3',
    category: 'model/latent/stable diffusion',
    output_node: false,
  },
  ImageScale: {
    input: {
      required: {
        image: ['IMAGE'],
        upscale_method: [['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos']],
        width: ['INT', { default: 512, min: 0, max: MAX, step: 1 }],
        height: ['INT', { default: 512, min: 0, max: MAX, step: 1 }],
        crop: [['disabled', 'center']],
      },
    },
    input_order: { required: ['image', 'upscale_method', 'width', 'height', 'crop'] },
    is_input_list: false,
    output: ['IMAGE'],
    output_is_list: [false],
    output_name: ['IMAGE'],
    name: 'ImageScale',
    display_name: 'Upscale Image',
    description: '',
    python_module: 'nodes',
    category: 'image/upscaling',
    output_node: false,
    search_aliases: ['resize', 'resize image', 'scale image', 'image resize', 'zoom', 'zoom in', 'change size'],
  },
};

describe('object_info matches ComfyUI', () => {
  const registry = createBuiltinRegistry();
  for (const [name, expected] of Object.entries(COMFY)) {
    it(name, () => {
      const wire = toNodeDefWire(registry.get(name)!, env) as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(expected)) expect({ key, value: wire[key] }).toEqual({ key, value });
    });
  }

  it('lists .latent files for LoadLatent and marks output nodes', () => {
    const info = registry.objectInfo(env);
    expect(info.LoadLatent!.input.required!.latent).toEqual([['x.latent']]);
    const outputs = Object.values(info).filter((d) => d.output_node).map((d) => d.name).sort();
    expect(outputs).toEqual(['PreviewImage', 'SaveImage', 'SaveLatent']);
  });
});

describe('builtinNodes', () => {
  it('has every built-in node once, each with a valid definition', () => {
    const names = builtinNodes().map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(
      [
        'EmptyImage', 'EmptyLatentImage', 'EmptySD3LatentImage', 'ImageBatch', 'ImageCrop', 'ImageInvert', 'ImagePadForOutpaint',
        'ImageScale', 'ImageScaleBy', 'ImageToMask', 'InvertMask', 'LatentFromBatch', 'LatentUpscale', 'LatentUpscaleBy', 'LoadImage',
        'LoadImageMask', 'LoadLatent', 'MaskToImage', 'PreviewImage', 'RepeatLatentBatch', 'SaveImage', 'SaveLatent', 'SolidMask',
        // sampling and model nodes (nodes/sampling/index.ts)
        'KSampler', 'KSamplerAdvanced', 'UNETLoader', 'ModelSamplingSD3', 'SamplerCustom', 'SamplerCustomAdvanced', 'KSamplerSelect',
        'BasicScheduler', 'SplitSigmas', 'BasicGuider', 'CFGGuider', 'RandomNoise', 'DisableNoise',
        // loaders, text encoding and VAE nodes (nodes/loaders, nodes/conditioning, nodes/vae)
        'CheckpointLoaderSimple', 'CLIPLoader', 'DualCLIPLoader', 'TripleCLIPLoader', 'VAELoader',
        'CLIPTextEncode', 'CLIPTextEncodeSD3', 'ConditioningZeroOut', 'ConditioningCombine', 'ConditioningConcat',
        'ConditioningAverage', 'ConditioningSetTimestepRange',
        'VAEDecode', 'VAEEncode', 'VAEDecodeTiled', 'VAEEncodeTiled', 'VAEEncodeForInpaint', 'SetLatentNoiseMask',
      ].sort(),
    );
    const info = createBuiltinRegistry().objectInfo(env);
    expect(Object.keys(info)).toHaveLength(names.length);
    for (const def of Object.values(info)) {
      expect(typeof def.display_name).toBe('string');
      expect(def.category).not.toBe('');
      expect(def.output_name).toHaveLength(def.output.length);
    }
  });
});
