/**
 * Web UI checks that need no browser: the sources type-check against litegraph's typings (the
 * root tsconfig leaves web/ out because it needs DOM types), the bundle builds, and the PNG
 * text-chunk reader handles what ComfyUI writes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { NotAPngError, readPngTextChunks } from '../../web/src/png-metadata.js';
import { applyTextReplacements, expandDynamicPrompt, formatDate } from '../../web/src/text-replacements.js';
import { buildWebUi } from './build-web-ui.js';

const root = path.resolve(import.meta.dirname, '..', '..');

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])));
  return Buffer.concat([length, Buffer.from(type, 'latin1'), data, crc]);
}

/** Inserts text chunks right after IHDR of a real PNG. */
async function pngWith(chunks: Buffer[]): Promise<Uint8Array> {
  const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#ff0000' } }).png().toBuffer();
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return new Uint8Array(Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]));
}

describe('web UI sources', () => {
  it('type-check with web/tsconfig.json', () => {
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'web', 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('bundle into web/dist with litegraph and the CSS', () => {
    buildWebUi();
    const js = fs.readFileSync(path.join(root, 'web', 'dist', 'app.js'), 'utf8');
    expect(js).toMatch(/LGraphCanvas = class|class LGraphCanvas/);
    expect(js).not.toMatch(/from\s*["']@comfyorg/);
    expect(fs.readFileSync(path.join(root, 'web', 'dist', 'app.css'), 'utf8')).toContain('.litegraph');
  });
});

describe('readPngTextChunks', () => {
  it('reads UTF-8 tEXt and uncompressed iTXt chunks', async () => {
    const workflow = JSON.stringify({ nodes: [{ title: 'Prompt – ✓ ü' }] });
    const bytes = await pngWith([
      chunk('tEXt', Buffer.concat([Buffer.from('workflow\0', 'latin1'), Buffer.from(workflow, 'utf8')])),
      chunk('iTXt', Buffer.concat([Buffer.from('prompt\0\0\0en\0\0', 'latin1'), Buffer.from('{"1":{}}', 'utf8')])),
    ]);
    expect(readPngTextChunks(bytes)).toEqual({ workflow, prompt: '{"1":{}}' });
  });

  it('skips compressed iTXt and returns nothing for a PNG without text', async () => {
    const bytes = await pngWith([chunk('iTXt', Buffer.concat([Buffer.from('workflow\0\x01\0\0\0', 'latin1'), zlib.deflateSync('{}')]))]);
    expect(readPngTextChunks(bytes)).toEqual({});
  });

  it('rejects data that is not a PNG', () => {
    expect(() => readPngTextChunks(new TextEncoder().encode('{"nodes": []}'))).toThrow(NotAPngError);
  });
});

describe('prompt text replacements', () => {
  it('expands dynamic prompts innermost first and drops comments', () => {
    const picks = [0.99, 0.5]; // inner {green|blue} → blue, then outer → "blue sky"
    const random = () => picks.shift() ?? 0;
    expect(expandDynamicPrompt('a {red|{green|blue} sky|cat} // note\nend /* x */', random)).toBe('a blue sky \nend ');
    expect(expandDynamicPrompt('no choices here')).toBe('no choices here');
  });

  it('formats %date:…% and %Node.widget%, leaving server tokens alone', () => {
    const date = new Date(2024, 2, 5, 7, 8, 9);
    expect(formatDate('yyyy-MM-dd hh:mm:ss', date)).toBe('2024-03-05 07:08:09');
    const lookup = (node: string, widget: string) => (node === 'Empty Latent' && widget === 'width' ? 1024 : node === 'Load' && widget === 'image' ? 'sub/cat.png' : undefined);
    expect(applyTextReplacements('%date:yyMMdd%/img_%Empty Latent.width%_%width%_%Load.image%_%Nope.x%', lookup, date)).toBe('240305/img_1024_%width%_sub_cat.png_%Nope.x%');
  });
});
