/**
 * `/users` and `/settings` (spec §1.9, ComfyUI's app/app_settings.py): settings live in
 * `<user>/comfy.settings.json`, written pretty-printed (indent 4).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Router } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { jsonBody, jsonObject } from '../http/body.js';
import type { ServerContext } from '../context.js';

const SETTINGS_FILE = 'comfy.settings.json';

function settingsPath(ctx: ServerContext, req: Request): string {
  return ctx.users.requestPath(req, SETTINGS_FILE).path;
}

function readSettings(ctx: ServerContext, file: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') ctx.log.error(`could not read ${file}: ${(err as Error).message}`);
    return {};
  }
}

function writeSettings(file: string, settings: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(settings, null, 4));
}

export function registerSettingsRoutes(router: Router, ctx: ServerContext): void {
  router.get('/users', (req, res) => {
    if (ctx.config.multiUser) {
      res.json({ storage: 'server', users: ctx.users.list() });
      return;
    }
    res.json({ storage: 'server', migrated: fs.existsSync(ctx.users.userRoot(ctx.users.requestUser(req))) });
  });
  router.post('/users', (req, res) => {
    const body = jsonObject(req);
    if (typeof body['username'] !== 'string') throw new HttpError(ERRORS.USER_NAME_MISSING);
    res.json(ctx.users.addUser(body['username']));
  });

  router.get('/settings', (req, res) => {
    res.json(readSettings(ctx, settingsPath(ctx, req)));
  });
  router.get('/settings/:id', (req, res) => {
    const settings = readSettings(ctx, settingsPath(ctx, req));
    const id = String(req.params['id']);
    res.json(Object.hasOwn(settings, id) ? settings[id] : null);
  });
  router.post('/settings', (req, res) => {
    const file = settingsPath(ctx, req);
    const update = jsonObject(req);
    writeSettings(file, { ...readSettings(ctx, file), ...update });
    res.status(200).end();
  });
  router.post('/settings/:id', (req, res) => {
    const file = settingsPath(ctx, req);
    const value = jsonBody(req);
    writeSettings(file, { ...readSettings(ctx, file), [String(req.params['id'])]: value });
    res.status(200).end();
  });
}
