/**
 * `/queue`, `/history`, `/interrupt`, `/free` (spec §1.2, §1.3).
 */
import type { Request, Router } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { jsonObject, jsonObjectOr, queryParam } from '../http/body.js';
import { toQueueItem } from '../queue/prompt-queue.js';
import type { ServerContext } from '../context.js';

export function registerQueueRoutes(router: Router, ctx: ServerContext): void {
  router.get('/queue', (_req, res) => {
    const running = ctx.queue.running();
    res.json({ queue_running: running ? [toQueueItem(running)] : [], queue_pending: ctx.queue.pending().map(toQueueItem) });
  });

  router.post('/queue', (req, res) => {
    const body = jsonObject(req);
    if (body['clear']) ctx.queue.wipe();
    if (Array.isArray(body['delete'])) for (const id of body['delete']) ctx.queue.delete(String(id));
    res.status(200).end();
  });

  router.post('/interrupt', (req, res) => {
    // ComfyUI treats a malformed body as {} here: a bare POST interrupts whatever runs.
    const promptId = jsonObjectOr(req, {})['prompt_id'];
    if (promptId) {
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
    res.json(Object.fromEntries(ctx.queue.history.page(maxItems, offset)));
  });

  router.get('/history/:promptId', (req, res) => {
    const entry = ctx.queue.history.get(String(req.params['promptId']));
    res.json(entry ? { [String(req.params['promptId'])]: entry } : {});
  });

  router.post('/history', (req, res) => {
    const body = jsonObject(req);
    if (body['clear']) ctx.queue.history.clear();
    if (Array.isArray(body['delete'])) for (const id of body['delete']) ctx.queue.history.delete(String(id));
    res.status(200).end();
  });
}
