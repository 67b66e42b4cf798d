/**
 * `POST /upload/image` and `POST /upload/mask` (spec §1.6): multipart, memory storage with the
 * size limit, subfolder containment, overwrite or same-content dedupe or `name (1).ext`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response, Router } from 'express';
import multer from 'multer';
import sharp from 'sharp';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { statOrNull } from '../http/fs-safe.js';
import { pythonNormpath } from '../../compat/filename-prefix.js';
import { insertPngTextChunks, isPng, readPngTextChunks } from '../../compat/png-text.js';
import { containedPath } from '../../compat/safe-path.js';
import { ioType, resolveIoFile, type FileRef } from '../http/io-dirs.js';
import type { ServerContext } from '../context.js';
import { recordFileOwner, requireFileAccess } from '../access.js';

/** Raster formats an upload may be; SVG (scriptable) and anything sharp cannot parse are refused. */
const UPLOAD_FORMATS = ['png', 'jpeg', 'jpg', 'webp', 'gif', 'tiff', 'heif', 'avif'];

type SaveFunction = (image: Express.Multer.File, target: string) => Promise<void>;

export function registerUploadRoutes(router: Router, ctx: ServerContext): void {
  const multipart = multer({ storage: multer.memoryStorage(), limits: { fileSize: ctx.config.maxUploadBytes, fieldSize: ctx.config.maxUploadBytes } }).any();
  router.post('/upload/image', multipart, (req, res) => uploadImage(ctx, req, res));
  router.post('/upload/mask', multipart, (req, res) => {
    const original = originalRef(req);
    const source = resolveIoFile(ctx.folders, original, 'output');
    if (!statOrNull(source.path)?.isFile()) throw new HttpError(ERRORS.FILE_NOT_FOUND);
    requireFileAccess(ctx, req, source.type, source.path);
    return uploadImage(ctx, req, res, (image, target) => saveMaskedOriginal(source.path, image.buffer, target));
  });
}

function field(req: Request, name: string): string | undefined {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v);
}

function originalRef(req: Request): FileRef {
  let ref: unknown;
  try {
    ref = JSON.parse(field(req, 'original_ref') ?? '');
  } catch {
    throw new HttpError(ERRORS.MASK_BAD_ORIGINAL_REF);
  }
  const r = ref as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || typeof r['filename'] !== 'string') throw new HttpError(ERRORS.MASK_BAD_ORIGINAL_REF);
  return { filename: r['filename'], type: r['type'] === undefined ? undefined : String(r['type']), subfolder: r['subfolder'] ? String(r['subfolder']) : undefined };
}

async function uploadImage(ctx: ServerContext, req: Request, res: Response, save?: SaveFunction): Promise<void> {
  const type = ioType(field(req, 'type') || undefined, 'input');
  const image = ((req.files as Express.Multer.File[] | undefined) ?? []).find((f) => f.fieldname === 'image');
  if (!image || !image.originalname) throw new HttpError(ERRORS.UPLOAD_NO_FILE);
  const subfolder = field(req, 'subfolder') ?? '';
  const uploadDir = ctx.folders.getDirectory(type);
  // NUL is refused before normalisation: `x\0../..` must not normalise into a harmless path.
  if (subfolder.includes('\0')) throw new HttpError(ERRORS.UPLOAD_ESCAPE, { vars: { dir: type } });
  const folder = containedPath(uploadDir, [pythonNormpath(subfolder || '.')]);
  const first = folder.ok ? containedPath(folder.path, [image.originalname]) : folder;
  if (!folder.ok || !first.ok) throw new HttpError(ERRORS.UPLOAD_ESCAPE, { vars: { dir: type } });
  await sniffImage(image.buffer, ctx.config.maxUploadPixels);
  fs.mkdirSync(folder.path, { recursive: true });
  const overwrite = field(req, 'overwrite');
  const target = overwrite === 'true' || overwrite === '1' ? { name: image.originalname, duplicate: false } : freeName(ctx, folder.path, image);
  if (!target.duplicate) {
    const file = path.join(folder.path, target.name);
    if (save) await save(image, file);
    else fs.writeFileSync(file, image.buffer);
  }
  recordFileOwner(ctx, req, type, path.join(folder.path, target.name));
  res.json({ name: target.name, subfolder, type });
}

/**
 * Reads only the image header (sharp metadata): not an image → 400; more pixels than
 * `maxPixels` → 400 before anything is decoded, so a tiny PNG claiming 100k×100k costs nothing.
 */
async function sniffImage(data: Buffer, maxPixels: number): Promise<void> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    meta = await sharp(data, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new HttpError(ERRORS.UPLOAD_NOT_IMAGE, { vars: { details: (err as Error).message } });
  }
  if (!meta.format || !UPLOAD_FORMATS.includes(meta.format)) {
    throw new HttpError(ERRORS.UPLOAD_NOT_IMAGE, { vars: { details: `format ${meta.format ?? 'unknown'} is not one of ${UPLOAD_FORMATS.join(', ')}` } });
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const pages = meta.pages ?? 1;
  if (width * height * pages > maxPixels) throw new HttpError(ERRORS.UPLOAD_TOO_MANY_PIXELS, { vars: { width: String(width), height: String(height) } });
}

/** `name.ext`, or an existing file with the same content, or `name (1).ext`, `name (2).ext`, … */
function freeName(ctx: ServerContext, folder: string, image: Express.Multer.File): { name: string; duplicate: boolean } {
  const ext = path.extname(image.originalname);
  const stem = image.originalname.slice(0, image.originalname.length - ext.length);
  const digest = (data: Buffer) => createHash(ctx.config.hashingFunction).update(data).digest('hex');
  const uploaded = digest(image.buffer);
  let name = image.originalname;
  for (let i = 1; fs.existsSync(path.join(folder, name)); i++) {
    const existing = path.join(folder, name);
    if (fs.statSync(existing).isFile() && digest(fs.readFileSync(existing)) === uploaded) return { name, duplicate: true };
    name = `${stem} (${i})${ext}`;
  }
  return { name, duplicate: false };
}

/** The original as RGBA with its alpha replaced by the mask's alpha; PNG text chunks kept. */
async function saveMaskedOriginal(originalPath: string, mask: Buffer, target: string): Promise<void> {
  const originalBytes = fs.readFileSync(originalPath);
  let png: Buffer;
  try {
    const orig = await sharp(originalBytes).ensureAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const m = await sharp(mask).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    if (m.info.width !== orig.info.width || m.info.height !== orig.info.height) {
      throw new Error(`mask is ${m.info.width}x${m.info.height}, image is ${orig.info.width}x${orig.info.height}`);
    }
    const pixels = orig.info.width * orig.info.height;
    for (let i = 0; i < pixels; i++) orig.data[i * 4 + 3] = m.data[i * m.info.channels + m.info.channels - 1]!;
    png = await sharp(orig.data, { raw: { width: orig.info.width, height: orig.info.height, channels: 4 } }).png({ compressionLevel: 4 }).toBuffer();
  } catch (err) {
    throw new HttpError(ERRORS.FILE_NOT_IMAGE, { details: (err as Error).message });
  }
  const chunks = isPng(originalBytes) ? readPngTextChunks(originalBytes).map((c) => ({ keyword: c.keyword, text: c.text })) : [];
  fs.writeFileSync(target, chunks.length ? insertPngTextChunks(png, chunks) : png);
}
