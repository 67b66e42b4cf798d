/**
 * The traversal corpus (test/server/traversal-corpus.ts, ≥ 300 payloads) against the real routes
 * that touch files: /view (filename and subfolder), /userdata (path and dir), /v2/userdata,
 * /upload/image (subfolder), /view_metadata (model names), LoadImage and LoadLatent validation,
 * and SaveImage's filename_prefix. A payload that escapes after the server's own decoding must
 * be refused with 400/403; a harmless literal name answers 404 (400 where a route is stricter);
 * nothing ever serves the secret or writes outside its directory.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import querystring from 'node:querystring';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TINY_PNG, type TestServer } from './helpers.js';
import { SYMLINK_PAYLOADS, traversalCorpus } from './traversal-corpus.js';

const SECRET = 'TOPSECRET-7f3a';
const corpus = traversalCorpus();
let t: TestServer;

/** Percent-encodes what a URL cannot carry, keeping the payload's own `%XX` sequences. */
function wire(p: string, encodeSlash = false): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(p.slice(i + 1, i + 3))) out += c;
    else if (/[A-Za-z0-9._~-]/.test(c) || (c === '/' && !encodeSlash)) out += c;
    else out += encodeURIComponent(c);
  }
  return out;
}

/** GET with the path sent byte for byte (no client-side `..` normalisation). */
function rawGet(urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: t.server.port, path: urlPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What containment must refuse: NUL, absolute/drive/UNC, or a `..` segment (either separator). */
function escapes(v: string): boolean {
  return v.includes('\0') || /^([\\/]|[a-zA-Z]:)/.test(v) || v.split(/[\\/]/).includes('..');
}

function decodeOr(v: string): string | null {
  try {
    return decodeURIComponent(v);
  } catch {
    return null;
  }
}

function safetensorsWithMetadata(meta: Record<string, string>): Buffer {
  const header = Buffer.from(JSON.stringify({ __metadata__: meta }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header]);
}

beforeAll(async () => {
  t = await startTestServer();
  fs.writeFileSync(path.join(t.base, 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(t.base, 'secret.txt.safetensors'), safetensorsWithMetadata({ secret: SECRET }));
  fs.writeFileSync(path.join(t.base, 'secret.txt.latent'), SECRET);
  const userRoot = path.join(t.base, 'user', 'default');
  for (const dir of [path.join(t.base, 'output'), path.join(t.base, 'input'), userRoot, path.join(t.base, 'models', 'checkpoints')]) {
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(t.base, path.join(dir, 'link-out'));
    fs.symlinkSync(path.join(t.base, 'secret.txt'), path.join(dir, 'link-secret'));
  }
});
afterAll(() => t.close());

function check(label: string, res: { status: number; body: string }, allowed: number[]): void {
  expect(allowed, `${label} → ${res.status} ${res.body.slice(0, 120)}`).toContain(res.status);
  expect(res.body, label).not.toContain(SECRET);
}

describe('traversal corpus', () => {
  it('has at least 300 payloads', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
  });

  it('GET /view refuses every payload as filename and as subfolder, in output and input', async () => {
    for (const p of corpus) {
      const seen = querystring.unescape(wire(p));
      const bad = escapes(seen) || SYMLINK_PAYLOADS.has(p);
      for (const type of ['output', 'input']) {
        // ComfyUI's rule: a name with `..`, a leading `/` or NUL is 400; otherwise only its basename
        // is used (so `c:/x/win.ini` looks for `win.ini`: 404), and a basename that is a link out is 403.
        const invalidName = seen.includes('..') || seen.startsWith('/') || seen.includes('\0');
        check(`/view filename ${JSON.stringify(p)} ${type}`, await rawGet(`/view?type=${type}&filename=${wire(p)}`), invalidName ? [400] : [403, 404]);
        const sub = await rawGet(`/api/view?type=${type}&filename=secret.txt&subfolder=${wire(p)}`);
        check(`/view subfolder ${JSON.stringify(p)} ${type}`, sub, bad ? [400, 403] : [404]);
      }
    }
  });

  it('/userdata/{file}, /userdata?dir= and /v2/userdata?path= refuse every payload', async () => {
    for (const p of corpus) {
      // Express decodes the parameter once; the route decodes a remaining `%` once more (as ComfyUI).
      const once = decodeOr(wire(p, true));
      const twice = once === null ? null : once.includes('%') ? decodeOr(once) : once;
      const bad = twice === null || escapes(twice) || SYMLINK_PAYLOADS.has(p);
      check(`/userdata/${JSON.stringify(p)}`, await rawGet(`/userdata/${wire(p, true)}`), once === null ? [400] : bad ? [403] : [404]);
      const q = querystring.unescape(wire(p));
      const q2 = q.includes('%') ? decodeOr(q) : q;
      const qBad = q2 === null || escapes(q2) || SYMLINK_PAYLOADS.has(p);
      check(`/userdata?dir=${JSON.stringify(p)}`, await rawGet(`/userdata?dir=${wire(p)}`), qBad ? [403] : [404]);
      check(`/v2/userdata?path=${JSON.stringify(p)}`, await rawGet(`/v2/userdata?path=${wire(p)}`), qBad ? [400] : [404]);
    }
  });

  it('model names: /view_metadata and /experiment/models/preview never leave the model folder', async () => {
    for (const p of corpus) {
      check(`/view_metadata ${JSON.stringify(p)}`, await rawGet(`/view_metadata/checkpoints?filename=${wire(`${p}.safetensors`)}`), [404]);
      const preview = await rawGet(`/experiment/models/preview/checkpoints/0/${wire(p, true)}`);
      check(`/experiment/models/preview ${JSON.stringify(p)}`, preview, [400, 403, 404]);
    }
  });

  it('LoadImage and LoadLatent refuse every payload at validation (400)', async () => {
    for (const p of corpus) {
      const image = await request(t.url)
        .post('/prompt')
        .send({ prompt: { '1': { class_type: 'LoadImage', inputs: { image: p } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } } });
      check(`LoadImage ${JSON.stringify(p)}`, { status: image.status, body: image.text }, [400]);
      const latent = await request(t.url).post('/prompt').send({ prompt: { '1': { class_type: 'LoadLatent', inputs: { latent: `${p}.latent` } }, '2': { class_type: 'SaveLatent', inputs: { samples: ['1', 0], filename_prefix: 'x' } } } });
      check(`LoadLatent ${JSON.stringify(p)}`, { status: latent.status, body: latent.text }, [400]);
    }
  });

  it('POST /upload/image refuses escaping subfolders (400) and writes nothing outside input/', async () => {
    const before = fs.readdirSync(t.base).sort();
    for (const p of corpus) {
      const res = await request(t.url).post('/upload/image').field('subfolder', p).attach('image', TINY_PNG, 'x.png');
      const bad = escapes(p) || SYMLINK_PAYLOADS.has(p);
      check(`/upload/image subfolder ${JSON.stringify(p)}`, { status: res.status, body: res.text }, bad ? [400] : [200]);
      if (res.status === 200) {
        const written = path.resolve(t.base, 'input', res.body.subfolder, res.body.name);
        expect(written.startsWith(path.join(t.base, 'input') + path.sep), p).toBe(true);
      }
    }
    expect(fs.readdirSync(t.base).sort()).toEqual(before);
  });

  it('SaveImage filename_prefix never writes outside output/', async () => {
    const outside = () => fs.readdirSync(t.base).filter((n) => n !== 'output' && n !== 'input' && n !== 'temp').sort();
    const before = outside();
    // Every 4th payload keeps the run short; the containment code path is the same for all.
    for (const p of corpus.filter((_, i) => i % 4 === 0)) {
      const res = await request(t.url)
        .post('/prompt')
        .send({ prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 1, height: 1, batch_size: 1, color: 1 } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: p } } } });
      expect([200, 400], p).toContain(res.status);
    }
    const busy = async () => {
      const q = (await request(t.url).get('/queue')).body;
      return q.queue_pending.length + q.queue_running.length > 0;
    };
    for (let i = 0; i < 400 && (await busy()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(outside()).toEqual(before);
    const outputRoot = fs.realpathSync(path.join(t.base, 'output'));
    // Walk without following links (output/link-out points at the base directory).
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const abs = path.join(dir, e.name);
        if (e.isDirectory()) walk(abs);
        else if (e.isFile()) expect(fs.realpathSync(abs).startsWith(outputRoot + path.sep), abs).toBe(true);
      }
    };
    walk(outputRoot);
  });
});
