/**
 * `/queue`, `/history`, `/interrupt`, `/free` (spec §1.2, §1.3).
 */
import type { Request, Router } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { jsonObject, jsonObjectOr, queryParam } from '../http/body.js';
import { toQueueItem } from '../queue/prompt-queue.js';
import type { ServerContext } from '../context.js';
import { accessOf, mayAccess } from '../access.js';

export function registerQueueRoutes(router: Router, ctx: ServerContext): void {
  router.get('/queue', (req, res) => {
    const { scope } = accessOf(ctx, req);
    const mine = (j: { owner?: string }) => mayAccess({ user: '', admin: false, scope }, j.owner ?? 'default');
    const running = ctx.queue.running();
    res.json({ queue_running: running && mine(running) ? [toQueueItem(running)] : [], queue_pending: ctx.queue.pending().filter(mine).map(toQueueItem) });
  });

  router.post('/queue', (req, res) => {
    const body = jsonObject(req);
    const { scope } = accessOf(ctx, req);
    if (body['clear']) ctx.queue.wipe(scope);
    if (Array.isArray(body['delete'])) for (const id of body['delete']) ctx.queue.delete(String(id), scope);
    res.status(200).end();
  });

  router.post('/interrupt', (req, res) => {
    // ComfyUI treats a malformed body as {} here: a bare POST interrupts whatever runs.
    const promptId = jsonObjectOr(req, {})['prompt_id'];
    const running = ctx.queue.running();
    if (running && !mayAccess(accessOf(ctx, req), running.owner ?? 'default')) {
      ctx.log.info('interrupt skipped: the running prompt belongs to another user');
    } else if (promptId) {
      if (ctx.queue.running()?.promptId === promptId) ctx.interrupt.set();
      else ctx.log.info(`Prompt ${String(promptId)} is not currently running, skipping interrupt`);
    } else {
      ctx.interrupt.set();
    }
    res.status(200).end();
  });

  router.post('/free', (req, res) => {
    const body = jsonObject(req);
    if (body['unload_models']) ctx.queue.setFlag('unloadModels');
    if (body['free_memory']) ctx.queue.setFlag('freeMemory');
    res.status(200).end();
  });

  registerHistoryRoutes(router, ctx);
}

function intParam(req: Request, name: string): number | undefined {
  const raw = queryParam(req, name);
  if (raw === undefined) return undefined;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw new HttpError(ERRORS.HISTORY_BAD_INT, { vars: { name } });
  return Number.parseInt(raw, 10);
}

function registerHistoryRoutes(router: Router, ctx: ServerContext): void {
  router.get('/history', (req, res) => {
    const maxItems = intParam(req, 'max_items');
    const offset = intParam(req, 'offset') ?? -1;
    res.json(Object.fromEntries(ctx.queue.history.page(maxItems, offset, accessOf(ctx, req).scope)));
  });

  router.get('/history/:promptId', (req, res) => {
    const id = String(req.params['promptId']);
    const entry = mayAccess(accessOf(ctx, req), ctx.queue.history.ownerOf(id)) ? ctx.queue.history.get(id) : undefined;
    res.json(entry ? { [id]: entry } : {});
  });

  router.post('/history', (req, res) => {
    const body = jsonObject(req);
    const access = accessOf(ctx, req);
    if (body['clear']) ctx.queue.history.clear(access.scope);
    if (Array.isArray(body['delete'])) {
      for (const id of body['delete']) if (mayAccess(access, ctx.queue.history.ownerOf(String(id)))) ctx.queue.history.delete(String(id));
    }
    res.status(200).end();
  });
}
