import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputsSummary } from '../../compat/jobs.js';
import { MemoryHistoryStore } from '../../server/queue/history-store.js';
import type { HistoryEntry } from '../../compat/api-types.js';
import { gatePrompt, openGate, startTestServer, TestSocket, type TestServer } from './helpers.js';

let t: TestServer;
let ws: TestSocket;
const ids: Record<string, string> = {};

async function run(name: string, prompt: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await request(t.url).post('/prompt').send({ prompt, client_id: 'jobs', ...extra });
  expect(res.status).toBe(200);
  return res.body.prompt_id;
}

beforeAll(async () => {
  t = await startTestServer();
  ws = await TestSocket.open(t.url, '/ws?clientId=jobs');
  const wf = (id: string) => ({ extra_data: { extra_pnginfo: { workflow: { id } } } });
  ids.ok = await run('ok', { '1': { class_type: 'TestProgress', inputs: { steps: 1 } } }, wf('wf-a'));
  await ws.done(ids.ok);
  ids.fail = await run('fail', { '1': { class_type: 'TestFail', inputs: { message: 'bad' } } }, wf('wf-b'));
  await ws.done(ids.fail);
  ids.cancel = await run('cancel', gatePrompt('jobs-cancel'), wf('wf-a'));
  await ws.waitFor((m) => m.type === 'executing' && m.data['prompt_id'] === ids.cancel && m.data['node'] === '1');
  await request(t.url).post('/interrupt').expect(200);
  await ws.done(ids.cancel);
  ids.running = await run('running', gatePrompt('jobs-running'));
  await ws.waitFor((m) => m.type === 'executing' && m.data['prompt_id'] === ids.running && m.data['node'] === '1');
  ids.pending = await run('pending', gatePrompt('jobs-pending'), wf('wf-a'));
});
afterAll(async () => {
  ws.close();
  await t.close();
});

describe('GET /api/jobs', () => {
  it('lists every job with statuses mapped from history, newest first', async () => {
    const res = await request(t.url).get('/api/jobs');
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.jobs.map((j: { id: string }) => [j.id, j]));
    expect(byId[ids.ok].status).toBe('completed');
    expect(byId[ids.fail].status).toBe('failed');
    expect(byId[ids.cancel].status).toBe('cancelled');
    expect(byId[ids.running]).toEqual({ id: ids.running, status: 'in_progress', priority: expect.any(Number), create_time: expect.any(Number), outputs_count: 0, previewable_outputs_count: 0 });
    expect(byId[ids.pending].status).toBe('pending');
    expect(byId[ids.pending].workflow_id).toBe('wf-a');
    expect(byId[ids.fail].execution_error).toMatchObject({ node_type: 'TestFail' });
    expect(byId[ids.ok]).toMatchObject({ outputs_count: 1, previewable_outputs_count: 1, preview_output: { filename: 'x.png', nodeId: '1', mediaType: 'images', type: 'output' } });
    expect(byId[ids.ok].execution_end_time).toBeGreaterThanOrEqual(byId[ids.ok].execution_start_time);
    const times = res.body.jobs.map((j: { create_time: number }) => j.create_time);
    expect(times).toEqual([...times].sort((a: number, b: number) => b - a));
    expect(res.body.pagination).toEqual({ offset: 0, limit: null, total: 5, has_more: false });
  });

  it('filters by status and workflow, sorts, paginates, and also answers at /api/api/jobs', async () => {
    const active = await request(t.url).get('/api/jobs?status=in_progress,pending&limit=200&offset=0');
    expect(active.body.jobs.map((j: { id: string }) => j.id).sort()).toEqual([ids.running, ids.pending].sort());
    const done = await request(t.url).get('/api/api/jobs').query({ status: 'completed,failed,cancelled', sort_order: 'asc' });
    expect(done.body.jobs.map((j: { id: string }) => j.id)).toEqual([ids.ok, ids.fail, ids.cancel]);
    const wf = await request(t.url).get('/api/jobs').query({ workflow_id: 'wf-a' });
    expect(wf.body.jobs.map((j: { id: string }) => j.id).sort()).toEqual([ids.ok, ids.cancel, ids.pending].sort());
    const page = await request(t.url).get('/api/jobs').query({ limit: 2, offset: 1, sort_order: 'asc' });
    expect(page.body.jobs).toHaveLength(2);
    expect(page.body.pagination).toEqual({ offset: 1, limit: 2, total: 5, has_more: true });
    const last = await request(t.url).get('/api/jobs').query({ limit: 2, offset: 4 });
    expect(last.body.pagination.has_more).toBe(false);
    const negative = await request(t.url).get('/api/jobs').query({ offset: -3 });
    expect(negative.body.pagination.offset).toBe(0);
    const byDuration = await request(t.url).get('/api/jobs').query({ sort_by: 'execution_duration', status: 'completed,failed,cancelled' });
    expect(byDuration.status).toBe(200);
    expect((await request(t.url).get('/jobs')).status).toBe(404);
  });

  it('answers the exact upstream error strings', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ status: 'done,pending' }, 'Invalid status value(s): done. Valid values: pending, in_progress, completed, failed, cancelled'],
      [{ sort_by: 'name' }, "sort_by must be 'created_at' or 'execution_duration'"],
      [{ sort_order: 'up' }, "sort_order must be 'asc' or 'desc'"],
      [{ limit: '0' }, 'limit must be a positive integer'],
      [{ limit: 'ten' }, 'limit must be an integer'],
      [{ offset: '1.5' }, 'offset must be an integer'],
    ];
    for (const [query, error] of cases) {
      const res = await request(t.url).get('/api/jobs').query(query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body).toEqual({ error });
    }
  });
});

