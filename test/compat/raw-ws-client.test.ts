/**
 * The stock headless API clients, redone with a raw `ws` socket and plain HTTP exactly as
 * ComfyUI's `script_examples/websockets_api_example.py` and `basic_api_example.py` talk to the
 * server (spec §6): uuid client id, `POST /prompt {prompt, client_id}` with urllib's default form
 * content type, frames read until `executing {node: null, prompt_id}`, then `GET /history/{id}` and
 * `GET /view` for every output image, decoded with sharp.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodePng, distinctRgb, FrameRecorder, httpJson, httpRequest, invertedRgb, solidPng, startTestServer, type ApiPrompt, type TestServer } from './compat-helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.close();
});

/** The headers `urllib.request.urlopen(Request(url, data=...))` sends. */
const URLLIB_HEADERS = {
  'Content-Type': 'application/x-www-form-urlencoded',
  'User-Agent': 'Python-urllib/3.12',
  'Accept-Encoding': 'identity',
  Connection: 'close',
};

interface HistoryImage {
  filename: string;
  subfolder: string;
  type: string;
}

interface HistoryEntry {
  prompt: unknown[];
  outputs: Record<string, Record<string, HistoryImage[]>>;
  status: { status_str: string; completed: boolean; messages: Array<[string, Record<string, unknown>]> };
}

/** `queue_prompt` of the example: JSON bytes posted as urllib posts them. */
async function queuePrompt(prefix: string, prompt: ApiPrompt, clientId?: string): Promise<{ prompt_id: string; number: number; node_errors: object }> {
  const body = clientId === undefined ? { prompt } : { prompt, client_id: clientId };
  const res = await httpJson(`${t.url}${prefix}/prompt`, { body: Buffer.from(JSON.stringify(body), 'utf8'), headers: URLLIB_HEADERS, agent: false });
  expect(res.status, res.body.toString()).toBe(200);
  return res.json as { prompt_id: string; number: number; node_errors: object };
}

async function getHistory(prefix: string, promptId: string): Promise<Record<string, HistoryEntry>> {
  const res = await httpJson(`${t.url}${prefix}/history/${promptId}`, { headers: URLLIB_HEADERS, agent: false });
  expect(res.status).toBe(200);
  return res.json as Record<string, HistoryEntry>;
}

/** `get_image`: `urlencode({filename, subfolder, type})`. */
async function getImage(prefix: string, image: HistoryImage): Promise<Buffer> {
  const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
  const res = await httpRequest(`${t.url}${prefix}/view?${query}`, { headers: URLLIB_HEADERS, agent: false });
  expect(res.status, `${image.filename}: ${res.body.toString()}`).toBe(200);
  return res.body;
}

/** `get_images` of the example: queue, read frames to the end marker, history, every image. */
async function getImages(prefix: string, ws: FrameRecorder, clientId: string, prompt: ApiPrompt) {
  const { prompt_id: promptId } = await queuePrompt(prefix, prompt, clientId);
  await ws.done(promptId);
  const history = (await getHistory(prefix, promptId))[promptId]!;
  const images: Record<string, Buffer[]> = {};
  for (const [nodeId, output] of Object.entries(history.outputs)) {
    if (output['images']) images[nodeId] = await Promise.all(output['images'].map((img) => getImage(prefix, img)));
  }
  return { promptId, history, images };
}

function invertSaveAndPreview(color: number): ApiPrompt {
  return {
    '5': { class_type: 'EmptyImage', inputs: { width: 16, height: 8, batch_size: 2, color } },
    '6': { class_type: 'ImageInvert', inputs: { image: ['5', 0] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ws_example', images: ['6', 0] } },
    '10': { class_type: 'PreviewImage', inputs: { images: ['5', 0] } },
  };
}

function expectSolid(rgb: string[], expected: [number, number, number]): void {
  expect(rgb).toHaveLength(1);
  rgb[0]!.split(',').map(Number).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1));
}

