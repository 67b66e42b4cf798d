/**
 * Uploads are sniffed by content (sharp reads only the header): non-images and SVG are 400,
 * decompression bombs (a tiny PNG claiming 100k×100k pixels) are 400 before any decoding, and
 * the --max-upload-pixels limit applies to real images too.
 */
import zlib from 'node:zlib';
import request from 'supertest';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TINY_PNG, type TestServer } from './helpers.js';

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid PNG header claiming `width`×`height` RGB pixels, with a few bytes of compressed data. */
function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const idat = zlib.deflateSync(Buffer.alloc(64 * 1024));
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ maxUploadPixels: 1024 * 1024 });
});
afterAll(() => t.close());

const upload = (data: Buffer, name: string, route = '/upload/image') => request(t.url).post(route).attach('image', data, name);

describe('upload sniffing', () => {
  it('accepts real images and refuses non-images whatever their name', async () => {
    expect((await upload(TINY_PNG, 'ok.png')).status).toBe(200);
    expect((await upload(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#00f' } }).jpeg().toBuffer(), 'ok.jpg')).status).toBe(200);
    const text = await upload(Buffer.from('just some text, not a picture'), 'fake.png');
    expect(text.status).toBe(400);
    expect(text.text).toContain('not an image');
    expect((await upload(Buffer.from('<html><script>alert(1)</script></html>'), 'x.png')).status).toBe(400);
    const svg = await upload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script></svg>'), 'x.svg');
    expect(svg.status).toBe(400);
    expect(svg.text).toContain('svg');
    expect((await upload(TINY_PNG.subarray(0, 20), 'truncated.png')).status).toBe(400);
  });

  it('refuses a decompression bomb (100k×100k PNG in a few hundred bytes) and images over the pixel limit', async () => {
    const bomb = bombPng(100_000, 100_000);
    expect(bomb.length).toBeLessThan(2000);
    const res = await upload(bomb, 'bomb.png');
    expect(res.status).toBe(400);
    expect(res.text).toContain('100000x100000');
    expect((await upload(bomb, 'bomb.png', '/upload/mask')).status).toBeGreaterThanOrEqual(400);
    const big = await sharp({ create: { width: 1100, height: 1000, channels: 3, background: '#fff' } }).png().toBuffer();
    expect((await upload(big, 'big.png')).status).toBe(400);
    const fits = await sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#fff' } }).png().toBuffer();
    expect((await upload(fits, 'fits.png')).status).toBe(200);
  });
});
