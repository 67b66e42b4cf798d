/**
 * ComfyUI's official SD3.5 example workflow, end to end on a real server started as `npm start`
 * starts it (startServer on a fresh base directory): the demo checkpoint appears on first start,
 * and the workflow (API form and UI form) runs from prompt text to a decoded PNG.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { DEMO_CHECKPOINT_NAME } from '../../nodes/loaders/demo-checkpoint.js';
import { startTestServer, type TestServer } from '../server/helpers.js';
import { fetchImage, readFixture, runPrompt } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('first start', () => {
  it('puts the demo checkpoint into models/checkpoints and lists it in /object_info', async () => {
    const info = await request(t.url).get('/object_info/CheckpointLoaderSimple');
    expect(info.body.CheckpointLoaderSimple.input.required.ckpt_name[0]).toEqual([DEMO_CHECKPOINT_NAME]);
    const models = await request(t.url).get('/models/checkpoints');
    expect(models.body).toEqual([DEMO_CHECKPOINT_NAME]);
  });

  it('lists the loader, conditioning and VAE nodes with ComfyUI’s outputs', async () => {
    const info = (await request(t.url).get('/object_info')).body;
    expect(info.CheckpointLoaderSimple.output).toEqual(['MODEL', 'CLIP', 'VAE']);
    expect(info.TripleCLIPLoader.python_module).toBe('comfy_extras.nodes_sd3');
    expect(info.CLIPLoader.input.required.type[0]).toContain('sd3');
    expect(info.CLIPTextEncodeSD3.input.required.empty_padding[0]).toEqual(['none', 'empty_prompt']);
    expect(info.VAEDecodeTiled.input.required.tile_size[1]).toMatchObject({ default: 512, min: 64, max: 4096, step: 32 });
    expect(info.VAEEncodeForInpaint.input.required.grow_mask_by[1]).toMatchObject({ default: 6, min: 0, max: 64 });
    expect(info.ConditioningSetTimestepRange.input.required.end[1]).toMatchObject({ default: 1.0, step: 0.001 });
  });
});

describe('sd3.5_simple_example on the demo checkpoint', () => {
  it('runs the API prompt to a 256×256 PNG with progress events', async () => {
    const prompt = readFixture('sd3.5_simple_example.demo.api.json');
    const run = await runPrompt(t.url, { prompt });
    const types = run.messages.map((m) => m.type);
    expect(run.history.status.status_str, JSON.stringify(run.history.status.messages)).toBe('success');
    expect(types).toContain('execution_success');
    const progress = run.messages.filter((m) => m.type === 'progress' && m.data['node'] === '3');
    expect(progress.map((m) => m.data['value'])).toEqual([1, 2, 3, 4]);
    expect(progress.every((m) => m.data['max'] === 4)).toBe(true);
    const images = run.history.outputs['9'].images!;
    expect(images).toHaveLength(1);
    const png = await fetchImage(t.url, images[0]);
    expect([png.width, png.height]).toEqual([256, 256]);
    // Random weights still give an image, not a flat fill.
    const values = new Set(png.pixels);
    expect(values.size).toBeGreaterThan(16);
  }, 300_000);

  it('runs the UI workflow (POST /prompt {workflow}) to the same image', async () => {
    const workflow = readFixture('sd3.5_simple_example.demo.ui.json');
    const fromUi = await runPrompt(t.url, { workflow });
    expect(fromUi.history.status.status_str, JSON.stringify(fromUi.history.status.messages)).toBe('success');
    const fromApi = await runPrompt(t.url, { prompt: readFixture('sd3.5_simple_example.demo.api.json') });
    const a = await fetchImage(t.url, fromUi.history.outputs['9'].images![0]);
    const b = await fetchImage(t.url, fromApi.history.outputs['9'].images![0]);
    expect(a.pixels.equals(b.pixels)).toBe(true);
  }, 300_000);
});
