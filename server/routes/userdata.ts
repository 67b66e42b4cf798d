/**
 * `/userdata` (list, get, post, delete, move) and `/v2/userdata` (spec §1.9).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response, Router } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { statOrNull } from '../http/fs-safe.js';
import { queryParam } from '../http/body.js';
import { guessContentType, isDangerousContentType } from '../http/mime.js';
import type { ServerContext } from '../context.js';

interface FileInfo {
  path: string;
  size: number;
  modified: number;
  created: number;
}

function fileInfo(file: string, root: string): FileInfo {
  const st = fs.statSync(file);
  return { path: toPosix(path.relative(root, file)), size: st.size, modified: Math.trunc(st.mtimeMs), created: Math.trunc(st.ctimeMs) };
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

const flag = (req: Request, name: string, fallback: string) => (queryParam(req, name) ?? fallback).toLowerCase();

export function registerUserdataRoutes(router: Router, ctx: ServerContext): void {
  router.get('/userdata', (req, res) => listUserdata(ctx, req, res));
  router.get('/v2/userdata', (req, res) => listUserdataV2(ctx, req, res));
  router.get('/userdata/:file', (req, res) => {
    const { root, path: file } = ctx.users.requestPath(req, String(req.params['file'] ?? ''));
    if (!statOrNull(file)?.isFile()) throw new HttpError(ERRORS.USERDATA_NOT_FOUND);
    sendUserFile(req, res, file, path.relative(root, file));
  });
  router.post('/userdata/:file', (req, res) => {
    const { root, path: file } = requireName(ctx, req, 'file');
    if (flag(req, 'overwrite', 'true') === 'false' && fs.existsSync(file)) throw new HttpError(ERRORS.USERDATA_EXISTS);
    writeAtomically(file, req.rawBody ?? Buffer.alloc(0));
    respondWithPath(req, res, file, root);
  });
  router.delete('/userdata/:file', (req, res) => {
    const { path: file } = requireName(ctx, req, 'file');
    if (!statOrNull(file)?.isFile()) throw new HttpError(ERRORS.USERDATA_NOT_FOUND);
    fs.rmSync(file);
    res.status(204).end();
  });
  router.post('/userdata/:file/move/:dest', (req, res) => {
    const { root, path: source } = requireName(ctx, req, 'file');
    if (!fs.existsSync(source)) throw new HttpError(ERRORS.USERDATA_NOT_FOUND);
    const { path: dest } = requireName(ctx, req, 'dest');
    if (flag(req, 'overwrite', 'true') === 'false' && fs.existsSync(dest)) throw new HttpError(ERRORS.USERDATA_EXISTS);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.renameSync(source, dest);
    respondWithPath(req, res, dest, root);
  });
}

function requireName(ctx: ServerContext, req: Request, param: string): { root: string; path: string } {
  const name = String(req.params[param] ?? '');
  if (!name) throw new HttpError(ERRORS.USERDATA_NO_FILE);
  const resolved = ctx.users.requestPath(req, name);
  if (resolved.path === resolved.root) throw new HttpError(ERRORS.USERDATA_NO_FILE);
  return resolved;
}

function respondWithPath(req: Request, res: Response, file: string, root: string): void {
  res.json(flag(req, 'full_info', 'false') === 'true' ? fileInfo(file, root) : toPosix(path.relative(root, file)));
}

/** Temp file + rename, so a crash never leaves a half-written workflow. */
function writeAtomically(file: string, data: Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new HttpError(ERRORS.USERDATA_WRITE_FAILED, { vars: { details: (err as NodeJS.ErrnoException).code ?? (err as Error).message } });
  }
}

/** Attachment with nosniff; dangerous types as octet-stream; only the top-level `user.css` inline. */
function sendUserFile(_req: Request, res: Response, file: string, rel: string): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (rel === 'user.css') {
    res.setHeader('Content-Type', 'text/css');
    res.setHeader('Content-Disposition', 'inline');
  } else {
    const type = guessContentType(file);
    res.setHeader('Content-Type', isDangerousContentType(type) ? 'application/octet-stream' : type);
    res.setHeader('Content-Disposition', 'attachment');
  }
  res.sendFile(file, { dotfiles: 'allow', etag: false, cacheControl: false });
}

/** Files under `dir` (hidden entries skipped, as glob does), recursive or not. */
function listFiles(dir: string, recurse: boolean): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const abs = path.join(d, e.name);
      const st = statOrNull(abs);
      if (st?.isFile()) out.push(abs);
      else if (st?.isDirectory() && recurse) visit(abs);
    }
  };
  visit(dir);
  return out;
}

function listUserdata(ctx: ServerContext, req: Request, res: Response): void {
  const dir = queryParam(req, 'dir');
  if (!dir) throw new HttpError(ERRORS.USERDATA_NO_DIR);
  const { path: target } = ctx.users.requestPath(req, dir);
  if (!statOrNull(target)?.isDirectory()) throw new HttpError(ERRORS.USERDATA_NOT_FOUND);
  const fullInfo = flag(req, 'full_info', '') === 'true';
  const split = flag(req, 'split', '') === 'true';
  const files = listFiles(target, flag(req, 'recurse', '') === 'true');
  res.json(
    files.map((f) => {
      if (fullInfo) return fileInfo(f, target);
      const rel = toPosix(path.relative(target, f));
      return split ? [rel, ...rel.split('/')] : rel;
    }),
  );
}

interface V2Entry {
  name: string;
  path: string;
  type: 'directory' | 'file';
  size?: number;
  modified?: number;
}

/** Upstream answers 403 for an unknown user and 400 for a path that escapes, here. */
function v2Target(ctx: ServerContext, req: Request, requested: string): { root: string; target: string } {
  let root: string;
  try {
    root = ctx.users.userRoot(ctx.users.requestUser(req));
  } catch (err) {
    if (err instanceof HttpError && err.def === ERRORS.USER_UNKNOWN) throw new HttpError(ERRORS.USERDATA_FORBIDDEN);
    throw err;
  }
  if (!requested) return { root, target: root };
  try {
    return { root, target: ctx.users.requestPath(req, requested).path };
  } catch {
    throw new HttpError(ERRORS.USERDATA_BAD_PATH);
  }
}

function listUserdataV2(ctx: ServerContext, req: Request, res: Response): void {
  const requested = queryParam(req, 'path') ?? '';
  const { root, target } = v2Target(ctx, req, requested);
  const st = statOrNull(target);
  if (!st) {
    if (requested) throw new HttpError(ERRORS.USERDATA_NOT_FOUND);
    res.json([]);
    return;
  }
  if (!st.isDirectory()) throw new HttpError(ERRORS.USERDATA_NOT_DIR);
  const out: V2Entry[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, e.name);
      const s = statOrNull(abs);
      const rel = toPosix(path.relative(root, abs));
      if (s?.isDirectory()) {
        out.push({ name: e.name, path: rel, type: 'directory' });
        visit(abs);
      } else if (s?.isFile()) {
        out.push({ name: e.name, path: rel, type: 'file', size: s.size, modified: s.mtimeMs / 1000 });
      }
    }
  };
  visit(target);
  out.sort((a, b) => (a.type === b.type ? a.name.toLowerCase().localeCompare(b.name.toLowerCase()) : a.type === 'directory' ? -1 : 1));
  res.json(out);
}