describe('websockets_api_example.py', () => {
  for (const prefix of ['', '/api']) {
    test(`runs a prompt over ${prefix}/ws and downloads every output image (${prefix || 'bare'} routes)`, async () => {
      const clientId = randomUUID();
      const ws = await FrameRecorder.open(t.url, `${prefix}/ws?clientId=${clientId}`);
      const first = await ws.waitFor(() => true);
      expect(first).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: clientId } });

      const color = 0x336699;
      const { promptId, history, images } = await getImages(prefix, ws, clientId, invertSaveAndPreview(color));
      await ws.close();

      expect(history.status).toMatchObject({ status_str: 'success', completed: true });
      expect(history.prompt[1]).toBe(promptId);
      expect(history.outputs['9']!['images']).toEqual([0, 1].map((i) => ({ filename: expect.stringMatching(new RegExp(`^ws_example_0000${i + 1}_\\.png$`)), subfolder: '', type: 'output' })));
      expect(history.outputs['10']!['images']).toEqual([0, 1].map(() => ({ filename: expect.stringMatching(/^ComfyUI_temp_[a-z]{5}_0000[12]_\.png$/), subfolder: '', type: 'temp' })));
      expect(Object.keys(images).sort()).toEqual(['10', '9']);
      for (const png of images['9']!) {
        const img = await decodePng(png);
        expect([img.width, img.height]).toEqual([16, 8]);
        expectSolid(distinctRgb(img), invertedRgb(color));
      }
      for (const png of images['10']!) expectSolid(distinctRgb(await decodePng(png)), [0x33, 0x66, 0x99]);

      // The text frames our client saw, in the order §2.6 gives for an uncached run.
      const types = ws.ofPrompt(promptId).map((m) => m.type);
      expect(types[0]).toBe('execution_start');
      expect(types[1]).toBe('execution_cached');
      expect(types.slice(-2)).toEqual(['execution_success', 'executing']);
      expect(types.filter((x) => x === 'executed')).toHaveLength(2);
    });
  }

  test('LoadImage of a file uploaded with multipart POST /upload/image', async () => {
    const clientId = randomUUID();
    const ws = await FrameRecorder.open(t.url, `/ws?clientId=${clientId}`);
    const form = new FormData();
    form.append('image', new Blob([await solidPng(5, 3, [10, 200, 30])], { type: 'image/png' }), 'photo.png');
    form.append('subfolder', 'raw');
    form.append('type', 'input');
    const upload = await fetch(`${t.url}/upload/image`, { method: 'POST', body: form });
    expect(upload.status).toBe(200);
    expect(await upload.json()).toEqual({ name: 'photo.png', subfolder: 'raw', type: 'input' });

    const prompt: ApiPrompt = {
      '1': { class_type: 'LoadImage', inputs: { image: 'raw/photo.png' } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'uploaded/inv' } },
    };
    const { images, history } = await getImages('', ws, clientId, prompt);
    await ws.close();
    expect(history.outputs['3']!['images']).toEqual([{ filename: 'inv_00001_.png', subfolder: 'uploaded', type: 'output' }]);
    const img = await decodePng(images['3']![0]!);
    expect([img.width, img.height]).toEqual([5, 3]);
    expectSolid(distinctRgb(img), [245, 55, 225]);
  });

  test('EmptySD3LatentImage → SaveLatent: the .latent file listed in history is served by /view', async () => {
    const clientId = randomUUID();
    const ws = await FrameRecorder.open(t.url, `/ws?clientId=${clientId}`);
    const prompt: ApiPrompt = {
      '1': { class_type: 'EmptySD3LatentImage', inputs: { width: 64, height: 32, batch_size: 1 } },
      '2': { class_type: 'SaveLatent', inputs: { samples: ['1', 0], filename_prefix: 'latents/sd3' } },
    };
    const { prompt_id: promptId } = await queuePrompt('', prompt, clientId);
    await ws.done(promptId);
    await ws.close();
    const entry = (await getHistory('', promptId))[promptId]!;
    const latents = entry.outputs['2']!['latents']!;
    expect(latents).toEqual([{ filename: 'sd3_00001_.latent', subfolder: 'latents', type: 'output' }]);
    const file = await getImage('', latents[0]!);
    const headerLength = Number(file.readBigUInt64LE(0));
    const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    expect(header['latent_tensor']).toMatchObject({ shape: [1, 16, 4, 8] });
    const [begin, end] = header['latent_tensor']!.data_offsets as [number, number];
    const data = file.subarray(8 + headerLength + begin, 8 + headerLength + end);
    expect(data.length).toBe(16 * 4 * 8 * 4);
    expect(data.every((b) => b === 0)).toBe(true);
  });
});

describe('basic_api_example.py', () => {
  /** The example never reads a reply past the status; a headless script then polls /history. */
  async function pollHistory(promptId: string): Promise<HistoryEntry> {
    for (let i = 0; i < 1000; i++) {
      const entry = (await getHistory('', promptId))[promptId];
      if (entry) return entry;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`prompt ${promptId} never reached the history`);
  }

  test('POST /prompt without client_id and with the urllib form content type is queued and runs', async () => {
    const reply = await queuePrompt('', {
      '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0xff0000 } },
      '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'basic', images: ['1', 0] } },
    });
    expect(reply).toEqual({ prompt_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/), number: expect.any(Number), node_errors: {} });
    const entry = await pollHistory(reply.prompt_id);
    expect(entry.status.status_str).toBe('success');
    expect(entry.outputs['9']).toEqual({ images: [{ filename: 'basic_00001_.png', subfolder: '', type: 'output' }] });
    expect(distinctRgb(await decodePng(await getImage('', entry.outputs['9']!['images']![0]!)))).toEqual(['255,0,0']);
  });

  test('a JSON body with no Content-Type at all, or text/plain, is parsed the same', async () => {
    const headerSets: Array<Record<string, string>> = [{}, { 'Content-Type': 'text/plain;charset=UTF-8' }];
    for (const headers of headerSets) {
      const body = Buffer.from(JSON.stringify({ prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 2, height: 2, batch_size: 1, color: 7 } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } } }));
      const res = await httpJson(`${t.url}/prompt`, { body, headers });
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect((await pollHistory((res.json as { prompt_id: string }).prompt_id)).status.completed).toBe(true);
    }
  });

  test('a prompt failing validation answers 400 with error and node_errors, as the example would see it', async () => {
    const res = await httpJson(`${t.url}/prompt`, { body: { prompt: { '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'x' } } } }, headers: URLLIB_HEADERS, agent: false });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: expect.stringContaining('Required input is missing: images'), extra_info: {} },
      node_errors: { '9': { errors: [{ type: 'required_input_missing', message: 'Required input is missing', details: 'images', extra_info: { input_name: 'images' } }], dependent_outputs: ['9'], class_type: 'SaveImage' } },
    });
  });
});
