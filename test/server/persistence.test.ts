/**
 * SQLite persistence in-process: restart keeps history and order, a prompt interrupted by two
 * crashes in a row is recorded as failed (never re-run forever), the history cap is honoured,
 * sensitive extra_data never reaches the disk, and the audit log records who did what and rotates.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../server/audit-log.js';
import { SqliteStore } from '../../server/queue/sqlite-store.js';
import { PromptQueue } from '../../server/queue/prompt-queue.js';
import { gatePrompt, makeBaseDir, openGate, startTestServer, TestSocket } from './helpers.js';

const job = (n: number, id: string, owner = 'default') => ({ number: n, promptId: id, prompt: {}, extraData: { client_id: 'c' }, sensitive: { api_key_comfy_org: 'SECRET-KEY' }, outputsToExecute: [], owner });

describe('SqliteStore', () => {
  it('restores pending jobs in order, re-queues a crashed job once, then fails it', () => {
    const dir = makeBaseDir();
    const file = path.join(dir, 'q.db');
    try {
      let store = new SqliteStore(file);
      let q = new PromptQueue(store, () => {}, store);
      q.put(job(0, 'a'));
      q.put(job(1, 'b'));
      q.put(job(2, 'c'));
      expect(q.startNext()?.promptId).toBe('a');
      store.close(); // crash while "a" runs
      store = new SqliteStore(file);
      q = new PromptQueue(store, () => {}, store);
      expect(q.pending().map((j) => j.promptId)).toEqual(['a', 'b', 'c']);
      expect(q.nextNumber(undefined, false)).toBe(3);
      expect(q.startNext()?.promptId).toBe('a');
      store.close(); // second crash while "a" runs
      store = new SqliteStore(file);
      q = new PromptQueue(store, () => {}, store);
      expect(q.pending().map((j) => j.promptId)).toEqual(['b', 'c']);
      expect(store.get('a')?.status.status_str).toBe('error');
      expect(JSON.stringify(store.get('a'))).toContain('ServerRestart');
      expect(fs.readFileSync(file).includes('SECRET-KEY')).toBe(false);
      store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps at most capacity + 1 entries (ComfyUI evicts before adding), pages like ComfyUI, filters by owner', () => {
    const dir = makeBaseDir();
    const store = new SqliteStore(path.join(dir, 'h.db'), 3);
    try {
      const entry = { prompt: [0, 'x', {}, {}, []], outputs: {}, status: { status_str: 'success', completed: true, messages: [] }, meta: {} } as never;
      for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) store.add(id, entry, id === 'p5' ? 'bob' : 'alice');
      expect(store.entries().map(([id]) => id)).toEqual(['p2', 'p3', 'p4', 'p5']);
      expect(store.page(2).map(([id]) => id)).toEqual(['p4', 'p5']);
      expect(store.page(2, 1).map(([id]) => id)).toEqual(['p3', 'p4']);
      expect(store.page(undefined, -1, 'bob').map(([id]) => id)).toEqual(['p5']);
      store.clear('alice');
      expect(store.entries().map(([id]) => id)).toEqual(['p5']);
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server restart', () => {
  it('keeps history and pending prompts across a clean restart; --max-history-size applies', async () => {
    const base = makeBaseDir();
    try {
      let t = await startTestServer({ maxHistorySize: 1 }, { base, keepBase: true });
      const ids: string[] = [];
      for (const g of ['r1', 'r2', 'r3']) {
        ids.push((await request(t.url).post('/prompt').send({ prompt: gatePrompt(g) })).body.prompt_id);
        openGate(g);
      }
      for (let i = 0; i < 200 && Object.keys((await request(t.url).get('/history')).body).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      // r-later runs (blocked on its gate; a clean close interrupts it), r-pending waits.
      await request(t.url).post('/prompt').send({ prompt: gatePrompt('r-later') });
      const pending = (await request(t.url).post('/prompt').send({ prompt: gatePrompt('r-pending') })).body.prompt_id;
      await t.close();
      t = await startTestServer({ maxHistorySize: 1 }, { base, keepBase: true });
      const history = (await request(t.url).get('/history')).body;
      expect(Object.keys(history).length).toBeLessThanOrEqual(2);
      expect(ids.at(-1)! in history).toBe(true);
      const q = (await request(t.url).get('/queue')).body;
      expect([...q.queue_running, ...q.queue_pending].map((i: unknown[]) => i[1])).toEqual([pending]);
      openGate('r-later');
      openGate('r-pending');
      await t.close();
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('audit log', () => {
  it('writes one JSON line per request with user, route, method, prompt id, client and outcome', async () => {
    const t = await startTestServer({ multiUser: true });
    try {
      const id = (await request(t.url).post('/prompt').set('Comfy-User', 'alice').send({ prompt: gatePrompt('audit') })).body.prompt_id;
      openGate('audit');
      await request(t.url).get('/view?filename=../x');
      const ws = await TestSocket.open(t.url, '/ws?clientId=audited');
      ws.close();
      await t.server.close();
      const lines = fs.readFileSync(path.join(t.base, 'user', 'comfy8-audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toContainEqual(expect.objectContaining({ user: 'alice', method: 'POST', route: '/prompt', status: 200, outcome: 'ok', prompt_id: id, client: expect.stringContaining('127.0.0.1') }));
      expect(lines).toContainEqual(expect.objectContaining({ user: 'default', method: 'GET', route: '/view', status: 400, outcome: 'error' }));
      expect(lines).toContainEqual(expect.objectContaining({ method: 'GET', route: '/ws', status: 101, outcome: 'ok' }));
    } finally {
      fs.rmSync(t.base, { recursive: true, force: true });
    }
  });

  it('rotates by size, keeping numbered old files', async () => {
    const dir = makeBaseDir();
    try {
      const log = new AuditLog({ file: path.join(dir, 'audit.log'), maxBytes: 1000, keep: 2 });
      for (let i = 0; i < 60; i++) log.write({ user: 'u', method: 'GET', route: `/r/${i}`, status: 200, outcome: 'ok', client: null });
      await log.close();
      const names = fs.readdirSync(dir).sort();
      expect(names).toEqual(['audit.log', 'audit.log.1', 'audit.log.2']);
      for (const n of names) expect(fs.statSync(path.join(dir, n)).size).toBeLessThanOrEqual(1000);
      expect(fs.readFileSync(path.join(dir, 'audit.log'), 'utf8')).toContain('/r/59');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
