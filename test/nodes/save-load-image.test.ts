import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePngChunk, parsePngChunks, PNG_SIGNATURE, readPngText } from '../../compat/png-text.js';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { imageToUint8 } from '../../nodes/image-io.js';
import { LoadImage, LoadImageMask } from '../../nodes/image/load-image.js';
import { PreviewImage, SaveImage } from '../../nodes/image/save-image.js';
import { resolveInputTypes, type NodeEnvironment } from '../../nodes/node-api.js';
import { makeTestContext } from '../helpers/context.js';
import { makeTestEnv } from '../helpers/env.js';

/** A 16-bit RGB PNG built by hand (filter 0 scanlines), independent of any encoder. */
function png16(samples: number[], width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([16, 2, 0, 0, 0], 8);
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 6);
    for (let i = 0; i < width * 3; i++) row.writeUInt16BE(samples[y * width * 3 + i]!, 1 + i * 2);
    rows.push(row);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    encodePngChunk('IHDR', ihdr),
    encodePngChunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    encodePngChunk('IEND', Buffer.alloc(0)),
  ]);
}

type Result = { ui?: Record<string, unknown[]>; result?: readonly unknown[] };

/** A 2-image batch, 4×3 RGB, with values that expose rounding vs truncation. */
function testImages(): Tensor<'float32'> {
  const data = new Float32Array(2 * 3 * 4 * 3);
  for (let i = 0; i < data.length; i++) data[i] = [0, 0.5, 0.999, 1.2, -0.1, 0.25][i % 6]!;
  return tensor('float32', [2, 3, 4, 3], data);
}

