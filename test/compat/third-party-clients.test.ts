/**
 * The two published npm clients against a real server: `@stable-canvas/comfyui-client` (`Client`)
 * and `@saintno/comfyui-sdk` (`ComfyApi` + `CallWrapper`). Everything goes through the clients'
 * own APIs; only the PNG checks decode what the client fetched. Node 20 has no WebSocket global, so
 * the stable-canvas client gets `ws` as its README says; the saintno SDK imports `ws` itself.
 *
 * Both clients subscribe to a prompt's WS events only after they have parsed the POST /prompt
 * reply. With the server in the test's own process a weight-free prompt can finish before that,
 * and the client then waits forever (a client-side race; ComfyUI has it too, its Python worker is
 * just slower). So every client run here is queued behind a `TestGate` prompt that is opened
 * once the client has subscribed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Client } from '@stable-canvas/comfyui-client';
import { CallWrapper, ComfyApi, PromptBuilder } from '@saintno/comfyui-sdk';
import { decodePng, distinctRgb, gatePrompt, httpJson, invertPrompt, invertedRgb, openCompatGate, openGate, solidPng, startCompatServer, type TestServer } from './compat-helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startCompatServer();
});

afterAll(async () => {
  await t.close();
});

let gates = 0;

/** Queues a TestGate prompt (no client id) that holds the worker; returns the opener. */
async function holdWorker(): Promise<() => void> {
  const name = `hold-${++gates}`;
  const res = await httpJson(`${t.url}/prompt`, { body: { prompt: gatePrompt(name) } });
  expect(res.status).toBe(200);
  return () => openGate(name);
}

/** Each channel within 1 of the expected value (8-bit rounding of 1 − x). */
function expectRgbNear(actual: string, rgb: [number, number, number]): void {
  const got = actual.split(',').map(Number);
  got.forEach((v, i) => expect(Math.abs(v - rgb[i]!)).toBeLessThanOrEqual(1));
}

