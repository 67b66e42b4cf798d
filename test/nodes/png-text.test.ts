import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { crc32, insertPngTextChunks, parsePngChunks, PngFormatError, readPngText, readPngTextChunks } from '../../compat/png-text.js';
import { pythonJsonDumps, pythonNumber } from '../../compat/python-json.js';

async function plainPng(): Promise<Buffer> {
  return sharp(Buffer.alloc(4 * 3 * 3, 90), { raw: { width: 4, height: 3, channels: 3 } }).png().toBuffer();
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('PNG text chunks', () => {
  it('round-trips tEXt and iTXt entries and keeps the image decodable', async () => {
    const png = insertPngTextChunks(await plainPng(), [
      { keyword: 'prompt', text: '{"1": {"class_type": "SaveImage"}}' },
      { keyword: 'workflow', text: 'caf\u00e9' },
      { keyword: 'title', text: '\u65e5\u672c' },
    ]);
    const chunks = readPngTextChunks(png);
    expect(chunks.map((c) => [c.kind, c.keyword, c.text])).toEqual([
      ['tEXt', 'prompt', '{"1": {"class_type": "SaveImage"}}'],
      ['tEXt', 'workflow', 'caf\u00e9'],
      ['iTXt', 'title', '\u65e5\u672c'],
    ]);
    // placed before the image data, as PIL does
    const types = parsePngChunks(png).map((c) => c.type);
    expect(types[0]).toBe('IHDR');
    expect(types.indexOf('tEXt')).toBeLessThan(types.indexOf('IDAT'));
    // another decoder still reads the pixels and sees the text
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, data[0]]).toEqual([4, 3, 90]);
    const meta = await sharp(png).metadata();
    expect(meta.comments?.find((c) => c.keyword === 'prompt')?.text).toBe('{"1": {"class_type": "SaveImage"}}');
  });

  it('reads the chunks of a PNG written by PIL (tEXt, iTXt, zTXt)', () => {
    const png = fs.readFileSync(path.join(__dirname, '../golden/nodes/pil-text.png'));
    const text = readPngText(png);
    expect(JSON.parse(text.prompt!)).toEqual({ '3': { class_type: 'KSampler', inputs: { seed: 5, cfg: 4.5, text: 'caf\u00e9' } } });
    expect(text.prompt).toBe('{"3": {"class_type": "KSampler", "inputs": {"seed": 5, "cfg": 4.5, "text": "caf\\u00e9"}}}');
    expect(JSON.parse(text.workflow!)).toEqual({ nodes: [], links: [], version: 0.4 });
    expect(text.Title).toBe('\u65e5\u672c');
    expect(text.Comment).toBe('squeezed '.repeat(20));
    const kinds = Object.fromEntries(readPngTextChunks(png).map((c) => [c.keyword, c.kind]));
    expect(kinds).toEqual({ prompt: 'tEXt', workflow: 'tEXt', Title: 'iTXt', Comment: 'zTXt' });
  });

  it('refuses corrupt files and bad keywords', async () => {
    const png = await plainPng();
    const broken = Buffer.from(png);
    broken[20] ^= 0xff; // inside IHDR data → CRC mismatch
    expect(() => parsePngChunks(broken)).toThrow(PngFormatError);
    expect(() => parsePngChunks(Buffer.from('not a png'))).toThrow(/signature/);
    expect(() => insertPngTextChunks(png, [{ keyword: '', text: 'x' }])).toThrow(/keyword/);
  });
});

describe('pythonJsonDumps', () => {
  it('formats like Python json.dumps', () => {
    expect(pythonJsonDumps({ a: [1, 2.5, null, true], b: 'caf\u00e9 "q"\n', c: {} })).toBe(
      '{"a": [1, 2.5, null, true], "b": "caf\\u00e9 \\"q\\"\\n", "c": {}}',
    );
    expect([0.0001, 0.00001, 1e16, 1.5e-7, 123.25, 1e22].map(pythonNumber)).toEqual(['0.0001', '1e-05', '1e+16', '1.5e-07', '123.25', '1e+22']);
  });
});

describe('image-io raw conversions', () => {
  it('rawToImage and imageToUint8 round-trip 8-bit pixels', async () => {
    const { rawToImage, imageToUint8 } = await import('../../nodes/image-io.js');
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const image = rawToImage([{ data, width: 3, height: 2, channels: 4 }]);
    expect(image.shape).toEqual([1, 2, 3, 4]);
    expect([...imageToUint8(image, 0).data]).toEqual([...data]);
    expect(() => rawToImage([{ data, width: 3, height: 2, channels: 4 }, { data, width: 2, height: 3, channels: 4 }])).toThrow(/frame 1/);
  });
});
