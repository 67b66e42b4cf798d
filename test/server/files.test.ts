import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../../compat/png-text.js';
import { insertPngTextChunks } from '../../compat/png-text.js';
import { startTestServer, TestSocket, type TestServer } from './helpers.js';

let t: TestServer;
let outside: string;
beforeAll(async () => {
  t = await startTestServer();
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-outside-'));
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
});
afterAll(async () => {
  await t.close();
  fs.rmSync(outside, { recursive: true, force: true });
});

async function rgbaPng(width: number, height: number, alpha: number, text: { keyword: string; text: string }[] = []): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) raw.set([200, 100, 50, alpha], i * 4);
  const png = await sharp(raw, { raw: { width, height, channels: 4 } }).png().toBuffer();
  return text.length ? insertPngTextChunks(png, text) : png;
}

describe('POST /upload/image', () => {
  it('saves, dedupes same content, numbers different content, overwrites on request', async () => {
    const a = await rgbaPng(4, 4, 255);
    const b = await rgbaPng(4, 4, 128);
    const first = await request(t.url).post('/upload/image').attach('image', a, 'cat.png');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ name: 'cat.png', subfolder: '', type: 'input' });
    expect(fs.readFileSync(path.join(t.base, 'input', 'cat.png'))).toEqual(a);

    const same = await request(t.url).post('/api/upload/image').attach('image', a, 'cat.png');
    expect(same.body.name).toBe('cat.png');
    const other = await request(t.url).post('/upload/image').attach('image', b, 'cat.png');
    expect(other.body.name).toBe('cat (1).png');
    const other2 = await request(t.url).post('/upload/image').attach('image', await rgbaPng(4, 4, 7), 'cat.png');
    expect(other2.body.name).toBe('cat (2).png');
    const sameAsNumbered = await request(t.url).post('/upload/image').attach('image', b, 'cat.png');
    expect(sameAsNumbered.body.name).toBe('cat (1).png');

    const over = await request(t.url).post('/upload/image').field('overwrite', 'true').attach('image', b, 'cat.png');
    expect(over.body.name).toBe('cat.png');
    expect(fs.readFileSync(path.join(t.base, 'input', 'cat.png'))).toEqual(b);
  });

  it('creates subfolders, honours type, and the file loads through LoadImage by "<subfolder>/<name>"', async () => {
    const up = await request(t.url).post('/upload/image').field('subfolder', 'clip/space').field('type', 'input').attach('image', await rgbaPng(8, 6, 255), 'ref.png');
    expect(up.body).toEqual({ name: 'ref.png', subfolder: 'clip/space', type: 'input' });
    const temp = await request(t.url).post('/upload/image').field('type', 'temp').attach('image', await rgbaPng(2, 2, 255), 't.png');
    expect(temp.body.type).toBe('temp');
    expect(fs.existsSync(path.join(t.base, 'temp', 't.png'))).toBe(true);

    const ws = await TestSocket.open(t.url, '/ws?clientId=load');
    const prompt = {
      '1': { class_type: 'LoadImage', inputs: { image: 'clip/space/ref.png' } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    };
    const res = await request(t.url).post('/prompt').send({ prompt, client_id: 'load' });
    expect(res.status).toBe(200);
    await ws.done(res.body.prompt_id);
    const entry = (await request(t.url).get(`/history/${res.body.prompt_id}`)).body[res.body.prompt_id];
    expect(entry.status.status_str).toBe('success');
    const preview = entry.outputs['2'].images[0];
    expect(preview.type).toBe('temp');
    const view = await request(t.url).get('/view').query({ filename: preview.filename, type: 'temp', subfolder: preview.subfolder });
    const meta = await sharp(view.body as Buffer).metadata();
    expect([meta.width, meta.height]).toEqual([8, 6]);
    ws.close();
  });

  it('refuses missing files, bad types and escaping subfolders', async () => {
    const png = await rgbaPng(2, 2, 255);
    expect((await request(t.url).post('/upload/image').field('type', 'input')).status).toBe(400);
    expect((await request(t.url).post('/upload/image').field('type', 'models').attach('image', png, 'x.png')).status).toBe(400);
    for (const sub of ['../escape', '..', '%2e%2e', '/etc', 'a/../../b', 'a\0b']) {
      const res = await request(t.url).post('/upload/image').field('subfolder', sub).attach('image', png, 'x.png');
      if (sub === '%2e%2e') {
        // a literal folder named "%2e%2e" inside input/ is harmless
        expect(res.status).toBe(200);
        expect(fs.existsSync(path.join(t.base, 'input', '%2e%2e', 'x.png'))).toBe(true);
      } else {
        expect(res.status, sub).toBe(400);
      }
    }
    fs.symlinkSync(outside, path.join(t.base, 'input', 'link-out'));
    expect((await request(t.url).post('/upload/image').field('subfolder', 'link-out').attach('image', png, 'x.png')).status).toBe(400);
    expect(fs.existsSync(path.join(outside, 'x.png'))).toBe(false);
  });

  it('answers 413 above --max-upload-size', async () => {
    const small = await startTestServer({ maxUploadBytes: 1024 });
    try {
      const res = await request(small.url).post('/upload/image').attach('image', Buffer.alloc(4096, 1), 'big.png');
      expect(res.status).toBe(413);
      const json = await request(small.url).post('/settings').set('Content-Type', 'text/plain').send(`{"a":"${'x'.repeat(2000)}"}`);
      expect(json.status).toBe(413);
      expect((await request(small.url).get('/api/features')).body.max_upload_size).toBe(1024);
    } finally {
      await small.close();
    }
  });
});

