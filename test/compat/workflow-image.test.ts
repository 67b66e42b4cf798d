/**
 * Workflows embedded in images: a real PNG (sharp) with ComfyUI's `workflow`/`prompt` text chunks
 * added by compat/png-text, and a real WebP whose EXIF sharp writes the way SaveAnimatedWEBP
 * lays it out (`prompt:` in Model 0x0110, `workflow:` in Make 0x010F).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ApiPrompt } from '../../compat/api-types.js';
import { insertPngTextChunks } from '../../compat/png-text.js';
import { pythonJsonDumps } from '../../compat/python-json.js';
import { extractWorkflowFromImage, parsePythonJson, workflowToPrompt } from '../../compat/workflow/index.js';
import { readExifStrings, readXmpStrings } from '../../compat/workflow/webp-metadata.js';
import { objectInfo, readFixture } from './workflow-fixtures.js';

const NAME = 'cex_flux_flux_dev_checkpoint_example';

function tinyImage() {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 30 } } });
}

describe('extractWorkflowFromImage', () => {
  it('reads workflow and prompt from PNG text chunks, and the workflow converts to the prompt', async () => {
    const workflow = readFixture(`pairs/${NAME}.ui.json`);
    const prompt = readFixture<ApiPrompt>(`pairs/${NAME}.api.json`);
    const png = insertPngTextChunks(await tinyImage().png().toBuffer(), [
      { keyword: 'prompt', text: pythonJsonDumps(prompt) },
      { keyword: 'workflow', text: pythonJsonDumps(workflow) },
    ]);
    const found = extractWorkflowFromImage(png)!;
    expect(found.format).toBe('png');
    expect(found.workflow).toStrictEqual(workflow);
    expect(found.prompt).toStrictEqual(prompt);
    const converted = workflowToPrompt(found.workflow, objectInfo, { includeMeta: false });
    expect(converted.ok && converted.prompt).toStrictEqual(prompt);
    // The image itself is untouched by the chunks.
    expect((await sharp(png).raw().toBuffer()).subarray(0, 3)).toEqual(Buffer.from([200, 30, 30]));
  });

  it('reads non-Latin-1 text (iTXt) and Python NaN', async () => {
    const png = insertPngTextChunks(await tinyImage().png().toBuffer(), [
      { keyword: 'workflow', text: '{"nodes": [], "extra": {"title": "猫"}}' },
      { keyword: 'prompt', text: '{"1": {"class_type": "X", "inputs": {"v": NaN, "s": "NaN stays"}}}' },
    ]);
    const found = extractWorkflowFromImage(png)!;
    expect(found.workflow).toEqual({ nodes: [], extra: { title: '猫' } });
    expect(found.prompt).toEqual({ '1': { class_type: 'X', inputs: { v: null, s: 'NaN stays' } } });
  });

  it('reports entries that are not JSON instead of throwing', async () => {
    const png = insertPngTextChunks(await tinyImage().png().toBuffer(), [{ keyword: 'workflow', text: '{not json' }]);
    const found = extractWorkflowFromImage(png)!;
    expect(found.workflow).toBeUndefined();
    expect(Object.keys(found.unreadable)).toEqual(['workflow']);
  });

  it('reads workflow and prompt from WebP EXIF as SaveAnimatedWEBP writes them', async () => {
    const workflow = readFixture(`pairs/${NAME}.ui.json`);
    const prompt = readFixture<ApiPrompt>(`pairs/${NAME}.api.json`);
    const webp = await tinyImage()
      .webp({ lossless: true })
      .withExif({ IFD0: { Model: `prompt:${JSON.stringify(prompt)}`, Make: `workflow:${JSON.stringify(workflow)}` } })
      .toBuffer();
    const found = extractWorkflowFromImage(webp)!;
    expect(found.format).toBe('webp');
    expect(found.workflow).toStrictEqual(workflow);
    expect(found.prompt).toStrictEqual(prompt);
  });

  it('reads big-endian TIFF and the Exif\\0\\0 prefix', () => {
    const text = 'workflow:{"nodes":[]}';
    const body = Buffer.concat([Buffer.from(text, 'latin1'), Buffer.of(0)]);
    const tiff = Buffer.alloc(8 + 2 + 12 + 4);
    tiff.write('MM', 0, 'latin1');
    tiff.writeUInt16BE(42, 2);
    tiff.writeUInt32BE(8, 4);
    tiff.writeUInt16BE(1, 8);
    tiff.writeUInt16BE(0x010f, 10);
    tiff.writeUInt16BE(2, 12);
    tiff.writeUInt32BE(body.length, 14);
    tiff.writeUInt32BE(tiff.length, 18);
    const exif = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff, body]);
    expect(readExifStrings(exif).get(0x010f)).toBe(text);
  });

  it('reads workflow/prompt XMP properties', () => {
    const xmp = '<x:xmpmeta><rdf:Description comfy:prompt="{&quot;1&quot;:{}}"><comfy:workflow><![CDATA[{"nodes":[]}]]></comfy:workflow></rdf:Description></x:xmpmeta>';
    expect(readXmpStrings(xmp)).toEqual({ prompt: '{"1":{}}', workflow: '{"nodes":[]}' });
  });

  it('returns null for bytes that are not PNG or WebP, and empty results for images without metadata', async () => {
    expect(extractWorkflowFromImage(Buffer.from('GIF89a not really'))).toBeNull();
    const plain = extractWorkflowFromImage(await tinyImage().png().toBuffer())!;
    expect(plain.workflow).toBeUndefined();
    expect(plain.prompt).toBeUndefined();
    expect(parsePythonJson('[Infinity, -Infinity, "Infinity"]')).toEqual([null, null, 'Infinity']);
  });
});
