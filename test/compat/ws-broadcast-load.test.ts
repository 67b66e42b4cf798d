/**
 * 200 WebSocket clients on one server, 100 prompts queued behind a held worker: every client sees
 * the same, complete series of broadcast `status` messages (spec §2.3/§3.4: one per enqueue, job
 * start and job end), per-prompt events reach only the prompt's own client (§2.4), and all 100
 * prompts complete.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FrameRecorder, gatePrompt, httpJson, openGate, startTestServer, trivialPrompt, type TestServer } from './compat-helpers.js';

const CLIENTS = 200;
const PROMPTS = 100;

let t: TestServer;
let clients: FrameRecorder[] = [];

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await t.close();
});

const queueRemaining = (c: FrameRecorder) => c.messages.filter((m) => m.type === 'status').map((m) => (m.data['status'] as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining);

/**
 * What each client must see after its greeting, given the gate job was already running when the
 * prompts were queued: the gate's enqueue and start (1, 1), one enqueue per prompt (2…101), the
 * gate's end (100), then for every prompt its start and its end (r, r − 1 for r = 100…1).
 */
function expectedStatusSeries(): number[] {
  const series = [1, 1];
  for (let i = 1; i <= PROMPTS; i++) series.push(1 + i);
  series.push(PROMPTS);
  for (let r = PROMPTS; r >= 1; r--) series.push(r, r - 1);
  return series;
}

test(`${CLIENTS} sockets each receive every status broadcast of ${PROMPTS} prompts, and all prompts complete`, { timeout: 120_000 }, async () => {
  for (let i = 0; i < CLIENTS; i += 50) {
    clients.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => FrameRecorder.open(t.url, `/ws?clientId=load-${i + k}`)))));
  }
  await Promise.all(clients.map((c) => c.waitFor((m) => m.type === 'status', 'greeting')));
  expect(clients.every((c, i) => c.messages[0]!.data['sid'] === `load-${i}`)).toBe(true);

  const gate = await httpJson(`${t.url}/prompt`, { body: { prompt: gatePrompt('load-hold') } });
  expect(gate.status).toBe(200);
  for (let i = 0; i < 1000 && ((await httpJson(`${t.url}/queue`)).json as { queue_running: unknown[] }).queue_running.length === 0; i++) await new Promise((r) => setTimeout(r, 2));

  const owners = new Map<string, number>();
  const replies = await Promise.all(
    Array.from({ length: PROMPTS }, (_, i) => httpJson(`${t.url}${i % 2 ? '/api' : ''}/prompt`, { body: { prompt: trivialPrompt(i), client_id: `load-${(i * 7) % CLIENTS}` } })),
  );
  replies.forEach((r, i) => {
    expect(r.status).toBe(200);
    owners.set((r.json as { prompt_id: string }).prompt_id, (i * 7) % CLIENTS);
  });
  openGate('load-hold');

  const expected = expectedStatusSeries();
  await Promise.all(clients.map((c) => c.until(() => queueRemaining(c).length > expected.length || (queueRemaining(c).at(-1) === 0 && queueRemaining(c).length === expected.length + 1), 'the last status')));
  for (const [i, c] of clients.entries()) {
    expect(queueRemaining(c), `client ${i}`).toEqual([0, ...expected]);
  }

  // Per-prompt events went to the owner only, and every prompt succeeded.
  for (const [promptId, owner] of owners) {
    await clients[owner]!.done(promptId);
    expect(clients[owner]!.ofPrompt(promptId).map((m) => m.type)).toContain('execution_success');
  }
  for (const [i, c] of clients.entries()) {
    // (The gate job has no client, so its progress_state is broadcast: §2.4. Only ours count.)
    const foreign = c.messages.filter((m) => owners.has(m.data['prompt_id'] as string) && owners.get(m.data['prompt_id'] as string) !== i);
    expect(foreign, `client ${i}`).toEqual([]);
  }
  const history = (await httpJson(`${t.url}/history`)).json as Record<string, { status: { status_str: string } }>;
  for (const promptId of owners.keys()) expect(history[promptId]?.status.status_str).toBe('success');
  expect((await httpJson(`${t.url}/prompt`)).json).toEqual({ exec_info: { queue_remaining: 0 } });
});