describe('POST /upload/mask', () => {
  it('puts the mask alpha into the original and keeps its text chunks', async () => {
    const original = await rgbaPng(4, 4, 255, [{ keyword: 'workflow', text: '{"id":"w"}' }]);
    fs.writeFileSync(path.join(t.base, 'output', 'orig.png'), original);
    const mask = await rgbaPng(4, 4, 60);
    const res = await request(t.url)
      .post('/upload/mask')
      .field('type', 'input')
      .field('subfolder', 'clipspace')
      .field('original_ref', JSON.stringify({ filename: 'orig.png', type: 'output', subfolder: '' }))
      .attach('image', mask, 'masked.png');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'masked.png', subfolder: 'clipspace', type: 'input' });
    const saved = fs.readFileSync(path.join(t.base, 'input', 'clipspace', 'masked.png'));
    expect(readPngText(saved)).toEqual({ workflow: '{"id":"w"}' });
    const { data, info } = await sharp(saved).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect([...data.subarray(0, 4)]).toEqual([200, 100, 50, 60]);
  });

  it('refuses bad original references', async () => {
    const mask = await rgbaPng(4, 4, 60);
    const post = (ref: string) => request(t.url).post('/upload/mask').field('original_ref', ref).attach('image', mask, 'm.png');
    expect((await post('not json')).status).toBe(400);
    expect((await post(JSON.stringify({ filename: '../x.png' }))).status).toBe(400);
    expect((await post(JSON.stringify({ filename: 'orig.png', subfolder: '../..' }))).status).toBe(403);
    expect((await post(JSON.stringify({ filename: 'missing.png' }))).status).toBe(404);
    expect((await post(JSON.stringify({ filename: 'orig.png', type: 'bogus' }))).status).toBe(400);
  });
});

