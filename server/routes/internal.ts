/**
 * `/internal/*` (spec §1.11): a sub-application with no `/api` alias.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { statOrNull } from '../http/fs-safe.js';
import type { IoDirectory } from '../../compat/folder-paths.js';
import { jsonObject } from '../http/body.js';
import type { ServerContext } from '../context.js';
import { accessOf, ioFileKey, mayAccess, requireAdmin } from '../access.js';

export function terminalSize(): { cols: number; rows: number } {
  return { cols: process.stdout.columns ?? 80, rows: process.stdout.rows ?? 24 };
}

export function internalRouter(ctx: ServerContext): Router {
  const router = express.Router();
  // Server logs name every user's prompts: under isolation only administrators read them.
  router.use('/logs', (req, _res, next) => {
    requireAdmin(ctx, req);
    next();
  });
  router.get('/logs', (_req, res) => {
    res.json(ctx.log.buffer.all().map((e) => `${e.t} - ${e.m}`).join(''));
  });
  router.get('/logs/raw', (_req, res) => {
    res.json({ entries: ctx.log.buffer.all(), size: terminalSize() });
  });
  router.patch('/logs/subscribe', (req, res) => {
    const body = jsonObject(req);
    ctx.hub.subscribeLogs(String(body['clientId'] ?? ''), Boolean(body['enabled']));
    res.status(200).end();
  });
  router.get('/folder_paths', (_req, res) => {
    const out: Record<string, string[]> = {};
    for (const name of ctx.folders.folderNames()) out[name] = ctx.folders.searchRoots(name) ?? [];
    res.json(out);
  });
  router.get('/files/:directoryType', (req, res) => {
    const type = String(req.params['directoryType']);
    if (type !== 'output' && type !== 'input' && type !== 'temp') throw new HttpError(ERRORS.INTERNAL_BAD_DIR_TYPE);
    const dir = ctx.folders.getDirectory(type as IoDirectory);
    const access = accessOf(ctx, req);
    res.json(listNewestFirst(dir).filter((name) => mayAccess(access, ctx.files.ownerOf(ioFileKey(ctx, type as IoDirectory, path.join(dir, name))))));
  });
  return router;
}

/** Non-hidden top-level files, newest modification first. */
function listNewestFirst(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .map((n) => ({ n, st: statOrNull(path.join(dir, n)) }))
    .filter((e) => e.st?.isFile())
    .sort((a, b) => b.st!.mtimeMs - a.st!.mtimeMs)
    .map((e) => e.n);
}
