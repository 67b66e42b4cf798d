import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
let outside: string;
beforeAll(async () => {
  t = await startTestServer();
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-outside-'));
  fs.writeFileSync(path.join(outside, 'secret.json'), '{"secret":true}');
});
afterAll(async () => {
  await t.close();
  fs.rmSync(outside, { recursive: true, force: true });
});

const userRoot = () => path.join(t.base, 'user', 'default');

describe('users and settings (single user)', () => {
  it('reports migration state, stores settings pretty-printed, merges and sets keys', async () => {
    expect((await request(t.url).get('/api/users')).body).toEqual({ storage: 'server', migrated: false });
    expect((await request(t.url).get('/api/settings')).body).toEqual({});
    expect((await request(t.url).get('/settings/Comfy.Theme')).body).toBeNull();
    // The frontend posts settings with no JSON content type.
    await request(t.url).post('/api/settings').set('Content-Type', 'text/plain').send('{"a": 1, "b": {"c": 2}}').expect(200);
    await request(t.url).post('/settings/Comfy.Theme').set('Content-Type', 'text/plain').send('"dark"').expect(200);
    await request(t.url).post('/settings').send({ a: 5 }).expect(200);
    expect((await request(t.url).get('/settings')).body).toEqual({ a: 5, b: { c: 2 }, 'Comfy.Theme': 'dark' });
    expect((await request(t.url).get('/api/settings/b')).body).toEqual({ c: 2 });
    const file = fs.readFileSync(path.join(userRoot(), 'comfy.settings.json'), 'utf8');
    expect(file).toBe(JSON.stringify({ a: 5, b: { c: 2 }, 'Comfy.Theme': 'dark' }, null, 4));
    expect((await request(t.url).get('/users')).body).toEqual({ storage: 'server', migrated: true });
  });

  it('treats a corrupt settings file as {}', async () => {
    fs.writeFileSync(path.join(userRoot(), 'comfy.settings.json'), '{oops');
    expect((await request(t.url).get('/settings')).body).toEqual({});
  });
});

