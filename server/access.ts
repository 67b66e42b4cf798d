/**
 * Who a request acts as, for queue/history/jobs/files isolation (docs/security.md):
 * - auth on: the authenticated user; role `admin` sees everything;
 * - auth off with `--multi-user`: the `Comfy-User` header (self-asserted, as in ComfyUI), else
 *   `default`; nobody is admin;
 * - auth off, single user: `default`, sees everything (ComfyUI's behaviour).
 * Isolation (a `scope`) applies only with `--multi-user`.
 */
import path from 'node:path';
import type { Request } from 'express';
import type { IoDirectory } from '../compat/folder-paths.js';
import { ERRORS, HttpError } from '../compat/errors.js';
import type { ServerContext } from './context.js';
import { DEFAULT_OWNER } from './queue/history-store.js';
import type { FileRefKey } from './queue/persistence.js';

export interface Access {
  user: string;
  admin: boolean;
  /** The owner lists are filtered by; undefined = everything. */
  scope: string | undefined;
}

export function accessOf(ctx: Pick<ServerContext, 'config'>, req: Request): Access {
  const id = req.identity;
  const header = req.headers['comfy-user'];
  const user = id ? id.user : ctx.config.multiUser && typeof header === 'string' && header ? header : DEFAULT_OWNER;
  const admin = id ? id.role === 'admin' : !ctx.config.multiUser;
  return { user, admin, scope: ctx.config.multiUser && !admin ? user : undefined };
}

/** True if `access` may see something owned by `owner` (unknown owner = visible). */
export function mayAccess(access: Access, owner: string | undefined): boolean {
  return access.scope === undefined || owner === undefined || owner === access.scope;
}

/** The owner-table key of a resolved file in one of the io directories. */
export function ioFileKey(ctx: ServerContext, type: IoDirectory, absPath: string): FileRefKey {
  const rel = path.relative(ctx.folders.getDirectory(type), absPath).split(path.sep).join('/');
  return { type, subfolder: path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel), filename: path.posix.basename(rel) };
}

/**
 * `/view` and `/upload/mask`: a file with a recorded owner is served only to its owner or an
 * admin; to anyone else it does not exist (404). Files nobody recorded (put there by the
 * operator) stay visible to all.
 */
export function requireFileAccess(ctx: ServerContext, req: Request, type: IoDirectory, absPath: string): void {
  const access = accessOf(ctx, req);
  if (!mayAccess(access, ctx.files.ownerOf(ioFileKey(ctx, type, absPath)))) throw new HttpError(ERRORS.FILE_NOT_FOUND);
}

/** Records the uploader of a file. */
export function recordFileOwner(ctx: ServerContext, req: Request, type: IoDirectory, absPath: string): void {
  ctx.files.record(ioFileKey(ctx, type, absPath), accessOf(ctx, req).user);
}

/** Administrators only (when isolation is on). */
export function requireAdmin(ctx: ServerContext, req: Request): void {
  if (accessOf(ctx, req).scope !== undefined) throw new HttpError(ERRORS.ADMIN_ONLY);
}
