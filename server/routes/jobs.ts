/**
 * The jobs API (spec §1.4): `GET /api/jobs`, `GET /api/jobs/{id}`, `POST /api/jobs/{id}/cancel`,
 * `POST /api/jobs/cancel`. Mounted at `/api` and `/api/api` only.
 */
import type { Request, Router } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { JOB_STATUSES, jobFromHistory, jobFromQueueItem, sortJobs, type Job, type JobStatus } from '../../compat/jobs.js';
import { queryParam } from '../http/body.js';
import { toQueueItem } from '../queue/prompt-queue.js';
import type { ServerContext } from '../context.js';
import { isCanonicalUuid } from './prompt.js';
import { accessOf, mayAccess, type Access } from '../access.js';
import type { OwnedJob } from '../queue/persistence.js';

const ownerOf = (j: OwnedJob) => j.owner ?? 'default';

const INT = /^\s*[+-]?\d+\s*$/;

interface ListQuery {
  statuses: readonly JobStatus[];
  workflowId: string | undefined;
  sortBy: 'created_at' | 'execution_duration';
  sortOrder: 'asc' | 'desc';
  limit: number | null;
  offset: number;
}

function parseListQuery(req: Request): ListQuery {
  const statusParam = queryParam(req, 'status');
  let statuses: readonly JobStatus[] = JOB_STATUSES;
  if (statusParam) {
    const requested = statusParam.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const invalid = requested.filter((s) => !(JOB_STATUSES as readonly string[]).includes(s));
    if (invalid.length) throw new HttpError(ERRORS.JOBS_BAD_STATUS, { vars: { values: invalid.join(', ') } });
    statuses = requested as JobStatus[];
  }
  const sortBy = (queryParam(req, 'sort_by') ?? 'created_at').toLowerCase();
  if (sortBy !== 'created_at' && sortBy !== 'execution_duration') throw new HttpError(ERRORS.JOBS_BAD_SORT_BY);
  const sortOrder = (queryParam(req, 'sort_order') ?? 'desc').toLowerCase();
  if (sortOrder !== 'asc' && sortOrder !== 'desc') throw new HttpError(ERRORS.JOBS_BAD_SORT_ORDER);
  let limit: number | null = null;
  const rawLimit = queryParam(req, 'limit');
  if (rawLimit !== undefined) {
    if (!INT.test(rawLimit)) throw new HttpError(ERRORS.JOBS_LIMIT_NOT_INT);
    limit = Number.parseInt(rawLimit, 10);
    if (limit <= 0) throw new HttpError(ERRORS.JOBS_LIMIT_NOT_POSITIVE);
  }
  let offset = 0;
  const rawOffset = queryParam(req, 'offset');
  if (rawOffset !== undefined) {
    if (!INT.test(rawOffset)) throw new HttpError(ERRORS.JOBS_OFFSET_NOT_INT);
    offset = Math.max(0, Number.parseInt(rawOffset, 10));
  }
  return { statuses, workflowId: queryParam(req, 'workflow_id') || undefined, sortBy, sortOrder, limit, offset };
}

function allJobs(ctx: ServerContext, q: ListQuery, access: Access): Job[] {
  const jobs: Job[] = [];
  const running = ctx.queue.running();
  if (running && mayAccess(access, ownerOf(running)) && q.statuses.includes('in_progress') && !ctx.queue.history.has(running.promptId)) {
    jobs.push(jobFromQueueItem(toQueueItem(running), 'in_progress'));
  }
  if (q.statuses.includes('pending')) for (const p of ctx.queue.pending()) if (mayAccess(access, ownerOf(p))) jobs.push(jobFromQueueItem(toQueueItem(p), 'pending'));
  const wanted = new Set<JobStatus>(q.statuses.filter((s) => s === 'completed' || s === 'failed' || s === 'cancelled'));
  if (wanted.size) {
    for (const [id, entry] of ctx.queue.history.entries(access.scope)) {
      const job = jobFromHistory(id, entry);
      if (wanted.has(job['status'] as JobStatus)) jobs.push(job);
    }
  }
  return q.workflowId ? jobs.filter((j) => j['workflow_id'] === q.workflowId) : jobs;
}

function findJob(ctx: ServerContext, id: string, access: Access): Job | null {
  const entry = mayAccess(access, ctx.queue.history.ownerOf(id)) ? ctx.queue.history.get(id) : undefined;
  if (entry) return jobFromHistory(id, entry, true);
  const running = ctx.queue.running();
  if (running?.promptId === id && mayAccess(access, ownerOf(running))) return jobFromQueueItem(toQueueItem(running), 'in_progress', true);
  const pending = ctx.queue.pending().find((p) => p.promptId === id && mayAccess(access, ownerOf(p)));
  return pending ? jobFromQueueItem(toQueueItem(pending), 'pending', true) : null;
}

/** Running → interrupt (if still that job); pending → dequeue; finished/unknown/another user's → false. */
export function cancelJob(ctx: ServerContext, id: string, access?: Access): boolean {
  const running = ctx.queue.running();
  if (running?.promptId === id && (!access || mayAccess(access, ownerOf(running)))) {
    ctx.interrupt.set();
    return true;
  }
  return ctx.queue.delete(id, access?.scope);
}

export function registerJobsRoutes(router: Router, ctx: ServerContext): void {
  router.get('/jobs', (req, res) => {
    const q = parseListQuery(req);
    const sorted = sortJobs(allJobs(ctx, q, accessOf(ctx, req)), q.sortBy, q.sortOrder);
    const page = sorted.slice(q.offset, q.limit === null ? undefined : q.offset + q.limit);
    res.json({ jobs: page, pagination: { offset: q.offset, limit: q.limit, total: sorted.length, has_more: q.offset + page.length < sorted.length } });
  });
  router.post('/jobs/cancel', (req, res) => {
    let body: unknown;
    try {
      body = JSON.parse((req.rawBody ?? Buffer.alloc(0)).toString('utf8'));
    } catch {
      throw new HttpError(ERRORS.JOBS_CANCEL_BAD_JSON);
    }
    const ids = (body as Record<string, unknown> | null)?.['job_ids'];
    if (!Array.isArray(ids)) throw new HttpError(ERRORS.JOBS_CANCEL_NOT_LIST);
    const invalid = ids.filter((id) => !isCanonicalUuid(id));
    if (invalid.length) throw new HttpError(ERRORS.JOBS_CANCEL_BAD_IDS, { extraBody: { invalid_ids: invalid } });
    let cancelled = false;
    const access = accessOf(ctx, req);
    for (const id of ids as string[]) cancelled = cancelJob(ctx, id, access) || cancelled;
    res.json({ cancelled });
  });
  router.get('/jobs/:jobId', (req, res) => {
    const job = findJob(ctx, String(req.params['jobId']), accessOf(ctx, req));
    if (!job) throw new HttpError(ERRORS.JOBS_NOT_FOUND);
    res.json(job);
  });
  router.post('/jobs/:jobId/cancel', (req, res) => {
    res.json({ cancelled: cancelJob(ctx, String(req.params['jobId']), accessOf(ctx, req)) });
  });
}
