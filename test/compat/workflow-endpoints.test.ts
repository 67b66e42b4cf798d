/**
 * The two ways in: `POST /api/workflow/convert` on a real HTTP server (the route module mounted
 * the way app.ts mounts route modules, at `/` and `/api`), and `comfy8 convert FILE`.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiPrompt } from '../../compat/api-types.js';
import { insertPngTextChunks } from '../../compat/png-text.js';
import { createBuiltinRegistry } from '../../nodes/builtins.js';
import { runConvertCli } from '../../server/cli-convert.js';
import { rawBodyReader } from '../../server/http/body.js';
import { registerWorkflowConvertRoutes } from '../../server/routes/workflow-convert.js';
import { makeTestEnv } from '../helpers/env.js';
import { FIXTURES, objectInfo, readFixture } from './workflow-fixtures.js';

const PAIR = 'cex_sdxl_sdxl_simple_example';

function makeApp() {
  const app = express();
  app.use(rawBodyReader(10 * 1024 * 1024));
  const router = express.Router();
  registerWorkflowConvertRoutes(router, { registry: createBuiltinRegistry(), env: makeTestEnv() });
  app.use('/', router);
  app.use('/api', router);
  return app;
}

describe('POST /api/workflow/convert', () => {
  const app = makeApp();

  it('converts with the given object_info', async () => {
    const expected = readFixture<ApiPrompt>(`pairs/${PAIR}.api.json`);
    const res = await request(app)
      .post('/api/workflow/convert')
      .send({ workflow: readFixture(`pairs/${PAIR}.ui.json`), object_info: objectInfo, include_meta: false });
    expect(res.status).toBe(200);
    expect(res.body.prompt).toStrictEqual(expected);
    expect(Array.isArray(res.body.warnings)).toBe(true);
  });

  it('uses the server\'s own definitions by default, bare path too', async () => {
    const res = await request(app).post('/workflow/convert').send({ workflow: readFixture('ui/fe_model_free_execution.json') });
    expect(res.status).toBe(200);
    expect(Object.values(res.body.prompt as ApiPrompt).map((n) => n.class_type)).toEqual(['EmptyImage', 'ImageScale', 'SaveImage']);
  });

  it('parses the body whatever the Content-Type, as ComfyUI does', async () => {
    const res = await request(app)
      .post('/api/workflow/convert')
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify({ workflow: readFixture('ui/fe_model_free_execution.json') }));
    expect(res.status).toBe(200);
  });

  it('returns an API prompt unchanged', async () => {
    const prompt = readFixture<ApiPrompt>('api/comfy_default_graph_sdxl1_0.json');
    const res = await request(app).post('/api/workflow/convert').send({ workflow: prompt });
    expect(res.status).toBe(200);
    expect(res.body.prompt).toStrictEqual(prompt);
  });

  it('400 with a ComfyUI-shaped error naming the node', async () => {
    // A graph with nodes this server lacks (the SD3 default graph's nodes all exist now).
    const res = await request(app).post('/api/workflow/convert').send({ workflow: readFixture('ui/cew_hidream_e1_full.json') });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('missing_node_type');
    expect(res.body.error.extra_info).toHaveProperty('node_id');
    expect(res.body).toHaveProperty('node_errors');
  });

  it('400 for a missing or malformed workflow and a bad object_info', async () => {
    expect((await request(app).post('/api/workflow/convert').send({})).body.error.type).toBe('no_workflow');
    expect((await request(app).post('/api/workflow/convert').send({ workflow: [1, 2] })).body.error.type).toBe('invalid_workflow');
    const bad = await request(app).post('/api/workflow/convert').send({ workflow: readFixture('ui/fe_default.json'), object_info: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.type).toBe('invalid_object_info');
  });
});

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

describe('comfy8 convert FILE', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-convert-test-'));
  const objectInfoFile = path.join(FIXTURES, 'object_info.json');
  let server: http.Server;
  let url = '';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(req.url === '/api/object_info' ? fs.readFileSync(objectInfoFile) : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('prints the API prompt for a UI workflow JSON file', async () => {
    const { out, io } = capture();
    const code = await runConvertCli(['convert', path.join(FIXTURES, `pairs/${PAIR}.ui.json`), '--object-info', objectInfoFile, '--no-meta'], io);
    expect(code).toBe(0);
    expect(JSON.parse(out.stdout)).toStrictEqual(readFixture(`pairs/${PAIR}.api.json`));
  });

  it('reads definitions from a URL (a ComfyUI base URL gets /api/object_info)', async () => {
    const { out, io } = capture();
    const code = await runConvertCli(['convert', path.join(FIXTURES, `pairs/${PAIR}.ui.json`), `--object-info=${url}`, '--no-meta'], io);
    expect(code).toBe(0);
    expect(JSON.parse(out.stdout)).toStrictEqual(readFixture(`pairs/${PAIR}.api.json`));
  });

  it('reads the workflow out of a PNG and a WebP', async () => {
    const workflow = readFixture(`pairs/${PAIR}.ui.json`);
    const base = sharp({ create: { width: 4, height: 4, channels: 3, background: '#336699' } });
    const pngFile = path.join(dir, 'saved.png');
    fs.writeFileSync(pngFile, insertPngTextChunks(await base.clone().png().toBuffer(), [{ keyword: 'workflow', text: JSON.stringify(workflow) }]));
    const webpFile = path.join(dir, 'saved.webp');
    fs.writeFileSync(webpFile, await base.clone().webp().withExif({ IFD0: { Make: `workflow:${JSON.stringify(workflow)}` } }).toBuffer());
    for (const file of [pngFile, webpFile]) {
      const { out, io } = capture();
      expect(await runConvertCli([file, '--object-info', objectInfoFile, '--no-meta'], io)).toBe(0);
      expect(JSON.parse(out.stdout)).toStrictEqual(readFixture(`pairs/${PAIR}.api.json`));
    }
  });

  it('prints an API prompt file unchanged', async () => {
    const { out, io } = capture();
    expect(await runConvertCli(['convert', path.join(FIXTURES, 'api/comfy_default_graph_sdxl1_0.json')], io)).toBe(0);
    expect(JSON.parse(out.stdout)).toStrictEqual(readFixture('api/comfy_default_graph_sdxl1_0.json'));
  });

  it('exit 1 with the error for unknown nodes, 2 for bad usage', async () => {
    const failed = capture();
    expect(await runConvertCli(['convert', path.join(FIXTURES, 'ui/cew_hidream_e1_full.json')], failed.io)).toBe(1);
    expect(failed.out.stderr).toContain('missing_node_type');
    expect(failed.out.stderr).toContain('--object-info');
    const usage = capture();
    expect(await runConvertCli(['convert'], usage.io)).toBe(2);
    expect(await runConvertCli(['convert', 'a', '--bogus'], usage.io)).toBe(2);
    expect(usage.out.stderr).toContain('unknown option --bogus');
    const garbage = path.join(dir, 'garbage.bin');
    fs.writeFileSync(garbage, Buffer.from([0, 1, 2, 3]));
    const junk = capture();
    expect(await runConvertCli(['convert', garbage], junk.io)).toBe(1);
    expect(junk.out.stderr).toContain('neither a PNG/WebP image nor JSON');
  });
});