describe('GET /view', () => {
  beforeAll(async () => {
    fs.writeFileSync(path.join(t.base, 'output', 'alpha.png'), await rgbaPng(3, 2, 77));
    fs.mkdirSync(path.join(t.base, 'output', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(t.base, 'output', 'sub', 'nested.txt'), 'nested');
    fs.writeFileSync(path.join(t.base, 'temp', 'page.html'), '<script>alert(1)</script>');
    fs.writeFileSync(path.join(t.base, 'input', 'pic.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    fs.writeFileSync(path.join(t.base, 'output', 'range.bin'), Buffer.from('0123456789'));
  });

  it('serves raw files with nosniff and a filename disposition, in both prefixes', async () => {
    for (const prefix of ['', '/api']) {
      const res = await request(t.url).get(`${prefix}/view`).query({ filename: 'alpha.png' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('image/png');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-disposition']).toBe('filename="alpha.png"');
    }
  });

  it('honours annotations, subfolders and uses only the basename', async () => {
    const annotated = await request(t.url).get('/view').query({ filename: 'page.html [temp]', type: 'output' });
    expect(annotated.status).toBe(200);
    const nested = await request(t.url).get('/view').query({ filename: 'nested.txt', subfolder: 'sub' });
    expect(nested.text).toBe('nested');
    expect((await request(t.url).get('/view').query({ filename: 'sub/nested.txt' })).status).toBe(404);
  });

  it('neutralises dangerous types, except SVG fetched as an image', async () => {
    const html = await request(t.url).get('/view').query({ filename: 'page.html', type: 'temp' });
    expect(html.headers['content-type']).toBe('application/octet-stream');
    expect(html.headers['content-disposition']).toBe('attachment; filename="page.html"');
    expect(html.headers['cache-control']).toBe('no-store');
    expect(html.headers['vary']).toContain('Sec-Fetch-Dest');
    const svgDoc = await request(t.url).get('/view').query({ filename: 'pic.svg', type: 'input' });
    expect(svgDoc.headers['content-type']).toBe('application/octet-stream');
    const svgImg = await request(t.url).get('/view').query({ filename: 'pic.svg', type: 'input' }).set('Sec-Fetch-Dest', 'image');
    expect(svgImg.headers['content-type']).toBe('image/svg+xml');
    expect(svgImg.headers['content-disposition']).toBe('filename="pic.svg"');
  });

  it('re-encodes previews and extracts channels', async () => {
    const webp = await request(t.url).get('/view').query({ filename: 'alpha.png', preview: 'webp;50' }).buffer(true);
    expect(webp.headers['content-type']).toBe('image/webp');
    expect((await sharp(webp.body as Buffer).metadata()).format).toBe('webp');
    const jpeg = await request(t.url).get('/view').query({ filename: 'alpha.png', preview: 'jpeg;80' }).buffer(true);
    expect(jpeg.headers['content-type']).toBe('image/jpeg');
    const forcedWebp = await request(t.url).get('/view').query({ filename: 'alpha.png', preview: 'jpeg', channel: 'a' }).buffer(true);
    expect(forcedWebp.headers['content-type']).toBe('image/webp');

    const rgb = await request(t.url).get('/view').query({ filename: 'alpha.png', channel: 'rgb' }).buffer(true);
    const rgbMeta = await sharp(rgb.body as Buffer).metadata();
    expect([rgbMeta.format, rgbMeta.channels]).toEqual(['png', 3]);
    const a = await request(t.url).get('/view').query({ filename: 'alpha.png', channel: 'a' }).buffer(true);
    const { data, info } = await sharp(a.body as Buffer).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect([...data.subarray(0, 4)]).toEqual([0, 0, 0, 77]);
  });

  it('supports byte ranges', async () => {
    const res = await request(t.url).get('/view').query({ filename: 'range.bin' }).set('Range', 'bytes=2-5').buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(206);
    expect((res.body as Buffer).toString()).toBe('2345');
    expect(res.headers['content-range']).toBe('bytes 2-5/10');
  });

  it('refuses path tricks with ComfyUI status codes', async () => {
    fs.symlinkSync(outside, path.join(t.base, 'output', 'evil-dir'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(t.base, 'output', 'evil.txt'));
    const cases: Array<[Record<string, string>, number]> = [
      [{}, 404],
      [{ filename: '' }, 400],
      [{ filename: '/etc/passwd' }, 400],
      [{ filename: '../secret.txt' }, 400],
      [{ filename: 'a\0b.png' }, 400],
      [{ filename: 'alpha.png', type: 'models' }, 400],
      [{ filename: 'passwd', subfolder: '../../../../etc' }, 403],
      [{ filename: 'passwd', subfolder: '/etc' }, 403],
      [{ filename: 'secret.txt', subfolder: 'evil-dir' }, 403],
      [{ filename: 'evil.txt' }, 403],
      [{ filename: 'nope.png' }, 404],
    ];
    for (const [query, status] of cases) {
      const res = await request(t.url).get('/view').query(query);
      expect(res.status, JSON.stringify(query)).toBe(status);
      expect(res.text ?? '').not.toContain('secret');
    }
    const encoded = await request(t.url).get('/view?filename=%2e%2e%2fsecret.txt');
    expect(encoded.status).toBe(400);
  });
});

describe('model and metadata routes', () => {
  it('lists model folders and files, and reads safetensors metadata', async () => {
    const ckpt = path.join(t.base, 'models', 'checkpoints');
    fs.mkdirSync(path.join(ckpt, 'sub'), { recursive: true });
    const header = Buffer.from(JSON.stringify({ __metadata__: { title: 'tiny' } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    fs.writeFileSync(path.join(ckpt, 'sub', 'm.safetensors'), Buffer.concat([len, header]));
    fs.writeFileSync(path.join(ckpt, 'notes.txt'), 'x');
    const folders = (await request(t.url).get('/models')).body as string[];
    expect(folders).toContain('checkpoints');
    expect(folders).not.toContain('clip');
    // comfy8-demo-sd35-tiny.safetensors: the demo checkpoint the server writes on first start.
    expect((await request(t.url).get('/api/models/checkpoints')).body).toEqual(['comfy8-demo-sd35-tiny.safetensors', 'sub/m.safetensors']);
    expect((await request(t.url).get('/models/nope')).status).toBe(404);
    const exp = (await request(t.url).get('/api/experiment/models')).body as Array<{ name: string; folders: string[]; extensions: string[] }>;
    expect(exp.find((e) => e.name === 'checkpoints')!.folders[0]).toBe(ckpt);
    expect(exp.some((e) => e.name === 'configs' || e.name === 'custom_nodes')).toBe(false);
    const files = (await request(t.url).get('/experiment/models/checkpoints')).body;
    expect(files.filter((f: { name: string }) => f.name !== 'comfy8-demo-sd35-tiny.safetensors')).toEqual([{ name: 'sub/m.safetensors', pathIndex: 0, modified: expect.any(Number), created: expect.any(Number), size: 8 + header.length }]);
    expect((await request(t.url).get('/view_metadata/checkpoints').query({ filename: 'sub/m.safetensors' })).body).toEqual({ title: 'tiny' });
    expect((await request(t.url).get('/view_metadata/checkpoints').query({ filename: 'notes.txt' })).status).toBe(404);
    expect((await request(t.url).get('/view_metadata/checkpoints').query({ filename: '../../x.safetensors' })).status).toBe(404);
  });

  it('serves model previews as WebP: sibling image, .preview image, embedded cover', async () => {
    const loras = path.join(t.base, 'models', 'loras');
    fs.mkdirSync(path.join(loras, 'a'), { recursive: true });
    fs.writeFileSync(path.join(loras, 'a', 'one.safetensors'), Buffer.alloc(8));
    fs.writeFileSync(path.join(loras, 'a', 'one.preview.png'), await rgbaPng(5, 3, 255));
    const cover = (await rgbaPng(7, 2, 255)).toString('base64');
    const header = Buffer.from(JSON.stringify({ __metadata__: { ssmd_cover_images: JSON.stringify([cover]) } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    fs.writeFileSync(path.join(loras, 'two.safetensors'), Buffer.concat([len, header]));
    fs.writeFileSync(path.join(loras, 'three.safetensors'), Buffer.alloc(8));
    const one = await request(t.url).get('/api/experiment/models/preview/loras/0/a/one.safetensors').buffer(true);
    expect(one.headers['content-type']).toBe('image/webp');
    expect(await sharp(one.body as Buffer).metadata()).toMatchObject({ format: 'webp', width: 5, height: 3 });
    const two = await request(t.url).get('/experiment/models/preview/loras/0/two.safetensors').buffer(true);
    expect(await sharp(two.body as Buffer).metadata()).toMatchObject({ width: 7, height: 2 });
    expect((await request(t.url).get('/experiment/models/preview/loras/0/three.safetensors')).status).toBe(404);
    expect((await request(t.url).get('/experiment/models/preview/loras/9/a/one.safetensors')).status).toBe(400);
    expect((await request(t.url).get('/experiment/models/preview/loras/x/a/one.safetensors')).status).toBe(400);
    expect((await request(t.url).get('/experiment/models/preview/loras/0/..%2F..%2Fx.safetensors')).status).toBe(403);
    expect((await request(t.url).get('/experiment/models/preview/nope/0/x.safetensors')).status).toBe(404);
  });
});
