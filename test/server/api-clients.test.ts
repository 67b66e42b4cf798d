/**
 * Third-party ComfyUI API clients, unchanged, against this server: they must believe it is ComfyUI.
 */
import WebSocket from 'ws';
import { Client } from '@stable-canvas/comfyui-client';
import { CallWrapper, ComfyApi, PromptBuilder, type NodeData } from '@saintno/comfyui-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const prompt = (prefix: string, color: number) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
});

describe('@stable-canvas/comfyui-client', () => {
  it('enqueues over WebSocket and by polling, and gets image URLs that load', async () => {
    const client = new Client({ api_host: `127.0.0.1:${t.server.port}`, WebSocket: WebSocket as never, fetch: globalThis.fetch });
    try {
      expect(Object.keys(await client.getSystemStats())).toEqual(expect.arrayContaining(['system', 'devices']));
      await client.connect();
      const ws = await client.enqueue(prompt('sc', 1) as never);
      expect(ws.images).toHaveLength(1);
      const url = (ws.images[0] as { data: string }).data;
      expect(url).toMatch(/\/view\?filename=sc_00001_\.png&subfolder=&type=output$/);
      expect((await fetch(url)).headers.get('content-type')).toBe('image/png');
      const polled = await client.enqueue_polling(prompt('sc', 2) as never, { polling_ms: 20 } as never);
      expect((polled.images[0] as { data: string }).data).toContain('sc_00002_.png');
    } finally {
      client.close();
    }
  });
});

describe('@saintno/comfyui-sdk', () => {
  it('runs a workflow through CallWrapper and reads the outputs', async () => {
    const api = new ComfyApi(`http://127.0.0.1:${t.server.port}`);
    try {
      await api.init(5, 200).waitForReady();
      const builder = new PromptBuilder<'color', 'images', NodeData>(prompt('sdk', 3) as unknown as NodeData, ['color'], ['images'])
        .setInputNode('color', '1.inputs.color')
        .setOutputNode('images', '2')
        .input('color', 4);
      const result = await new Promise<unknown>((resolve, reject) => {
        new CallWrapper(api, builder)
          .onFinished((data) => resolve(data))
          .onFailed((err) => reject(err))
          .run();
      });
      const images = (result as { images: { images: Array<{ filename: string; type: string }> } }).images.images;
      expect(images[0]).toMatchObject({ filename: 'sdk_00001_.png', type: 'output' });
      const res = await fetch(api.getPathImage(images[0] as never));
      expect(res.status).toBe(200);
    } finally {
      api.destroy();
    }
  });
});