describe('userdata', () => {
  it('writes, lists (plain, split, full_info, recurse), reads, moves and deletes', async () => {
    const post = await request(t.url).post('/api/userdata/workflows%2Fa.json').set('Content-Type', 'text/plain').send('{"nodes":[]}');
    expect(post.status).toBe(200);
    expect(post.body).toBe('workflows/a.json');
    await request(t.url).post('/userdata/workflows%2Fdeep%2Fb.json').send('{}').expect(200);
    const conflict = await request(t.url).post('/userdata/workflows%2Fa.json?overwrite=false').send('{}');
    expect(conflict.status).toBe(409);
    expect(conflict.text).toBe('File already exists');
    const full = await request(t.url).post('/userdata/workflows%2Fa.json?overwrite=true&full_info=true').send('{"v":2}');
    expect(full.body).toEqual({ path: 'workflows/a.json', size: 7, modified: expect.any(Number), created: expect.any(Number) });

    expect((await request(t.url).get('/userdata').query({ dir: 'workflows' })).body).toEqual(['a.json']);
    const rec = (await request(t.url).get('/api/userdata').query({ dir: 'workflows', recurse: 'true' })).body as string[];
    expect(rec.sort()).toEqual(['a.json', 'deep/b.json']);
    const split = (await request(t.url).get('/userdata').query({ dir: 'workflows', recurse: 'true', split: 'true' })).body as string[][];
    expect(split.find((s) => s[0] === 'deep/b.json')).toEqual(['deep/b.json', 'deep', 'b.json']);
    const info = (await request(t.url).get('/userdata').query({ dir: 'workflows', recurse: 'true', full_info: 'true', split: 'false' })).body;
    expect(info[0]).toEqual({ path: expect.any(String), size: expect.any(Number), modified: expect.any(Number), created: expect.any(Number) });

    const get = await request(t.url).get('/userdata/workflows%2Fa.json');
    expect(get.status).toBe(200);
    expect(get.headers['x-content-type-options']).toBe('nosniff');
    expect(get.headers['content-disposition']).toContain('attachment');
    expect(get.text ?? (get.body as Buffer).toString()).toBe('{"v":2}');

    const moved = await request(t.url).post('/userdata/workflows%2Fa.json/move/workflows%2Fc.json');
    expect(moved.body).toBe('workflows/c.json');
    expect((await request(t.url).get('/userdata/workflows%2Fa.json')).status).toBe(404);
    expect((await request(t.url).post('/userdata/workflows%2Fnope.json/move/workflows%2Fx.json')).status).toBe(404);
    expect((await request(t.url).post('/userdata/workflows%2Fc.json/move/workflows%2Fdeep%2Fb.json?overwrite=false')).status).toBe(409);
    expect((await request(t.url).delete('/userdata/workflows%2Fc.json')).status).toBe(204);
    expect((await request(t.url).delete('/userdata/workflows%2Fc.json')).status).toBe(404);
  });

  it('v2 listing: directories first, then names case-insensitively; [] for a missing root', async () => {
    fs.mkdirSync(path.join(userRoot(), 'v2', 'Zdir'), { recursive: true });
    fs.writeFileSync(path.join(userRoot(), 'v2', 'b.txt'), 'bb');
    fs.writeFileSync(path.join(userRoot(), 'v2', 'A.txt'), 'a');
    const res = await request(t.url).get('/api/v2/userdata').query({ path: 'v2' });
    expect(res.body.map((e: { name: string; type: string }) => [e.name, e.type])).toEqual([
      ['Zdir', 'directory'],
      ['A.txt', 'file'],
      ['b.txt', 'file'],
    ]);
    expect(res.body[2]).toEqual({ name: 'b.txt', path: 'v2/b.txt', type: 'file', size: 2, modified: expect.any(Number) });
    expect((await request(t.url).get('/v2/userdata').query({ path: 'v2/b.txt' })).status).toBe(400);
    expect((await request(t.url).get('/v2/userdata').query({ path: 'missing' })).status).toBe(404);
  });

  it('serves the top-level user.css inline and dangerous types as downloads', async () => {
    fs.writeFileSync(path.join(userRoot(), 'user.css'), 'body{}');
    const css = await request(t.url).get('/userdata/user.css');
    expect(css.headers['content-type']).toContain('text/css');
    expect(css.headers['content-disposition']).toBe('inline');
    fs.writeFileSync(path.join(userRoot(), 'x.html'), '<script></script>');
    const html = await request(t.url).get('/userdata/x.html');
    expect(html.headers['content-type']).toBe('application/octet-stream');
  });

  it('refuses path tricks', async () => {
    fs.symlinkSync(outside, path.join(userRoot(), 'link-out'));
    const gets = ['..%2F..%2Fsecret.json', '%2e%2e%2F%2e%2e%2Fsecret.json', '%252e%252e%252Fsecret.json', 'link-out%2Fsecret.json', '%2Fetc%2Fpasswd', 'a%00b'];
    for (const g of gets) {
      const res = await request(t.url).get(`/userdata/${g}`);
      expect(res.status, g).toBe(403);
      expect(res.text ?? '').not.toContain('secret');
    }
    expect((await request(t.url).post('/userdata/..%2Fescape.json').send('{}')).status).toBe(403);
    expect(fs.existsSync(path.join(t.base, 'user', 'escape.json'))).toBe(false);
    expect((await request(t.url).post('/userdata/link-out%2Fnew.json').send('{}')).status).toBe(403);
    expect(fs.existsSync(path.join(outside, 'new.json'))).toBe(false);
    expect((await request(t.url).delete('/userdata/..%2F..%2Fsecret.json')).status).toBe(403);
    expect((await request(t.url).post('/userdata/workflows%2Fdeep%2Fb.json/move/..%2F..%2Fstolen.json')).status).toBe(403);
    expect((await request(t.url).get('/userdata').query({ dir: '../..' })).status).toBe(403);
    expect((await request(t.url).get('/userdata').query({ dir: '/etc' })).status).toBe(403);
    expect((await request(t.url).get('/userdata').query({ dir: 'link-out' })).status).toBe(403);
    expect((await request(t.url).get('/userdata'))).toMatchObject({ status: 400, text: 'Directory not provided' });
    expect((await request(t.url).get('/userdata').query({ dir: 'missing' })).status).toBe(404);
    expect((await request(t.url).get('/v2/userdata').query({ path: '../..' })).status).toBe(400);
    expect((await request(t.url).get('/v2/userdata').query({ path: 'link-out' })).status).toBe(400);
  });
});

describe('multi-user', () => {
  it('selects the user by Comfy-User, refuses unknown and system users, creates users', async () => {
    const m = await startTestServer({ multiUser: true });
    try {
      expect((await request(m.url).get('/users')).body).toEqual({ storage: 'server', users: {} });
      expect((await request(m.url).get('/settings')).status).toBe(401);
      const created = await request(m.url).post('/users').send({ username: 'Al ice!' });
      expect(created.status).toBe(200);
      expect(created.body).toMatch(/^Al-ice-_[0-9a-f-]{36}$/);
      const dup = await request(m.url).post('/users').send({ username: 'Al ice!' });
      expect(dup.status).toBe(400);
      expect(dup.body).toEqual({ error: 'Duplicate username.' });
      await request(m.url).post('/settings/x').set('Comfy-User', created.body).send('1').expect(200);
      expect((await request(m.url).get('/settings').set('Comfy-User', created.body)).body).toEqual({ x: 1 });
      expect(fs.existsSync(path.join(m.base, 'user', created.body, 'comfy.settings.json'))).toBe(true);
      expect((await request(m.url).get('/settings').set('Comfy-User', '__system')).status).toBe(401);
      expect((await request(m.url).get('/settings').set('Comfy-User', 'nobody')).status).toBe(401);
      expect((await request(m.url).get('/v2/userdata').set('Comfy-User', 'nobody')).status).toBe(403);
      expect(JSON.parse(fs.readFileSync(path.join(m.base, 'user', 'users.json'), 'utf8'))).toEqual({ [created.body]: 'Al ice!' });
    } finally {
      await m.close();
    }
  });
});
