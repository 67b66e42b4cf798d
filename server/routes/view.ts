/**
 * `GET /view` (spec §1.6): raw files with ranges and neutralised dangerous types, `preview=`
 * re-encoding (webp/jpeg) and `channel=rgb|a` extraction.
 */
import fs from 'node:fs';
import type { Request, Response, Router } from 'express';
import sharp from 'sharp';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { statOrNull } from '../http/fs-safe.js';
import { queryParam } from '../http/body.js';
import { resolveIoFile } from '../http/io-dirs.js';
import { guessContentType, isDangerousContentType } from '../http/mime.js';
import type { ServerContext } from '../context.js';
import { requireFileAccess } from '../access.js';

export function registerViewRoutes(router: Router, ctx: ServerContext): void {
  router.get('/view', (req, res) => viewFile(ctx, req, res));
}

async function viewFile(ctx: ServerContext, req: Request, res: Response): Promise<void> {
  const filename = queryParam(req, 'filename');
  if (filename === undefined) throw new HttpError(ERRORS.FILE_NAME_MISSING);
  const file = resolveIoFile(ctx.folders, { filename, type: queryParam(req, 'type'), subfolder: queryParam(req, 'subfolder') }, 'output');
  if (!statOrNull(file.path)?.isFile()) throw new HttpError(ERRORS.FILE_NOT_FOUND);
  requireFileAccess(ctx, req, file.type, file.path);
  const disposition = `filename="${file.name.replace(/["\\\r\n]/g, '_')}"`;
  const preview = queryParam(req, 'preview');
  const channel = queryParam(req, 'channel') ?? 'rgba';
  if (preview !== undefined) return sendPreview(res, file.path, preview, queryParam(req, 'channel') ?? '', disposition);
  if (channel === 'rgb' || channel === 'a') return sendChannel(res, file.path, channel, disposition);
  sendRaw(req, res, file.path, file.name, disposition);
}

async function encodeOrReject(work: () => Promise<Buffer>): Promise<Buffer> {
  try {
    return await work();
  } catch (err) {
    throw new HttpError(ERRORS.FILE_NOT_IMAGE, { details: (err as Error).message });
  }
}

/** `preview=<fmt>[;<quality>]`: webp unless jpeg asked (and no alpha channel wanted). */
async function sendPreview(res: Response, file: string, preview: string, channel: string, disposition: string): Promise<void> {
  const parts = preview.split(';');
  let format = parts[0] === 'jpeg' ? 'jpeg' : 'webp';
  if (channel.includes('a')) format = 'webp';
  const last = parts[parts.length - 1]!;
  const quality = /^\d+$/.test(last) ? Math.min(100, Math.max(1, Number(last))) : 90;
  const dropAlpha = format === 'jpeg' || channel === 'rgb';
  const body = await encodeOrReject(() => {
    let img = sharp(file);
    if (dropAlpha) img = img.removeAlpha();
    return format === 'jpeg' ? img.jpeg({ quality }).toBuffer() : img.webp({ quality }).toBuffer();
  });
  res.setHeader('Content-Disposition', disposition);
  res.type(`image/${format}`).send(body);
}

/** `channel=rgb`: PNG without alpha; `channel=a`: RGBA PNG carrying only the alpha (opaque if none). */
async function sendChannel(res: Response, file: string, channel: 'rgb' | 'a', disposition: string): Promise<void> {
  const body = await encodeOrReject(async () => {
    if (channel === 'rgb') return sharp(file).removeAlpha().png().toBuffer();
    const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const out = Buffer.alloc(info.width * info.height * 4);
    for (let i = 0; i < info.width * info.height; i++) out[i * 4 + 3] = data[i * info.channels + info.channels - 1]!;
    return sharp(out, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
  });
  res.setHeader('Content-Disposition', disposition);
  res.type('image/png').send(body);
}

function sendRaw(req: Request, res: Response, file: string, name: string, disposition: string): void {
  let type = guessContentType(name);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const svgAsImage = type === 'image/svg+xml' && String(req.headers['sec-fetch-dest'] ?? '').toLowerCase() === 'image';
  if (isDangerousContentType(type)) {
    res.setHeader('Vary', 'Sec-Fetch-Dest');
    res.setHeader('Cache-Control', 'no-store');
    if (!svgAsImage) {
      type = 'application/octet-stream';
      disposition = `attachment; ${disposition}`;
    }
  }
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Disposition', disposition);
  res.sendFile(file, { dotfiles: 'allow', etag: false, cacheControl: false, acceptRanges: true });
}
