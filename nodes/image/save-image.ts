/**
 * SaveImage and PreviewImage (ComfyUI `nodes.py`): PNG files with the prompt and workflow in
 * text chunks, named `<prefix>_<counter:05>_.png`, reported in the node's UI output.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { getSaveImagePath } from '../../compat/filename-prefix.js';
import type { PngTextEntry } from '../../compat/png-text.js';
import { pythonJsonDumps } from '../../compat/python-json.js';
import type { Tensor } from '../../engine/tensor.js';
import { encodeImagePng, imageDims } from '../image-io.js';
import { defineNode, type ExecutionContext, type NodeReturn } from '../node-api.js';

interface SaveImageInputs {
  images: Tensor<'float32'>;
  filename_prefix?: string;
  prompt?: unknown;
  extra_pnginfo?: Record<string, unknown> | null;
}

export interface SavedFile {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp';
}

interface SaveTarget {
  directory: string;
  type: 'output' | 'temp';
  compressionLevel: number;
  prefixAppend: string;
}

/** The PNG text chunks ComfyUI writes: `prompt`, then one per extra_pnginfo key (JSON, Python style). */
export function metadataChunks(prompt: unknown, extraPnginfo: Record<string, unknown> | null | undefined): PngTextEntry[] {
  const text: PngTextEntry[] = [];
  if (prompt !== undefined && prompt !== null) text.push({ keyword: 'prompt', text: pythonJsonDumps(prompt) });
  if (extraPnginfo) {
    for (const [key, value] of Object.entries(extraPnginfo)) text.push({ keyword: key, text: pythonJsonDumps(value) });
  }
  return text;
}

export async function saveImages(inputs: SaveImageInputs, ctx: ExecutionContext, target: SaveTarget): Promise<SavedFile[]> {
  const { images } = inputs;
  const { batch, height, width } = imageDims(images);
  const prefix = (inputs.filename_prefix ?? 'ComfyUI') + target.prefixAppend;
  const where = getSaveImagePath(prefix, target.directory, { imageWidth: width, imageHeight: height });
  const text = ctx.env.disableMetadata ? [] : metadataChunks(inputs.prompt, inputs.extra_pnginfo);
  const results: SavedFile[] = [];
  let counter = where.counter;
  for (let b = 0; b < batch; b++) {
    ctx.checkInterrupt();
    const png = await encodeImagePng(images, b, { compressionLevel: target.compressionLevel, text });
    const base = where.filename.replaceAll('%batch_num%', String(b));
    const file = `${base}_${String(counter).padStart(5, '0')}_.png`;
    await fs.writeFile(path.join(where.fullOutputFolder, file), png);
    results.push({ filename: file, subfolder: where.subfolder, type: target.type });
    counter += 1;
  }
  return results;
}

const FILENAME_PREFIX_TOOLTIP =
  'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.';

export const SaveImage = defineNode<SaveImageInputs>({
  name: 'SaveImage',
  displayName: 'Save Image',
  description: 'Saves the input images to your ComfyUI output directory.',
  category: 'image',
  searchAliases: ['save', 'save image', 'export image', 'output image', 'write image', 'download'],
  inputTypes: {
    required: {
      images: ['IMAGE', { tooltip: 'The images to save.' }],
      filename_prefix: ['STRING', { default: 'ComfyUI', tooltip: FILENAME_PREFIX_TOOLTIP }],
    },
    hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
  },
  returnTypes: ['IMAGE'],
  returnNames: ['images'],
  outputNode: true,
  async execute(inputs, ctx): Promise<NodeReturn> {
    const images = await saveImages(inputs, ctx, {
      directory: ctx.env.folders.outputDir,
      type: 'output',
      compressionLevel: 4,
      prefixAppend: '',
    });
    return { ui: { images }, result: [inputs.images] };
  },
});

/** ComfyUI's alphabet for the preview suffix (sic: two `p`, no `w`). */
const PREVIEW_ALPHABET = 'abcdefghijklmnopqrstupvxyz';

export function previewSuffix(random: () => number = Math.random): string {
  let s = '_temp_';
  for (let i = 0; i < 5; i++) s += PREVIEW_ALPHABET[Math.floor(random() * PREVIEW_ALPHABET.length)];
  return s;
}

export const PreviewImage = defineNode<SaveImageInputs>({
  name: 'PreviewImage',
  displayName: 'Preview Image',
  description: 'Preview the images without saving them to the ComfyUI output directory.',
  category: 'image',
  searchAliases: ['preview', 'preview image', 'show image', 'view image', 'display image', 'image viewer'],
  inputTypes: {
    required: { images: ['IMAGE'] },
    hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
  },
  returnTypes: ['IMAGE'],
  returnNames: ['images'],
  outputNode: true,
  async execute(inputs, ctx): Promise<NodeReturn> {
    const images = await saveImages(
      { ...inputs, filename_prefix: 'ComfyUI' },
      ctx,
      { directory: ctx.env.folders.tempDir, type: 'temp', compressionLevel: 1, prefixAppend: previewSuffix() },
    );
    return { ui: { images }, result: [inputs.images] };
  },
});
