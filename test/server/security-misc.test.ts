import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import request from 'supertest';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFLINE_CSP } from '../../server/http/security.js';
import { startTestServer, TestSocket, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe('origin check (default)', () => {
  it('refuses cross-site fetches and loopback Host/Origin mismatches, allows matches', async () => {
    const host = `127.0.0.1:${t.server.port}`;
    expect((await request(t.url).post('/prompt').set('Sec-Fetch-Site', 'cross-site').send({})).status).toBe(403);
    expect((await request(t.url).get('/queue').set('Origin', 'http://evil.example')).status).toBe(403);
    expect((await request(t.url).get('/queue').set('Origin', 'http://127.0.0.1:1')).status).toBe(403);
    expect((await request(t.url).get('/queue').set('Origin', `http://${host}`)).status).toBe(200);
    expect((await request(t.url).get('/queue').set('Origin', 'http://127.0.0.1')).status).toBe(200); // no port: hosts only
    expect((await request(t.url).get('/queue').set('Host', 'LOCALHOST').set('Origin', 'http://localhost:9')).status).toBe(200); // Host without port
    expect((await request(t.url).get('/queue').set('Host', 'example.com').set('Origin', 'http://other.example')).status).toBe(200); // not loopback
    expect((await request(t.url).get('/queue').set('Sec-Fetch-Site', 'same-origin')).status).toBe(200);
    const options = await request(t.url).options('/prompt');
    expect(options.status).toBe(200);
    expect(options.text).toBe('');
  });

  it('refuses a cross-origin WebSocket upgrade', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}/ws`, { headers: { Origin: 'http://evil.example' } });
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
  });
});

describe('CORS and offline flags', () => {
  it('adds CORS headers instead of the origin check', async () => {
    const c = await startTestServer({ corsOrigin: '*' });
    try {
      const res = await request(c.url).get('/queue').set('Origin', 'http://evil.example');
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBe('POST, GET, DELETE, PUT, OPTIONS, PATCH');
      expect(res.headers['access-control-allow-headers']).toBe('Content-Type, Authorization');
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect((await request(c.url).options('/prompt')).status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it('--offline adds the CSP to every response; compression gzips JSON when accepted', async () => {
    const o = await startTestServer({ offline: true, compressResponseBody: true });
    try {
      const res = await request(o.url).get('/object_info').set('Accept-Encoding', 'gzip');
      expect(res.headers['content-security-policy']).toBe(OFFLINE_CSP);
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.body).toHaveProperty('SaveImage');
      const raw = await request(o.url).get('/features').set('Accept-Encoding', 'identity');
      expect(raw.headers['content-encoding']).toBeUndefined();
      expect(zlib.gzipSync('x').length).toBeGreaterThan(0);
    } finally {
      await o.close();
    }
  });
});

describe('malformed JSON never crashes the server', () => {
  const routes = ['/prompt', '/queue', '/history', '/free', '/settings', '/settings/x', '/users', '/api/prompt', '/api/queue', '/api/history', '/api/free', '/api/settings'];
  it.each(routes)('POST %s with a broken body answers an error and the server keeps serving', async (route) => {
    const res = await request(t.url).post(route).set('Content-Type', 'application/json').send('{"broken":');
    expect(res.status).toBe(500);
    expect(res.body.error.type).toBe('invalid_json');
    expect((await request(t.url).get('/api/system_stats')).status).toBe(200);
  });

  it('non-object JSON bodies get a 400, empty interrupt bodies are fine', async () => {
    expect((await request(t.url).post('/queue').set('Content-Type', 'text/plain').send('[1,2]')).status).toBe(400);
    expect((await request(t.url).post('/free').set('Content-Type', 'text/plain').send('null')).status).toBe(400);
    expect((await request(t.url).post('/interrupt')).status).toBe(200);
    expect((await request(t.url).post('/api/interrupt').set('Content-Type', 'text/plain').send('[]')).status).toBe(200);
    expect((await request(t.url).patch('/internal/logs/subscribe').send('{x')).status).toBe(500);
  });

  it('parses JSON sent as form-urlencoded (Python urllib default)', async () => {
    const res = await request(t.url).post('/prompt').set('Content-Type', 'application/x-www-form-urlencoded').send(JSON.stringify({ client_id: 'x' }));
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('no_prompt');
  });
});

describe('boot routes of §6', () => {
  it('answers every boot call in both prefixes', async () => {
    for (const prefix of ['', '/api']) {
      const stats = (await request(t.url).get(`${prefix}/system_stats`)).body;
      for (const key of ['os', 'python_version', 'embedded_python', 'comfyui_version', 'pytorch_version', 'argv', 'ram_total', 'ram_free']) expect(stats.system, key).toHaveProperty(key);
      expect(stats.system.ram_total).toBe(os.totalmem());
      expect(stats.devices[0]).toEqual({ name: 'cpu', type: 'cpu', index: null, vram_total: expect.any(Number), vram_free: expect.any(Number), torch_vram_total: expect.any(Number), torch_vram_free: expect.any(Number) });
      expect((await request(t.url).get(`${prefix}/features`)).body).toMatchObject({ assets: false, node_replacements: true, extension: { manager: { supports_v4: true } } });
      expect((await request(t.url).get(`${prefix}/embeddings`)).body).toEqual([]);
      expect((await request(t.url).get(`${prefix}/extensions`)).body).toEqual([]);
      expect((await request(t.url).get(`${prefix}/i18n`)).body).toEqual({});
      expect((await request(t.url).get(`${prefix}/workflow_templates`)).body).toEqual({});
      expect((await request(t.url).get(`${prefix}/global_subgraphs`)).body).toEqual({});
      expect((await request(t.url).get(`${prefix}/node_replacements`)).body).toEqual({});
      const info = (await request(t.url).get(`${prefix}/object_info/SaveImage`)).body;
      expect(info.SaveImage).toMatchObject({ name: 'SaveImage', output_node: true, python_module: 'nodes' });
      expect((await request(t.url).get(`${prefix}/object_info/NoSuchNode`)).body).toEqual({});
      expect((await request(t.url).get(`${prefix}/prompt`)).body).toEqual({ exec_info: { queue_remaining: 0 } });
    }
    expect((await request(t.url).get('/api/internal/logs')).status).toBe(404);
    expect((await request(t.url).post('/free').send({ unload_models: true, free_memory: true })).status).toBe(200);
  });

  it('serves /internal routes', async () => {
    fs.writeFileSync(path.join(t.base, 'output', 'older.png'), 'a');
    fs.utimesSync(path.join(t.base, 'output', 'older.png'), new Date(2000, 1, 1), new Date(2000, 1, 1));
    fs.writeFileSync(path.join(t.base, 'output', 'newer.png'), 'b');
    fs.writeFileSync(path.join(t.base, 'output', '.hidden'), 'c');
    expect((await request(t.url).get('/internal/files/output')).body).toEqual(['newer.png', 'older.png']);
    expect((await request(t.url).get('/internal/files/models')).body).toEqual({ error: 'Invalid directory type' });
    const fp = (await request(t.url).get('/internal/folder_paths')).body;
    expect(fp.checkpoints[0]).toBe(path.join(t.base, 'models', 'checkpoints'));
    expect(typeof (await request(t.url).get('/internal/logs')).body).toBe('string');
    const raw = (await request(t.url).get('/internal/logs/raw')).body;
    expect(raw.size).toEqual({ cols: expect.any(Number), rows: expect.any(Number) });
    expect(raw.entries.some((e: { m: string }) => e.m === 'got prompt\n')).toBe(true);
  });

  it('sends log lines to subscribed sockets only', async () => {
    const sub = await TestSocket.open(t.url, '/ws?clientId=logsub');
    await request(t.url).patch('/internal/logs/subscribe').send({ clientId: 'logsub', enabled: true }).expect(200);
    await request(t.url).post('/prompt').send({}); // logs "got prompt"
    const logs = await sub.waitFor((m) => m.type === 'logs');
    expect(logs.data).toMatchObject({ entries: [{ t: expect.any(String), m: expect.any(String) }], size: { cols: expect.any(Number), rows: expect.any(Number) } });
    sub.close();
  });
});

describe('static web root', () => {
  it('serves a placeholder index with no-store headers, and a --front-end-root build with cache rules', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-empty-web-'));
    const e = await startTestServer({ frontEndRoot: empty });
    try {
      const index = await request(e.url).get('/');
      expect(index.status).toBe(200);
      expect(index.text).toContain('no frontend is installed');
      expect(index.headers['cache-control']).toBe('no-store, must-revalidate');
      expect(index.headers['pragma']).toBe('no-cache');
      expect(index.headers['expires']).toBe('0');
    } finally {
      await e.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }

    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-web-'));
    fs.writeFileSync(path.join(root, 'index.html'), '<html>frontend</html>');
    fs.mkdirSync(path.join(root, 'assets'));
    fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(root, 'assets', 'logo.png'), 'png');
    fs.mkdirSync(path.join(root, 'extensions', 'core'), { recursive: true });
    fs.writeFileSync(path.join(root, 'extensions', 'core', 'ext.js'), '');
    const w = await startTestServer({ frontEndRoot: root });
    try {
      expect((await request(w.url).get('/')).text).toBe('<html>frontend</html>');
      expect((await request(w.url).get('/assets/app.js')).headers['cache-control']).toBe('no-store');
      expect((await request(w.url).get('/assets/logo.png')).headers['cache-control']).toBe('public, max-age=86400');
      const missing = await request(w.url).get('/assets/missing.png');
      expect(missing.status).toBe(404);
      expect(missing.headers['cache-control']).toBe('public, max-age=3600');
      expect((await request(w.url).get('/api/extensions')).body).toEqual(['/extensions/core/ext.js']);
      expect((await request(w.url).get('/assets/..%2f..%2fetc%2fpasswd')).status).toBe(404);
    } finally {
      await w.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
