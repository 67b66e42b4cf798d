/**
 * Multi-user isolation (`--multi-user` with authentication): two users never read each other's
 * history, jobs, queue items, images, uploads, user data or WebSocket events; an admin sees all.
 * Also the per-user limits on POST /prompt (429 in ComfyUI's shape).
 */
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../server/auth/credentials.js';
import { gatePrompt, makeBaseDir, openGate, startTestServer, TestSocket, TINY_PNG, type TestServer } from './helpers.js';

const auth = (user: string) => `Basic ${Buffer.from(`${user}:${user}-password`).toString('base64')}`;
const saveImagePrompt = (color: number, prefix: string) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
});

let t: TestServer;
const as = (user: string) => ({
  get: (url: string) => request(t.url).get(url).set('Authorization', auth(user)),
  post: (url: string, body?: unknown) => request(t.url).post(url).set('Authorization', auth(user)).send(body as object),
});

beforeAll(async () => {
  const base = makeBaseDir();
  const creds = new CredentialStore(path.join(base, 'user', 'comfy8-auth.json'));
  for (const u of ['alice', 'bob']) creds.addUser(u, `${u}-password`, 'user');
  creds.addUser('root', 'root-password', 'admin');
  t = await startTestServer({ authModes: ['basic'], multiUser: true }, { base });
});
afterAll(() => t.close());