async function writeRgbaPng(env: NodeEnvironment, name: string, alpha: number): Promise<string> {
  const raw = Buffer.alloc(2 * 2 * 4);
  for (let p = 0; p < 4; p++) raw.set([10 * p, 100, 200, alpha], p * 4);
  const file = path.join(env.folders.inputDir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(raw, { raw: { width: 2, height: 2, channels: 4 } }).png().toFile(file);
  return file;
}

describe('SaveImage', () => {
  it('writes PNGs with truncated pixels, prompt/workflow chunks, counters and sub-folders', async () => {
    const env = makeTestEnv();
    fs.mkdirSync(path.join(env.folders.outputDir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(env.folders.outputDir, 'sub', 'pic_4_00005_.png'), '');
    const prompt = { '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'sub/pic_%width%', images: ['8', 0] } } };
    const workflow = { nodes: [{ id: 9, type: 'SaveImage' }], version: 0.4 };
    const images = testImages();
    const out = (await SaveImage.execute(
      { images, filename_prefix: 'sub/pic_%width%', prompt, extra_pnginfo: { workflow } },
      makeTestContext(env),
    )) as Result;
    expect(out.ui).toEqual({
      images: [
        { filename: 'pic_4_00006_.png', subfolder: 'sub', type: 'output' },
        { filename: 'pic_4_00007_.png', subfolder: 'sub', type: 'output' },
      ],
    });
    expect(out.result).toEqual([images]);
    const file = path.join(env.folders.outputDir, 'sub', 'pic_4_00006_.png');
    const png = fs.readFileSync(file);
    // chunk layout as PIL writes it: header, text, image data
    expect(parsePngChunks(png).map((c) => c.type)).toEqual(['IHDR', 'tEXt', 'tEXt', 'IDAT', 'IEND']);
    const text = readPngText(png);
    expect(JSON.parse(text.prompt!)).toEqual(prompt);
    expect(text.prompt).toContain('"class_type": "SaveImage"'); // Python json.dumps spacing
    expect(JSON.parse(text.workflow!)).toEqual(workflow);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([4, 3, 3]);
    expect([...data.subarray(0, 6)]).toEqual([0, 127, 254, 255, 0, 63]);
  });

  it('writes no text chunks with --disable-metadata', async () => {
    const env = makeTestEnv({ disableMetadata: true });
    const out = (await SaveImage.execute({ images: testImages(), filename_prefix: 'plain', prompt: { a: 1 } }, makeTestContext(env))) as Result;
    const first = (out.ui!.images as { filename: string }[])[0]!;
    expect(readPngText(fs.readFileSync(path.join(env.folders.outputDir, first.filename)))).toEqual({});
  });

  it('replaces %batch_num% per image and refuses prefixes outside the output folder', async () => {
    const env = makeTestEnv();
    const out = (await SaveImage.execute({ images: testImages(), filename_prefix: 'b%batch_num%' }, makeTestContext(env))) as Result;
    expect((out.ui!.images as { filename: string }[]).map((i) => i.filename)).toEqual(['b0_00001_.png', 'b1_00002_.png']);
    await expect(SaveImage.execute({ images: testImages(), filename_prefix: '../x' }, makeTestContext(env))).rejects.toThrow(/outside the output folder/);
  });
});

describe('float → uint8 conversion', () => {
  it('matches numpy on values near every k/255 boundary (golden from tools/nodes-uint8-golden.py)', () => {
    const golden = JSON.parse(fs.readFileSync(path.join(__dirname, '../golden/nodes/uint8.json'), 'utf8')) as { input_float32: number[]; uint8: number[] };
    const n = golden.input_float32.length;
    const image = tensor('float32', [1, 1, n, 1], Float32Array.from(golden.input_float32));
    expect([...imageToUint8(image, 0).data]).toEqual(golden.uint8);
  });
});

describe('PreviewImage', () => {
  it('writes into the temp folder with a random _temp_ suffix', async () => {
    const env = makeTestEnv();
    const out = (await PreviewImage.execute({ images: testImages() }, makeTestContext(env))) as Result;
    const entries = out.ui!.images as { filename: string; subfolder: string; type: string }[];
    expect(entries).toHaveLength(2);
    expect(entries[0]!.filename).toMatch(/^ComfyUI_temp_[a-z]{5}_00001_\.png$/);
    expect(entries[0]!.type).toBe('temp');
    expect(fs.existsSync(path.join(env.folders.tempDir, entries[1]!.filename))).toBe(true);
  });
});

describe('LoadImage', () => {
  it('lists image files of the input folder, sorted, with an upload button', async () => {
    const env = makeTestEnv();
    await writeRgbaPng(env, 'b.png', 255);
    await writeRgbaPng(env, 'a.png', 255);
    await writeRgbaPng(env, 'sub/c.png', 255);
    fs.writeFileSync(path.join(env.folders.inputDir, 'notes.txt'), 'x');
    const types = resolveInputTypes(LoadImage, env);
    expect(types.required!.image).toEqual([['a.png', 'b.png'], { image_upload: true }]);
  });

  it('returns RGB / 255 and mask = 1 − alpha', async () => {
    const env = makeTestEnv();
    await writeRgbaPng(env, 'cat.png', 51);
    const [image, mask] = (await LoadImage.execute({ image: 'cat.png' }, makeTestContext(env))) as Tensor<'float32'>[];
    expect(image!.shape).toEqual([1, 2, 2, 3]);
    expect(image!.data[3]).toBeCloseTo(10 / 255, 6);
    expect(image!.data[5]).toBeCloseTo(200 / 255, 6);
    expect(mask!.shape).toEqual([1, 2, 2]);
    for (const v of mask!.data) expect(v).toBeCloseTo(1 - 51 / 255, 6);
  });

  it('gives a 64×64 zero mask without alpha, and reads sub-folders and annotated names', async () => {
    const env = makeTestEnv();
    const file = path.join(env.folders.outputDir, 'out.jpg');
    await sharp(Buffer.alloc(5 * 4 * 3, 128), { raw: { width: 5, height: 4, channels: 3 } }).jpeg().toFile(file);
    const [image, mask] = (await LoadImage.execute({ image: 'out.jpg [output]' }, makeTestContext(env))) as Tensor<'float32'>[];
    expect(image!.shape).toEqual([1, 4, 5, 3]);
    expect(mask!.shape).toEqual([1, 64, 64]);
    expect(mask!.data.every((v) => v === 0)).toBe(true);
    await writeRgbaPng(env, 'sub/c.png', 255);
    const [sub] = (await LoadImage.execute({ image: 'sub/c.png' }, makeTestContext(env))) as Tensor<'float32'>[];
    expect(sub!.shape).toEqual([1, 2, 2, 3]);
  });

  it('applies EXIF orientation, keeps 16-bit precision and stacks animation frames', async () => {
    const env = makeTestEnv();
    const jpeg = await sharp(Buffer.alloc(4 * 2 * 3, 100), { raw: { width: 4, height: 2, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    fs.writeFileSync(path.join(env.folders.inputDir, 'rot.jpg'), jpeg);
    const [rot] = (await LoadImage.execute({ image: 'rot.jpg' }, makeTestContext(env))) as Tensor<'float32'>[];
    expect(rot!.shape).toEqual([1, 4, 2, 3]);

    fs.writeFileSync(path.join(env.folders.inputDir, 'deep.png'), png16([1000, 2000, 3000, 65535, 0, 30000], 2, 1));
    const [d] = (await LoadImage.execute({ image: 'deep.png' }, makeTestContext(env))) as Tensor<'float32'>[];
    expect(d!.data[0]).toBeCloseTo(1000 / 65535, 6);
    expect(d!.data[5]).toBeCloseTo(30000 / 65535, 6);

    const frames = Buffer.alloc(3 * 2 * 2 * 4);
    for (let p = 0; p < 12; p++) frames.set(p < 6 ? [10, 20, 30, 255] : [200, 100, 50, 0], p * 4);
    await sharp(frames, { raw: { width: 3, height: 4, channels: 4, pageHeight: 2 } })
      .webp({ lossless: true })
      .toFile(path.join(env.folders.inputDir, 'anim.webp'));
    const [anim, animMask] = (await LoadImage.execute({ image: 'anim.webp' }, makeTestContext(env))) as Tensor<'float32'>[];
    expect(anim!.shape).toEqual([2, 2, 3, 3]);
    expect(animMask!.shape).toEqual([2, 2, 3]);
    expect(animMask!.data[0]).toBe(0);
    expect(animMask!.data[6]).toBe(1);
    expect(anim!.data[0]).toBeCloseTo(10 / 255, 6);
  });

  it('validates by file existence and fingerprints by sha256', async () => {
    const env = makeTestEnv();
    const file = await writeRgbaPng(env, 'sub/v.png', 255);
    resolveInputTypes(LoadImage, env);
    const validate = LoadImage.validateInputs!;
    expect(await validate.fn({ image: 'sub/v.png' }, undefined, env)).toBe(true);
    expect(await validate.fn({ image: 'missing.png' }, undefined, env)).toBe('Invalid image file: missing.png');
    expect(await validate.fn({ image: '../../etc/passwd' }, undefined, env)).toBe('Invalid image file: ../../etc/passwd');
    fs.mkdirSync(path.join(env.folders.inputDir, 'folder.png'));
    expect(await validate.fn({ image: 'folder.png' }, undefined, env)).toBe('Invalid image file: folder.png');
    await expect(LoadImage.execute({ image: 'folder.png' }, makeTestContext(env))).rejects.toThrow(/not found: folder\.png/);
    const hash = LoadImage.isChanged!({ image: 'sub/v.png' }, env);
    expect(hash).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    await writeRgbaPng(env, 'sub/v.png', 3);
    expect(LoadImage.isChanged!({ image: 'sub/v.png' }, env)).not.toBe(hash);
    expect(Number.isNaN(LoadImage.isChanged!({ image: 'gone.png' }, env))).toBe(true);
    await expect(LoadImage.execute({ image: 'gone.png' }, makeTestContext(env))).rejects.toThrow(/gone\.png/);
    fs.writeFileSync(path.join(env.folders.inputDir, 'junk.png'), 'not an image');
    await expect(LoadImage.execute({ image: 'junk.png' }, makeTestContext(env))).rejects.toThrow(/cannot read image file 'junk\.png'/);
  });
});

describe('LoadImageMask', () => {
  it('returns the alpha mask or one colour channel', async () => {
    const env = makeTestEnv();
    await writeRgbaPng(env, 'm.png', 51);
    const ctx = makeTestContext(env);
    const [alpha] = (await LoadImageMask.execute({ image: 'm.png', channel: 'alpha' }, ctx)) as Tensor<'float32'>[];
    expect(alpha!.data[0]).toBeCloseTo(1 - 51 / 255, 6);
    const [red] = (await LoadImageMask.execute({ image: 'm.png', channel: 'red' }, ctx)) as Tensor<'float32'>[];
    expect(red!.shape).toEqual([1, 2, 2]);
    expect([...red!.data].map((v) => Math.round(v * 255))).toEqual([0, 10, 20, 30]);
    expect(resolveInputTypes(LoadImageMask, env).required!.channel).toEqual([['alpha', 'red', 'green', 'blue']]);
  });
});