describe('GET /api/jobs/{id}', () => {
  it('adds outputs, execution_status and workflow for finished jobs; only workflow for queued ones', async () => {
    const ok = (await request(t.url).get(`/api/jobs/${ids.ok}`)).body;
    expect(ok.outputs).toEqual({ '1': { images: [{ filename: 'x.png', subfolder: '', type: 'output' }] } });
    expect(ok.execution_status.status_str).toBe('success');
    expect(ok.workflow.prompt).toEqual({ '1': { class_type: 'TestProgress', inputs: { steps: 1 } } });
    const pending = (await request(t.url).get(`/api/jobs/${ids.pending}`)).body;
    expect(pending.status).toBe('pending');
    expect(pending.workflow.extra_data.client_id).toBe('jobs');
    expect(pending.outputs).toBeUndefined();
    const missing = await request(t.url).get('/api/jobs/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'Job not found' });
  });
});

describe('cancelling jobs', () => {
  it('dequeues pending, interrupts running, is false for finished/unknown, validates bulk bodies', async () => {
    expect((await request(t.url).post(`/api/jobs/${ids.ok}/cancel`)).body).toEqual({ cancelled: false });
    expect((await request(t.url).post('/api/jobs/00000000-0000-4000-8000-000000000000/cancel')).body).toEqual({ cancelled: false });

    const bad = await request(t.url).post('/api/jobs/cancel').set('Content-Type', 'text/plain').send('{nope');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'Request body must be valid JSON' });
    expect((await request(t.url).post('/api/jobs/cancel').send({ job_ids: 'x' })).body).toEqual({ error: 'job_ids must be a list' });
    const invalid = await request(t.url).post('/api/jobs/cancel').send({ job_ids: [ids.pending, 'NOT-A-UUID'] });
    expect(invalid.body).toEqual({ error: 'job_ids contains invalid id(s)', invalid_ids: ['NOT-A-UUID'] });

    expect((await request(t.url).post('/api/jobs/cancel').send({ job_ids: [ids.pending] })).body).toEqual({ cancelled: true });
    expect((await request(t.url).get('/queue')).body.queue_pending).toEqual([]);
    expect((await request(t.url).post(`/api/api/jobs/${ids.running}/cancel`)).body).toEqual({ cancelled: true });
    await ws.done(ids.running);
    const job = (await request(t.url).get(`/api/jobs/${ids.running}`)).body;
    expect(job.status).toBe('cancelled');
    openGate('jobs-running');
  });
});

describe('history paging', () => {
  it('returns newest max_items oldest-first, offsets from the oldest, and validates integers', async () => {
    const all = Object.keys((await request(t.url).get('/history')).body);
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(Object.keys((await request(t.url).get('/history?max_items=2')).body)).toEqual(all.slice(-2));
    expect(Object.keys((await request(t.url).get('/api/history?offset=1&max_items=2')).body)).toEqual(all.slice(1, 3));
    expect(Object.keys((await request(t.url).get('/history?offset=2')).body)).toEqual(all.slice(2));
    expect((await request(t.url).get('/history?max_items=abc')).status).toBe(400);
    expect((await request(t.url).get('/history/unknown')).body).toEqual({});
    await request(t.url).post('/history').send({ delete: [all[0]] }).expect(200);
    expect(Object.keys((await request(t.url).get('/history')).body)).toEqual(all.slice(1));
    await request(t.url).post('/api/history').send({ clear: true }).expect(200);
    expect((await request(t.url).get('/history')).body).toEqual({});
  });

  it('evicts the oldest entry once more than the capacity exist', () => {
    const store = new MemoryHistoryStore(3);
    const entry = { prompt: [0, 'x', {}, {}, []], outputs: {}, status: { status_str: 'success', completed: true, messages: [] }, meta: {} } as HistoryEntry;
    for (const id of ['a', 'b', 'c', 'd', 'e']) store.add(id, entry);
    expect(store.entries().map(([k]) => k)).toEqual(['b', 'c', 'd', 'e']);
  });
});

describe('preview pick', () => {
  it('prefers saved media over temp previews, text files and raw text', () => {
    const outputs = {
      '1': { text: ['hello'] },
      '2': { images: [{ filename: 'a.txt', type: 'output', subfolder: '' }] },
      '3': { images: [{ filename: 'p.png', type: 'temp', subfolder: '' }], animated: [false] },
      '4': { images: [{ filename: 's.png', type: 'output', subfolder: '' }] },
    } as unknown as HistoryEntry['outputs'];
    const s = outputsSummary(outputs);
    expect(s.preview).toMatchObject({ filename: 's.png', nodeId: '4', mediaType: 'images' });
    expect(s.count).toBe(3);
    expect(outputsSummary({ '1': { text: ['x'.repeat(2000)] } } as unknown as HistoryEntry['outputs']).preview).toEqual({ content: 'x'.repeat(1024), truncated: true, nodeId: '1', mediaType: 'text' });
  });
});