async function queue(user: string, prompt: unknown, clientId?: string): Promise<string> {
  const res = await as(user).post('/prompt', { prompt, ...(clientId ? { client_id: clientId } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.prompt_id as string;
}

describe('two users', () => {
  it('see only their own history, jobs, queue, images, uploads, user data and events', async () => {
    const aliceWs = await TestSocket.open(t.url, '/ws?clientId=alice-tab', { headers: { Authorization: auth('alice') } });
    const bobWs = await TestSocket.open(t.url, '/ws?clientId=bob-tab', { headers: { Authorization: auth('bob') } });
    // Bob cannot take over Alice's client id: he gets a sid of his own.
    const thief = await TestSocket.open(t.url, '/ws?clientId=alice-tab', { headers: { Authorization: auth('bob') } });
    const thiefSid = (await thief.waitFor((m) => m.type === 'status')).data['sid'];
    expect(thiefSid).not.toBe('alice-tab');

    const targeted = await queue('alice', saveImagePrompt(0xff0000, 'alice'), 'alice-tab');
    await aliceWs.done(targeted);
    const untargeted = await queue('alice', saveImagePrompt(0x00ff00, 'alice'));
    // Without a client id, progress events are broadcast (ComfyUI): under isolation, to Alice only.
    await aliceWs.waitFor((m) => m.type === 'progress_state' && m.data['prompt_id'] === untargeted);
    const bobs = await queue('bob', saveImagePrompt(0x0000ff, 'bob'), 'bob-tab');
    await bobWs.done(bobs);

    // History and jobs (Bob's prompt ran after Alice's: both of hers are in history)
    const aliceHistory = (await as('alice').get('/history')).body;
    expect(Object.keys(aliceHistory).sort()).toEqual([targeted, untargeted].sort());
    expect(Object.keys((await as('bob').get('/api/history')).body)).toEqual([bobs]);
    expect((await as('bob').get(`/history/${targeted}`)).body).toEqual({});
    expect((await as('bob').get(`/api/jobs/${targeted}`)).status).toBe(404);
    expect((await as('bob').get('/api/jobs')).body.jobs.map((j: { id: string }) => j.id)).toEqual([bobs]);
    expect((await as('root').get('/api/jobs')).body.jobs).toHaveLength(3);
    expect(Object.keys((await as('root').get('/history')).body)).toHaveLength(3);

    // Images
    const image = aliceHistory[targeted].outputs['2'].images[0] as { filename: string; subfolder: string; type: string };
    const view = (user: string, sub = image.subfolder) => as(user).get(`/view?filename=${encodeURIComponent(image.filename)}&subfolder=${encodeURIComponent(sub)}&type=output`);
    expect((await view('alice')).status).toBe(200);
    expect((await view('root')).status).toBe(200);
    expect((await view('bob')).status).toBe(404);
    expect((await view('bob', './')).status).toBe(404);
    expect((await as('bob').get('/internal/files/output')).body).not.toContain(image.filename);
    expect((await as('alice').get('/internal/files/output')).body).toContain(image.filename);

    // Uploads
    const up = await request(t.url).post('/upload/image').set('Authorization', auth('alice')).attach('image', TINY_PNG, 'private.png');
    expect(up.status).toBe(200);
    expect((await as('bob').get('/view?filename=private.png&type=input')).status).toBe(404);
    expect((await as('alice').get('/view?filename=private.png&type=input')).status).toBe(200);
    const mask = await request(t.url)
      .post('/upload/mask')
      .set('Authorization', auth('bob'))
      .field('original_ref', JSON.stringify({ filename: 'private.png', type: 'input' }))
      .attach('image', TINY_PNG, 'm.png');
    expect(mask.status).toBe(404);

    // User data
    expect((await as('alice').post('/userdata/secret.json', '{"a":1}').set('Content-Type', 'application/octet-stream')).status).toBe(200);
    expect((await as('alice').get('/userdata/secret.json')).status).toBe(200);
    expect((await as('bob').get('/userdata/secret.json')).status).toBe(404);
    expect((await as('bob').get('/userdata/%2e%2e%2falice%2fsecret.json')).status).toBe(403);
    expect((await as('bob').get('/v2/userdata')).body).toEqual([]);

    // Events: nothing about Alice's prompts reached Bob's sockets.
    const bobSaw = JSON.stringify([...bobWs.messages, ...thief.messages]);
    expect(bobSaw).not.toContain(targeted);
    expect(bobSaw).not.toContain(untargeted);
    expect(JSON.stringify(aliceWs.messages)).not.toContain(bobs);
    for (const s of [aliceWs, bobWs, thief]) s.close();
  });

  it("cannot see, cancel, delete or interrupt the other user's queued prompts", async () => {
    const running = await queue('alice', gatePrompt('iso-run'));
    const pending = await queue('alice', gatePrompt('iso-pending'));
    expect((await as('bob').get('/queue')).body).toEqual({ queue_running: [], queue_pending: [] });
    expect((await as('alice').get('/queue')).body.queue_pending.map((i: unknown[]) => i[1])).toEqual([pending]);
    expect((await as('bob').post(`/api/jobs/${pending}/cancel`)).body).toEqual({ cancelled: false });
    expect((await as('bob').post(`/api/jobs/${running}/cancel`)).body).toEqual({ cancelled: false });
    await as('bob').post('/queue', { delete: [pending] });
    await as('bob').post('/queue', { clear: true });
    await as('bob').post('/interrupt', {});
    await as('bob').post('/history', { clear: true });
    expect((await as('alice').get('/queue')).body.queue_pending).toHaveLength(1);
    expect(Object.keys((await as('alice').get('/history')).body).length).toBeGreaterThan(0);
    openGate('iso-run');
    openGate('iso-pending');
    for (let i = 0; i < 200 && (await as('alice').get(`/history/${pending}`)).body[pending] === undefined; i++) await new Promise((r) => setTimeout(r, 25));
    expect((await as('alice').get(`/history/${running}`)).body[running].status.status_str).toBe('success');
  });
});

describe('per-user limits on POST /prompt', () => {
  it('answers 429 in the prompt-error shape for the queue cap and the rate limit, per user', async () => {
    const s = await startTestServer({ multiUser: true, maxQueuedPerUser: 2, maxPromptsPerMinute: 4 });
    try {
      const post = (user: string, gate: string) => request(s.url).post('/prompt').set('Comfy-User', user).send({ prompt: gatePrompt(gate) });
      expect((await post('u1', 'cap-a')).status).toBe(200); // runs
      expect((await post('u1', 'cap-b')).status).toBe(200); // pending 1
      expect((await post('u1', 'cap-c')).status).toBe(200); // pending 2
      const capped = await post('u1', 'cap-d');
      expect(capped.status).toBe(429);
      expect(capped.body).toEqual({ error: { type: 'queue_full', message: expect.stringContaining('at most 2 pending'), details: expect.any(String), extra_info: {} }, node_errors: {} });
      expect((await post('u2', 'cap-e')).status).toBe(200); // another user is not affected
      await request(s.url).post('/queue').set('Comfy-User', 'u1').send({ clear: true });
      expect((await post('u1', 'cap-f')).status).toBe(200); // 4th accepted this minute
      const limited = await post('u1', 'cap-g');
      expect(limited.status).toBe(429);
      expect(limited.body.error.type).toBe('rate_limited');
      expect(limited.body.error.extra_info.retry_after_seconds).toBeGreaterThan(0);
      for (const g of ['cap-a', 'cap-b', 'cap-c', 'cap-e', 'cap-f']) openGate(g);
    } finally {
      await s.close();
    }
  });
});