describe('@stable-canvas/comfyui-client', () => {
  let client: Client;
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];

  beforeAll(async () => {
    client = new Client({ api_host: new URL(t.url).host, WebSocket, fetch, clientId: 'stable-canvas-1' });
    for (const type of ['execution_start', 'execution_cached', 'executing', 'executed', 'execution_success', 'execution_error', 'progress'] as const) {
      client.on(type, (data: unknown) => events.push({ type, data: data as Record<string, unknown> }));
    }
    await expect(client.connect({ timeout_ms: 10_000 })).resolves.toBe(true);
  });

  afterAll(() => client.close());

  /** `client.enqueue` behind a held worker, released once the client listens for `executed`. */
  async function enqueueHeld(prompt: Record<string, unknown>, options?: Parameters<Client['enqueue']>[1]) {
    const release = await holdWorker();
    const before = client.events.listenerCount('executed');
    const run = client.enqueue(prompt, options);
    await waitUntil(() => client.events.listenerCount('executed') > before);
    release();
    return run;
  }

  test('keeps its own client id as the sid and reads system stats and node definitions', async () => {
    expect(client.clientId).toBe('stable-canvas-1');
    const stats = await client.getSystemStats();
    expect(stats.system).toMatchObject({ os: expect.any(String), python_version: expect.any(String), embedded_python: false, comfyui_version: expect.any(String), pytorch_version: expect.any(String) });
    expect(stats.system.argv).toBeInstanceOf(Array);
    expect(stats.devices.length).toBeGreaterThan(0);
    for (const key of ['name', 'type', 'index', 'vram_total', 'vram_free', 'torch_vram_total', 'torch_vram_free']) expect(stats.devices[0]).toHaveProperty(key);

    const defs = await client.getNodeDefs();
    for (const name of ['EmptyImage', 'ImageInvert', 'SaveImage', 'PreviewImage', 'LoadImage', 'EmptySD3LatentImage', 'SaveLatent']) {
      expect(defs[name], name).toMatchObject({ name, display_name: expect.any(String), description: expect.any(String), category: expect.any(String), output_node: expect.any(Boolean) });
    }
    expect(defs['EmptyImage']!.input.required!['width']).toEqual(['INT', expect.objectContaining({ default: 512, min: 1 })]);
    expect(defs['SaveImage']!.output_node).toBe(true);
    // The client reads KSampler's combos from /object_info: our list, in ComfyUI's order.
    const samplers = await client.getSamplers();
    expect(samplers).toEqual(defs['KSampler']!.input.required!['sampler_name']![0]);
    expect(samplers.slice(0, 3)).toEqual(['euler', 'euler_ancestral', 'heun']);
    await expect(client.getSchedulers()).resolves.toContain('sgm_uniform');
    await expect(client.getExtensions()).resolves.toBeInstanceOf(Array);
    await expect(client.getEmbeddings()).resolves.toEqual([]);
  });

  test('enqueue() runs EmptyImage → ImageInvert → SaveImage, reports the WS events, and the image comes back over /view', async () => {
    const color = 0x204060;
    const out = await enqueueHeld(invertPrompt({ color, prefix: 'stable-canvas' }));
    expect(out.prompt_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.images).toHaveLength(1);
    const image = out.images[0]!;
    expect(image.type).toBe('url');
    expect(image.data).toBe(client.viewURL('stable-canvas_00001_.png', '', 'output'));
    const res = await client.fetch(image.data as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = await decodePng(await res.arrayBuffer());
    expect([png.width, png.height]).toEqual([8, 4]);
    const colours = distinctRgb(png);
    expect(colours).toHaveLength(1);
    expectRgbNear(colours[0]!, invertedRgb(color));

    await waitUntil(() => events.some((e) => e.type === 'execution_success' && e.data['prompt_id'] === out.prompt_id));
    const mine = events.filter((e) => e.data['prompt_id'] === out.prompt_id).map((e) => (e.type === 'executing' ? `executing:${String(e.data['node'])}` : e.type));
    expect(mine).toEqual(['execution_start', 'execution_cached', 'executing:1', 'executing:2', 'executing:3', 'executed', 'execution_success', 'executing:null']);
  });

  test('enqueue() forwards progress events of its prompt to the progress callback', async () => {
    const seen: Array<{ value: number; max: number }> = [];
    const out = await enqueueHeld({ '1': { class_type: 'TestProgress', inputs: { steps: 3 } } }, { progress: (p) => seen.push({ value: p.value, max: p.max }) });
    expect(out.prompt_id).toBeTruthy();
    expect(seen).toEqual([1, 2, 3].map((value) => ({ value, max: 3 })));
  });

  test('runPrompt() (HTTP polling of /queue and /history) returns the same outputs', async () => {
    const out = await client.runPrompt(invertPrompt({ color: 0xffffff, prefix: 'polled' }), { polling_ms: 20, timeout_ms: 20_000 });
    expect(out.images).toEqual([{ type: 'url', data: client.viewURL('polled_00001_.png', '', 'output') }]);
    const { History } = await client.getHistory(10);
    const entry = History.find((h) => h.prompt[1] === out.prompt_id)!;
    expect(entry.status).toMatchObject({ status_str: 'success', completed: true });
    expect(entry.outputs['3']).toEqual({ images: [{ filename: 'polled_00001_.png', subfolder: '', type: 'output' }] });
    const { Running, Pending } = await client.getQueue();
    expect([Running, Pending]).toEqual([[], []]);
  });

  test('a prompt failing validation rejects enqueue(); a failing node rejects with its exception', async () => {
    // fetchApi throws its HttpError (status + parsed body) before queuePrompt looks at the reply.
    const invalid = await client.enqueue({ '1': { class_type: 'SaveImage', inputs: { filename_prefix: 'x' } } }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ name: 'HttpError', status: 400, json: { error: { type: 'prompt_outputs_failed_validation' }, node_errors: { '1': { class_type: 'SaveImage' } } } });
    await expect(enqueueHeld({ '1': { class_type: 'TestFail', inputs: { message: 'kaputt' } } })).rejects.toThrow(/kaputt/);
  });

  test('queue, history, interrupt, free and settings helpers succeed', async () => {
    await client.interrupt();
    await client.interrupt('00000000-0000-4000-8000-000000000000');
    await client.free({ unload_models: true, free_memory: true });
    await client.clearItems('queue');
    const { History } = await client.getHistory();
    const first = History[0]!.prompt[1];
    await client.deleteItem('history', first);
    expect((await client.getHistory()).History.map((h) => h.prompt[1])).not.toContain(first);
    await client.storeSetting('Comfy.Compat.Test', { a: 1 });
    await expect(client.getSetting('Comfy.Compat.Test')).resolves.toEqual({ a: 1 });
    await expect(client.getSettings()).resolves.toMatchObject({ 'Comfy.Compat.Test': { a: 1 } });
    await expect(client.getUserConfig()).resolves.toMatchObject({ storage: 'server' });
  });
});

