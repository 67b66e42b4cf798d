import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { gatePrompt, openGate, startTestServer, TestSocket, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const saveImagePrompt = {
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0xff0000 } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'flow' } },
};

describe('one prompt over HTTP + WebSocket', () => {
  it('sends status with sid first, then the §2.6 order ending in status and executing null', async () => {
    const ws = await TestSocket.open(t.url, '/ws?clientId=flowclient');
    const first = await ws.waitFor(() => true);
    expect(first).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: 'flowclient' } });

    const res = await request(t.url).post('/prompt').send({ prompt: saveImagePrompt, client_id: 'flowclient' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ prompt_id: expect.stringMatching(/^[0-9a-f-]{36}$/), number: expect.any(Number), node_errors: {} });
    const id = res.body.prompt_id as string;
    await ws.done(id);
    const success = ws.messages.findIndex((m) => m.type === 'execution_success');
    const start = ws.messages.findIndex((m) => m.type === 'execution_start');
    const types = ws.messages.map((m) => m.type);
    expect(types.slice(0, start)).toEqual(['status', 'status', 'status']); // initial, enqueue, job start
    expect(types[start + 1]).toBe('execution_cached');
    expect(types.slice(success)).toEqual(['execution_success', 'status', 'executing']);
    expect(ws.messages.at(-2)!.data).toEqual({ status: { exec_info: { queue_remaining: 0 } } });
    const at = (type: string, node?: string) => ws.messages.findIndex((m) => m.type === type && (node === undefined || m.data['node'] === node));
    expect(types[start + 2]).toBe('progress_state');
    expect(at('executing', '1')).toBeGreaterThan(start + 1);
    expect(at('executing', '2')).toBeGreaterThan(at('executing', '1'));
    expect(at('executed', '2')).toBeGreaterThan(at('executing', '2'));
    expect(at('executed', '2')).toBeLessThan(success);
    expect(ws.messages[at('executing', '2')]!.data).toEqual({ node: '2', display_node: '2', prompt_id: id });
    const executed = ws.messages.find((m) => m.type === 'executed')!;
    expect(executed.data['node']).toBe('2');
    expect((executed.data['output'] as { images: unknown[] }).images[0]).toMatchObject({ subfolder: '', type: 'output' });

    const hist = await request(t.url).get(`/history/${id}`);
    expect(hist.status).toBe(200);
    const entry = hist.body[id];
    expect(entry.prompt).toEqual([res.body.number, id, saveImagePrompt, expect.objectContaining({ client_id: 'flowclient', create_time: expect.any(Number) }), ['2']]);
    expect(entry.status).toMatchObject({ status_str: 'success', completed: true });
    expect(entry.status.messages.map((m: [string]) => m[0])).toEqual(['execution_start', 'execution_cached', 'execution_success']);
    const img = entry.outputs['2'].images[0];
    const view = await request(t.url).get('/api/view').query({ filename: img.filename, type: 'output', subfolder: '' });
    expect(view.status).toBe(200);
    expect(view.headers['content-type']).toBe('image/png');
    ws.close();
  });

  it('sends previews as type 1, or type 4 with metadata after feature-flag negotiation, and progress text as type 3', async () => {
    const legacy = await TestSocket.open(t.url, '/ws?clientId=legacy');
    const modern = await TestSocket.open(t.url, '/api/ws?clientId=modern');
    await modern.waitFor((m) => m.type === 'status');
    modern.send({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    const reply = await modern.waitFor((m) => m.type === 'feature_flags');
    expect(reply.data).toMatchObject({ supports_preview_metadata: true, max_upload_size: 104857600, assets: false });
    // A second feature_flags message is ignored (only the first message negotiates).
    modern.send({ type: 'feature_flags', data: {} });

    // No client_id: progress and previews are broadcast to every socket.
    const res = await request(t.url).post('/api/prompt').send({ prompt: { '1': { class_type: 'TestProgress', inputs: { steps: 2 } } } });
    expect(res.status).toBe(200);
    await modern.waitFor((m) => m.type === 'status' && (m.data['status'] as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0 && modern.binary.length >= 3);
    await legacy.waitFor(() => legacy.binary.length >= 3);
    expect(modern.messages.filter((m) => m.type === 'feature_flags')).toHaveLength(1);

    const legacyPreview = legacy.binary.find((b) => b.readUInt32BE(0) === 1)!;
    expect(legacyPreview.readUInt32BE(4)).toBe(2); // PNG
    expect(legacyPreview.subarray(8, 12).toString('latin1')).toBe('\x89PNG');
    expect(legacy.binary.some((b) => b.readUInt32BE(0) === 4)).toBe(false);

    const metaFrame = modern.binary.find((b) => b.readUInt32BE(0) === 4)!;
    const jsonLen = metaFrame.readUInt32BE(4);
    const meta = JSON.parse(metaFrame.subarray(8, 8 + jsonLen).toString('utf8'));
    expect(meta).toMatchObject({ node_id: '1', prompt_id: res.body.prompt_id, display_node_id: '1', real_node_id: '1', image_type: 'image/png' });
    expect(metaFrame.subarray(8 + jsonLen, 12 + jsonLen).toString('latin1')).toBe('\x89PNG');
    expect(modern.binary.some((b) => b.readUInt32BE(0) === 1)).toBe(false);

    const text = modern.binary.find((b) => b.readUInt32BE(0) === 3)!;
    const idLen = text.readUInt32BE(4);
    expect(text.subarray(8, 8 + idLen).toString()).toBe('1');
    expect(text.subarray(8 + idLen).toString()).toBe('half way');
    legacy.close();
    modern.close();
  });

  it('mints a 32-hex sid without clientId and replays executing to the reconnecting owner', async () => {
    const anon = await TestSocket.open(t.url, '/ws');
    const first = await anon.waitFor(() => true);
    expect(first.data['sid']).toMatch(/^[0-9a-f]{32}$/);
    anon.close();

    const owner = await TestSocket.open(t.url, '/ws?clientId=owner');
    const res = await request(t.url).post('/prompt').send({ prompt: gatePrompt('replay'), client_id: 'owner' });
    await owner.waitFor((m) => m.type === 'executing' && m.data['node'] === '1');
    owner.close();
    const again = await TestSocket.open(t.url, '/ws?clientId=owner');
    await again.waitFor((m) => m.type === 'executing');
    expect(again.messages.slice(0, 2)).toEqual([
      { type: 'status', data: { status: { exec_info: { queue_remaining: 1 } }, sid: 'owner' } },
      { type: 'executing', data: { node: '1' } },
    ]);
    openGate('replay');
    await again.done(res.body.prompt_id);
    again.close();
  });
});

describe('caching across prompts', () => {
  it('reports cached nodes on a rerun, and POST /free {free_memory} drops the caches', async () => {
    const ws = await TestSocket.open(t.url, '/ws?clientId=cache');
    const prompt = {
      '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 77 } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    };
    const cachedOf = async () => {
      const res = await request(t.url).post('/prompt').send({ prompt, client_id: 'cache' });
      await ws.done(res.body.prompt_id);
      const msg = ws.messages.find((m) => m.type === 'execution_cached' && m.data['prompt_id'] === res.body.prompt_id)!;
      return (msg.data['nodes'] as string[]).slice().sort();
    };
    expect(await cachedOf()).toEqual([]);
    expect(await cachedOf()).toEqual(['1', '2']);
    await request(t.url).post('/api/free').send({ free_memory: true }).expect(200);
    // The idle worker wakes on the flag and clears the caches before the next request is read.
    expect(await cachedOf()).toEqual([]);
    ws.close();
  });
});

describe('queue, interrupt and failures', () => {
  it('orders by number, deletes and clears pending items, and GET /prompt counts pending + running', async () => {
    const ws = await TestSocket.open(t.url, '/ws?clientId=q');
    const running = await request(t.url).post('/prompt').send({ prompt: gatePrompt('q-run'), client_id: 'q' });
    await ws.waitFor((m) => m.type === 'executing' && m.data['node'] === '1');
    const a = await request(t.url).post('/prompt').send({ prompt: gatePrompt('q-a'), number: 50 });
    const b = await request(t.url).post('/prompt').send({ prompt: gatePrompt('q-b'), number: 10 });
    const c = await request(t.url).post('/api/prompt').send({ prompt: gatePrompt('q-c'), number: 30 });
    expect(b.body.number).toBe(10);

    const queue = await request(t.url).get('/queue');
    expect(queue.body.queue_running).toEqual([[running.body.number, running.body.prompt_id, gatePrompt('q-run'), expect.any(Object), ['1']]]);
    expect(queue.body.queue_pending.map((i: unknown[]) => i[1])).toEqual([b.body.prompt_id, c.body.prompt_id, a.body.prompt_id]);
    expect((await request(t.url).get('/api/prompt')).body).toEqual({ exec_info: { queue_remaining: 4 } });

    const before = ws.messages.length;
    expect((await request(t.url).post('/queue').send({ delete: [c.body.prompt_id] })).status).toBe(200);
    await ws.waitFor((m) => ws.messages.indexOf(m) >= before && m.type === 'status');
    expect((await request(t.url).get('/queue')).body.queue_pending.map((i: unknown[]) => i[1])).toEqual([b.body.prompt_id, a.body.prompt_id]);
    expect((await request(t.url).post('/api/queue').send({ clear: true })).status).toBe(200);
    expect((await request(t.url).get('/queue')).body.queue_pending).toEqual([]);
    expect((await request(t.url).get('/queue')).body.queue_running).toHaveLength(1);

    // Interrupt by a different id is a no-op; by the running id stops it.
    await request(t.url).post('/interrupt').send({ prompt_id: a.body.prompt_id }).expect(200);
    expect((await request(t.url).get('/queue')).body.queue_running).toHaveLength(1);
    await request(t.url).post('/api/interrupt').send({ prompt_id: running.body.prompt_id }).expect(200);
    await ws.done(running.body.prompt_id);
    const hist = (await request(t.url).get(`/history/${running.body.prompt_id}`)).body[running.body.prompt_id];
    expect(hist.status.status_str).toBe('error');
    expect(hist.status.messages.map((m: [string]) => m[0])).toContain('execution_interrupted');
    ws.close();
  });

  it('global interrupt with a malformed body still interrupts; a failing prompt does not stop the worker', async () => {
    const ws = await TestSocket.open(t.url, '/ws?clientId=g');
    const gated = await request(t.url).post('/prompt').send({ prompt: gatePrompt('g-run'), client_id: 'g' });
    const failing = await request(t.url).post('/prompt').send({ prompt: { '1': { class_type: 'TestFail', inputs: { message: 'kaput' } } }, client_id: 'g' });
    const after = await request(t.url).post('/prompt').send({ prompt: gatePrompt('g-after'), client_id: 'g' });
    await ws.waitFor((m) => m.type === 'executing' && m.data['prompt_id'] === gated.body.prompt_id && m.data['node'] === '1');
    await request(t.url).post('/interrupt').set('Content-Type', 'text/plain').send('{not json').expect(200);
    await ws.done(gated.body.prompt_id);
    await ws.done(failing.body.prompt_id);
    const err = ws.messages.find((m) => m.type === 'execution_error')!;
    expect(err.data).toMatchObject({ prompt_id: failing.body.prompt_id, node_id: '1', node_type: 'TestFail', exception_message: expect.stringContaining('kaput') });
    openGate('g-after');
    await ws.done(after.body.prompt_id);
    const hist = await request(t.url).get('/history').query({ max_items: 2 });
    expect(Object.keys(hist.body)).toEqual([failing.body.prompt_id, after.body.prompt_id]);
    expect(hist.body[after.body.prompt_id].status.status_str).toBe('success');
    ws.close();
  });
});

describe('POST /prompt input checking', () => {
  it('answers ComfyUI error shapes', async () => {
    const noPrompt = await request(t.url).post('/prompt').send({ client_id: 'x' });
    expect(noPrompt.status).toBe(400);
    expect(noPrompt.body).toEqual({ error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });

    const badId = await request(t.url).post('/prompt').send({ prompt: gatePrompt('x'), prompt_id: 'ABC' });
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatchObject({ type: 'invalid_prompt_id', message: 'prompt_id must be a valid UUID' });
    const upper = await request(t.url).post('/prompt').send({ prompt: gatePrompt('x'), prompt_id: '6F0C1B2A-0000-4000-8000-000000000000' });
    expect(upper.status).toBe(400);

    const invalid = await request(t.url).post('/api/prompt').send({ prompt: { '9': { class_type: 'SaveImage', inputs: {} } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.type).toBe('prompt_outputs_failed_validation');
    expect(invalid.body.node_errors['9'].errors[0].type).toBe('required_input_missing');

    const notObject = await request(t.url).post('/prompt').send({ prompt: [1, 2] });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.type).toBeTypeOf('string');
  });

  it('executes only the partial_execution_targets outputs', async () => {
    const ws = await TestSocket.open(t.url, '/ws?clientId=partial');
    const prompt = {
      '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 5 } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'partial' } },
    };
    const res = await request(t.url).post('/prompt').send({ prompt, client_id: 'partial', partial_execution_targets: ['2'] });
    expect(res.status).toBe(200);
    await ws.done(res.body.prompt_id);
    const entry = (await request(t.url).get(`/history/${res.body.prompt_id}`)).body[res.body.prompt_id];
    expect(entry.prompt[4]).toEqual(['2']);
    expect(Object.keys(entry.outputs)).toEqual(['2']);
    const bad = await request(t.url).post('/prompt').send({ prompt, partial_execution_targets: '2' });
    expect(bad.status).toBe(400);
    ws.close();
  });

  it('accepts a client-chosen id, front priority, usage source and splits off sensitive keys', async () => {
    const ws = await TestSocket.open(t.url, '/ws?clientId=opts');
    const blocker = await request(t.url).post('/prompt').send({ prompt: gatePrompt('opts-block'), client_id: 'opts' });
    await ws.waitFor((m) => m.type === 'executing' && m.data['prompt_id'] === blocker.body.prompt_id);
    const id = '0b5c8d1e-2f3a-4b5c-8d6e-7f8091a2b3c4';
    const res = await request(t.url)
      .post('/prompt')
      .set('Comfy-Usage-Source', 'test-suite')
      .send({ prompt: gatePrompt('opts-chosen'), prompt_id: id, front: true, extra_data: { api_key_comfy_org: 'secret', auth_token_comfy_org: 't', keep: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.prompt_id).toBe(id);
    expect(res.body.number).toBeLessThanOrEqual(0);
    const pending = (await request(t.url).get('/queue')).body.queue_pending;
    const item = pending.find((i: unknown[]) => i[1] === id);
    expect(item[3]).toEqual({ keep: 1, comfy_usage_source: 'test-suite', create_time: expect.any(Number) });
    expect(JSON.stringify((await request(t.url).get(`/api/jobs/${id}`)).body)).not.toContain('secret');
    await request(t.url).post('/queue').send({ delete: [id] }).expect(200);
    openGate('opts-block');
    await ws.done(blocker.body.prompt_id);
    ws.close();
  });
});
