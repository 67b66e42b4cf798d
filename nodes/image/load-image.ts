/**
 * LoadImage and LoadImageMask (ComfyUI `nodes.py`): read a file from the input directory (or an
 * annotated `"x.png [output]"` / `"x.png [temp]"` name) into IMAGE + MASK.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FolderPaths } from '../../compat/folder-paths.js';
import { containedPath } from '../../compat/safe-path.js';
import { tensor, zeros, type Tensor } from '../../engine/tensor.js';
import { decodeImageFile } from '../image-io.js';
import { defineNode, type InputTypes, type NodeEnvironment } from '../node-api.js';

/** Extensions Python's `mimetypes` maps to `image/*` (ComfyUI filters the input list by that). */
const IMAGE_EXTENSIONS = new Set([
  '.png', '.jpg', '.jpeg', '.jpe', '.jfif', '.gif', '.bmp', '.webp', '.tif', '.tiff', '.ico', '.svg',
  '.avif', '.heic', '.heif', '.pbm', '.pgm', '.ppm', '.pnm', '.ras', '.rgb', '.xbm', '.xpm', '.xwd', '.ief',
]);

/** Files (not folders) directly in `dir` that look like images, sorted. */
export function listInputFiles(dir: string, extensions: ReadonlySet<string> | null): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const full = path.join(dir, e.name);
    let isFile = e.isFile();
    if (e.isSymbolicLink()) isFile = fs.statSync(full, { throwIfNoEntry: false })?.isFile() ?? false;
    if (!isFile) continue;
    if (extensions && !extensions.has(path.extname(e.name).toLowerCase())) continue;
    out.push(e.name);
  }
  return out.sort();
}

export function listInputImages(env: NodeEnvironment): string[] {
  return listInputFiles(env.folders.inputDir, IMAGE_EXTENSIONS);
}

/**
 * ComfyUI's `get_annotated_filepath`: an optional `[input|output|temp]` suffix picks the folder,
 * the rest is a path inside it. Returns null for names that would leave the folder.
 */
export function annotatedFilePath(folders: FolderPaths, name: string, defaultType: 'input' | 'output' | 'temp' = 'input'): string | null {
  const { name: rel, type } = folders.annotated(name, defaultType);
  if (rel === '') return null;
  const contained = containedPath(folders.getDirectory(type), [rel]);
  return contained.ok ? contained.path : null;
}

/** A regular file (a directory named like an image is not one). */
function isRegularFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function annotatedFileExists(folders: FolderPaths, name: string): boolean {
  const file = annotatedFilePath(folders, name);
  return file !== null && isRegularFile(file);
}

export function requireAnnotatedFile(folders: FolderPaths, name: string, what: string): string {
  const file = annotatedFilePath(folders, name);
  if (file === null) throw new Error(`Invalid file path: ${JSON.stringify(name)}`);
  if (!isRegularFile(file)) throw new Error(`${what} not found: ${name}`);
  return file;
}

/** IS_CHANGED of the file loaders: the sha256 of the file, NaN (= always re-run) if unreadable. */
export function fileSha256(folders: FolderPaths, name: unknown): string | number {
  if (typeof name !== 'string') return Number.NaN;
  const file = annotatedFilePath(folders, name);
  if (file === null) return Number.NaN;
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return Number.NaN;
  }
}

function imageInputTypes(env: NodeEnvironment): InputTypes {
  return { required: { image: [listInputImages(env), { image_upload: true }] } };
}

interface LoadImageInputs {
  image: string;
}

export async function loadImageTensors(env: NodeEnvironment, name: string): Promise<{ image: Tensor<'float32'>; mask: Tensor<'float32'> }> {
  const file = requireAnnotatedFile(env.folders, name, 'Image file');
  return decodeImageFile(file);
}

/**
 * VALIDATE_INPUTS of the image loaders: replaces the combo check, so `"sub/x.png"` and annotated
 * names pass when the file exists.
 */
const imageValidator = {
  inputs: ['image'] as const,
  fn: (inputs: { image?: unknown }, _inputTypes: Record<string, string> | undefined, env: NodeEnvironment): boolean | string => {
    const folders = env.folders;
    const image = inputs.image;
    if (typeof image !== 'string' || !annotatedFileExists(folders, image)) return `Invalid image file: ${String(image)}`;
    return true;
  },
};

export const LoadImage = defineNode<LoadImageInputs>({
  name: 'LoadImage',
  displayName: 'Load Image',
  category: 'image',
  searchAliases: ['load image', 'open image', 'import image', 'image input', 'upload image', 'read image', 'image loader'],
  inputTypes: imageInputTypes,
  returnTypes: ['IMAGE', 'MASK'],
  async execute({ image }, ctx) {
    const loaded = await loadImageTensors(ctx.env, image);
    return [loaded.image, loaded.mask];
  },
  isChanged: (inputs, env) => fileSha256(env.folders, inputs.image),
  validateInputs: imageValidator,
});

const MASK_CHANNELS = ['alpha', 'red', 'green', 'blue'] as const;

interface LoadImageMaskInputs {
  image: string;
  channel: (typeof MASK_CHANNELS)[number];
}

/** One colour channel of an IMAGE `[B, H, W, C]` as a MASK `[B, H, W]`. */
export function imageChannel(image: Tensor<'float32'>, channel: number): Tensor<'float32'> {
  const [b, h, w, c] = image.shape as [number, number, number, number];
  if (channel >= c) return zeros('float32', [b, h, w]);
  const out = new Float32Array(b * h * w);
  for (let p = 0; p < out.length; p++) out[p] = image.data[p * c + channel]!;
  return tensor('float32', [b, h, w], out);
}

export const LoadImageMask = defineNode<LoadImageMaskInputs>({
  name: 'LoadImageMask',
  displayName: 'Load Image (as Mask)',
  category: 'image',
  searchAliases: ['import mask', 'alpha mask', 'channel mask'],
  inputTypes: (env) => ({ required: { ...imageInputTypes(env).required, channel: [[...MASK_CHANNELS]] } }),
  returnTypes: ['MASK'],
  async execute({ image, channel }, ctx) {
    const loaded = await loadImageTensors(ctx.env, image);
    const c = channel[0]!.toUpperCase();
    if (c === 'A') return [loaded.mask];
    const index = ({ R: 0, G: 1, B: 2 } as Record<string, number>)[c] ?? 0;
    return [imageChannel(loaded.image, index)];
  },
  isChanged: (inputs, env) => fileSha256(env.folders, inputs.image),
  validateInputs: imageValidator,
});