describe('@saintno/comfyui-sdk', () => {
  let api: ComfyApi;
  const sdkLog: string[] = [];

  beforeAll(async () => {
    api = new ComfyApi(t.url, 'saintno-sdk-1');
    api.on('log', (ev) => sdkLog.push(`${ev.detail.msg}`));
    api.init(5, 100);
    await api.waitForReady();
  });

  afterAll(() => api.destroy());

  test('initialises (ping, system stats, socket) and reads node definitions', async () => {
    const stats = await api.getSystemStats();
    expect(stats.system.os).toBe(process.platform === 'win32' ? 'nt' : process.platform);
    await waitUntil(() => api.osType !== undefined);
    expect(api.osType).toBe(stats.system.os);
    const one = await api.getNodeDefs('EmptySD3LatentImage');
    expect(Object.keys(one!)).toEqual(['EmptySD3LatentImage']);
    expect(one!['EmptySD3LatentImage']!.output).toEqual(['LATENT']);
    const all = await api.getNodeDefs();
    expect(Object.keys(all!)).toEqual(expect.arrayContaining(['LoadImage', 'SaveImage', 'ImageInvert']));
    await expect(api.getQueue()).resolves.toEqual({ queue_running: [], queue_pending: [] });
    await expect(api.getFeatures()).resolves.toMatchObject({ supports_preview_metadata: true });
    await expect(api.getModelTypes()).resolves.toEqual(expect.arrayContaining(['checkpoints', 'loras']));
    await expect(api.getEmbeddings()).resolves.toEqual([]);
  });

  test('uploadImage() stores the file, dedupes equal content and renames different content', async () => {
    const red = await solidPng(6, 5, [255, 0, 0]);
    const first = await api.uploadImage(red, 'cat.png');
    expect(first && first.info).toMatchObject({ name: 'cat.png', filename: 'cat.png', subfolder: '', type: 'input' });
    const again = await api.uploadImage(red, 'cat.png');
    expect(again && again.info.filename).toBe('cat.png');
    const other = await api.uploadImage(await solidPng(6, 5, [0, 0, 255]), 'cat.png');
    expect(other && other.info.filename).toBe('cat (1).png');
    const nested = await api.uploadImage(red, 'dog.png', { subfolder: 'pets', override: true });
    expect(nested && nested.info).toMatchObject({ filename: 'dog.png', subfolder: 'pets', type: 'input' });
    if (!nested) throw new Error('upload of pets/dog.png failed');
    const back = await decodePng(await (await api.getImage(nested.info)).arrayBuffer());
    expect(distinctRgb(back)).toEqual(['255,0,0']);
  });

  test('CallWrapper runs LoadImage(uploaded) → ImageInvert → SaveImage and the output is fetched with getImage()', async () => {
    await api.uploadImage(await solidPng(6, 5, [255, 0, 0]), 'dog.png', { subfolder: 'pets', override: true });
    const builder = loadInvertSave('pets/dog.png');
    const seen: string[] = [];
    const executed: unknown[] = [];
    const offExecuted = api.on('executed', (ev) => executed.push(ev.detail));
    const result = await runHeld(new CallWrapper(api, builder), () => seen.push('pending'))
      .onOutput((key) => seen.push(`output:${String(key)}`))
      .onFinished(() => seen.push('finished'))
      .onFailed((err) => seen.push(`failed:${err.message}`))
      .run();
    offExecuted();
    expect(seen).toEqual(['pending', 'output:images', 'finished']);
    expect(result).toBeTruthy();
    const images = (result as { images: { images: Array<{ filename: string; subfolder: string; type: string }> } }).images.images;
    expect(images).toEqual([{ filename: 'saintno_00001_.png', subfolder: '', type: 'output' }]);
    expect(executed).toHaveLength(1);
    const png = await decodePng(await (await api.getImage(images[0]!)).arrayBuffer());
    expect([png.width, png.height]).toEqual([6, 5]);
    expect(distinctRgb(png)).toEqual(['0,255,255']);

    // The same prompt again is fully cached: CallWrapper takes its execution_cached → /history path.
    const cached = await runHeld(new CallWrapper(api, loadInvertSave('pets/dog.png'))).run();
    expect(cached).toEqual(result);
  });

  test('CallWrapper reports progress and start, and failures with the node exception', async () => {
    // CallWrapper subscribes to `progress` only after its first /history round trip, so the
    // progress node waits on a gate that opens once that subscription exists.
    const progress: Array<{ value: number; max: number }> = [];
    let started = false;
    let gate = 'sdk-progress';
    const on = api.on.bind(api);
    api.on = ((type, callback, options) => {
      if (type === 'progress') openCompatGate(gate);
      return on(type, callback, options);
    }) as typeof api.on;
    const workflow = { '1': { class_type: 'CompatGatedProgress', inputs: { gate: 'sdk-progress', steps: 2 }, _meta: { title: 'progress' } } };
    const builder = new PromptBuilder(workflow, ['steps'], ['text']).setInputNode('steps', '1.inputs.steps').setOutputNode('text', '1').input('steps', 4);
    const done = await runHeld(new CallWrapper(api, builder))
      .onStart(() => (started = true))
      .onProgress((p) => progress.push({ value: p.value, max: p.max }))
      .run();
    expect(done).toEqual({ text: { text: ['progressed 4'] } });
    expect(started).toBe(true);
    expect(progress).toEqual([1, 2, 3, 4].map((value) => ({ value, max: 4 })));

    gate = 'sdk-fail';
    const failures: Error[] = [];
    const failing = new PromptBuilder({ '1': { class_type: 'CompatGatedProgress', inputs: { gate, steps: 1, fail: 'sdk-boom' }, _meta: { title: 'fail' } } }, [], ['out']).setOutputNode('out', '1');
    await expect(runHeld(new CallWrapper(api, failing)).onFailed((e) => failures.push(e)).run()).resolves.toBe(false);
    api.on = on;
    expect(failures.map((e) => e.name)).toEqual(['CustomEventError']);
    expect(failures[0]!.cause).toMatchObject({ exception_message: expect.stringMatching(/^sdk-boom/), node_id: '1', node_type: 'CompatGatedProgress' });

    const invalid = new PromptBuilder({ '1': { class_type: 'NoSuchNode', inputs: {}, _meta: { title: 'missing' } } }, [], ['out']).setOutputNode('out', '1');
    const enqueueErrors: Error[] = [];
    await new CallWrapper(api, invalid).onFailed((e) => enqueueErrors.push(e)).run();
    expect(enqueueErrors[0]!.name).toBe('EnqueueFailedError');
    expect(enqueueErrors[0]!.cause).toMatchObject({ error: { type: 'missing_node_type' }, node_errors: {} });
  });

  test('user data, settings, free memory and interrupt go through', async () => {
    await api.storeUserData('workflows/compat.json', { nodes: [] });
    await expect((await api.getUserData('workflows/compat.json')).json()).resolves.toEqual({ nodes: [] });
    await expect(api.listUserData('workflows')).resolves.toEqual(['compat.json']);
    await api.deleteUserData('workflows/compat.json');
    await expect(api.listUserData('workflows')).resolves.toEqual([]);
    await api.storeSetting('Comfy.Sdk', 'x');
    await expect(api.getSetting('Comfy.Sdk')).resolves.toBe('x');
    await expect(api.freeMemory(true, true)).resolves.toBe(true);
    await api.interrupt();
    expect(sdkLog.filter((m) => /fail/i.test(m))).toEqual([]);
  });
});

/**
 * Queues a held worker and opens it from the wrapper's onPending (the client subscribes right
 * after that callback, before any socket frame can be read). Call the wrapper's `run()` next.
 */
function runHeld<W extends { onPending(fn: (promptId?: string) => void): W }>(wrapper: W, alsoOnPending?: () => void): W & { run(): Promise<unknown> } {
  const held = holdWorker();
  const wrapped = wrapper.onPending(() => {
    alsoOnPending?.();
    void held.then((release) => release());
  }) as W & { run(): Promise<unknown> };
  const run = wrapped.run.bind(wrapped);
  wrapped.run = async () => {
    await held;
    return run();
  };
  return wrapped;
}

function loadInvertSave(image: string) {
  const workflow = {
    '1': { class_type: 'LoadImage', inputs: { image: '' }, _meta: { title: 'Load Image' } },
    '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] }, _meta: { title: 'Invert Image' } },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'saintno' }, _meta: { title: 'Save Image' } },
  };
  return new PromptBuilder(workflow, ['image'], ['images']).setInputNode('image', '1.inputs.image').setOutputNode('images', '3').input('image', image);
}

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}
