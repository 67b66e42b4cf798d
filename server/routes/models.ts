/**
 * `/models`, `/models/{folder}`, `/experiment/models[/{folder}]`, `/view_metadata/{folder}`
 * (spec §1.6, §1.7).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Router } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { SUPPORTED_PT_EXTENSIONS, walkFiles } from '../../compat/folder-paths.js';
import sharp from 'sharp';
import { containedPath } from '../../compat/safe-path.js';
import { queryParam } from '../http/body.js';
import type { ServerContext } from '../context.js';

export function registerModelRoutes(router: Router, ctx: ServerContext): void {
  const knownFolder = (folder: string) => {
    if (!ctx.folders.folderNames().includes(folder)) throw new HttpError(ERRORS.MODEL_FOLDER_UNKNOWN, { vars: { value: folder } });
    return folder;
  };

  router.get('/models', (_req, res) => {
    res.json(ctx.folders.folderNames());
  });
  router.get('/models/:folder', (req, res) => {
    res.json(ctx.folders.listFiles(knownFolder(String(req.params['folder']))));
  });
  router.get('/experiment/models', (_req, res) => {
    const out = ctx.folders
      .folderNames()
      .filter((f) => f !== 'configs' && f !== 'custom_nodes')
      .map((name) => ({ name, folders: ctx.folders.searchRoots(name) ?? [], extensions: [...(ctx.folders.extensions(name) ?? [])].sort() }));
    res.json(out);
  });
  router.get('/experiment/models/:folder', (req, res) => {
    const folder = knownFolder(String(req.params['folder']));
    const roots = ctx.folders.searchRoots(folder) ?? [];
    res.json(roots.flatMap((root, pathIndex) => modelFileInfos(root, pathIndex)));
  });
  router.get('/experiment/models/preview/:folder/:pathIndex/*filename', async (req, res) => {
    const image = modelPreview(ctx, knownFolder(String(req.params['folder'])), String(req.params['pathIndex']), req.params['filename'] as unknown as string[]);
    if (!image) throw new HttpError(ERRORS.MODEL_PREVIEW_NOT_FOUND);
    let webp: Buffer;
    try {
      webp = await sharp(image).webp().toBuffer();
    } catch {
      throw new HttpError(ERRORS.MODEL_PREVIEW_NOT_FOUND);
    }
    res.type('image/webp').send(webp);
  });
  router.get('/view_metadata/:folder', (req, res) => {
    const filename = queryParam(req, 'filename');
    if (!filename || !filename.endsWith('.safetensors')) throw new HttpError(ERRORS.METADATA_NOT_FOUND);
    const file = ctx.folders.resolve(String(req.params['folder']), filename);
    const metadata = file ? safetensorsMetadata(file) : null;
    if (!metadata) throw new HttpError(ERRORS.METADATA_NOT_FOUND);
    res.json(metadata);
  });
}

interface ModelFileInfo {
  name: string;
  pathIndex: number;
  modified: number;
  created: number;
  size: number;
}

/** Model files (supported extensions, hidden entries and `.git` skipped), following symlinks. */
function modelFileInfos(root: string, pathIndex: number): ModelFileInfo[] {
  return walkFiles(root, (name) => name.startsWith('.'))
    .filter(({ abs }) => SUPPORTED_PT_EXTENSIONS.includes(path.extname(abs).toLowerCase()))
    .map(({ abs, stats }) => ({ name: path.relative(root, abs), pathIndex, modified: stats.mtimeMs / 1000, created: stats.ctimeMs / 1000, size: stats.size }));
}

const PREVIEW_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp'];

/**
 * A model's preview (ComfyUI's get_model_previews): `<model>.<image ext>`, then
 * `<model>.preview.<image ext>`, then the first `ssmd_cover_images` entry of a safetensors header.
 * Bad index → 400, a path escaping the root → 403, nothing found → null.
 */
function modelPreview(ctx: ServerContext, folder: string, pathIndex: string, segments: string[]): string | Buffer | null {
  const roots = ctx.folders.searchRoots(folder) ?? [];
  const index = /^\d+$/.test(pathIndex) ? Number(pathIndex) : -1;
  if (index < 0 || index >= roots.length) throw new HttpError(ERRORS.MODEL_PREVIEW_BAD_INDEX, { vars: { value: pathIndex, count: String(roots.length) } });
  const model = containedPath(roots[index]!, [segments.join('/')]);
  if (!model.ok) throw new HttpError(ERRORS.FILE_SUBFOLDER_ESCAPE, { vars: { dir: folder } });
  const base = model.path.slice(0, model.path.length - path.extname(model.path).length);
  for (const stem of [base, `${base}.preview`]) {
    for (const ext of PREVIEW_EXTENSIONS) if (fs.existsSync(stem + ext)) return stem + ext;
  }
  const covers = safetensorsMetadata(`${base}.safetensors`, 8 * 1024 * 1024)?.['ssmd_cover_images'];
  try {
    const list: unknown = typeof covers === 'string' ? JSON.parse(covers) : null;
    if (Array.isArray(list) && typeof list[0] === 'string') return Buffer.from(list[0], 'base64');
  } catch {
    // unreadable cover list: no preview
  }
  return null;
}

/** The `__metadata__` object of a safetensors header (header capped at 1 MiB), else null. */
export function safetensorsMetadata(file: string, maxHeaderBytes = 1024 * 1024): Record<string, unknown> | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const lenBuf = Buffer.alloc(8);
    if (fs.readSync(fd, lenBuf, 0, 8, 0) !== 8) return null;
    const len = Number(lenBuf.readBigUInt64LE(0));
    if (len > maxHeaderBytes) return null;
    const header = Buffer.alloc(len);
    fs.readSync(fd, header, 0, len, 8);
    const parsed = JSON.parse(header.toString('utf8')) as Record<string, unknown>;
    const meta = parsed['__metadata__'];
    return meta && typeof meta === 'object' ? (meta as Record<string, unknown>) : null;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
