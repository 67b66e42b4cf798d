import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import sharp from 'sharp';
import { runPrompt, startPluginServer, type PluginServer } from './helpers.js';

const PROJECT_CUSTOM_NODES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../custom_nodes');

let t: PluginServer;
beforeAll(async () => {
  // The shipped packs, reached as an extra custom_nodes root (extra_model_paths.yaml).
  const yamlDir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-yaml-'));
  const yaml = path.join(yamlDir, 'extra_model_paths.yaml');
  fs.writeFileSync(yaml, `shipped:\n  custom_nodes: ${PROJECT_CUSTOM_NODES}\n`);
  t = await startPluginServer({ config: { extraModelPathsConfigs: [yaml] } });
  fs.rmSync(yamlDir, { recursive: true, force: true });
});
afterAll(async () => {
  await t.close();
});

describe('the example packs', () => {
  it('load without problems', () => {
    const packs = Object.fromEntries(t.server.plugins.packs.map((p) => [p.name, p]));
    expect(packs['comfy8-image-adjust']).toMatchObject({ ok: true, problems: [], nodes: ['C8ImageAdjust', 'C8ImageSharpen', 'C8AutoLevels'] });
    expect(packs['comfy8-latent-tools']).toMatchObject({ ok: true, problems: [], nodes: ['C8LatentBlend', 'C8LatentNormalize', 'C8LatentCast', 'C8LatentStats'] });
    expect(t.logText()).toMatch(/\d seconds: .*custom_nodes\/comfy8-image-adjust\n/);
  });

  it("list and serve comfy8-image-adjust's frontend extension", async () => {
    const list = (await request(t.url).get('/extensions')).body as string[];
    expect(list).toContain('/extensions/comfy8-image-adjust/image-adjust.js');
    const file = await request(t.url).get('/extensions/comfy8-image-adjust/image-adjust.js');
    expect(file.status).toBe(200);
    expect(file.text).toContain('app.registerExtension(');
    expect(file.text).toContain("import { app } from '../../scripts/app.js'");
  });

  it('adjust an image end to end (the saved PNG has the brighter pixels)', async () => {
    const run = await runPrompt(t.url, {
      '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0x808080 } },
      '2': { class_type: 'C8ImageAdjust', inputs: { image: ['1', 0], brightness: 0.1, contrast: 1, saturation: 1, gamma: 1 } },
      '3': { class_type: 'C8ImageSharpen', inputs: { image: ['2', 0], radius: 1, sigma: 1, amount: 1 } },
      '4': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'adjusted' } },
    });
    expect(run.types).toContain('execution_success');
    const img = run.outputs['4']!['images']![0] as { filename: string; subfolder: string; type: string };
    const png = await request(t.url).get('/view').query(img).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    const { data } = await sharp(png.body as Buffer).raw().toBuffer({ resolveWithObject: true });
    // 128/255 + 0.1 = 0.602 → 153 (or 154, by rounding)
    expect([153, 154]).toContain(data[0]);
    expect(new Set(data).size).toBe(1);
  });

  it('keep an FP8 latent FP8 through nodes that declare ACCEPTS_FP8', async () => {
    const run = await runPrompt(t.url, {
      '1': { class_type: 'EmptySD3LatentImage', inputs: { width: 32, height: 32, batch_size: 1 } },
      '2': { class_type: 'C8LatentNormalize', inputs: { samples: ['1', 0], mode: 'scale', factor: 1 } },
      '3': { class_type: 'C8LatentCast', inputs: { samples: ['2', 0], dtype: 'float8_e4m3fn' } },
      '4': { class_type: 'C8LatentStats', inputs: { samples: ['3', 0] } },
    });
    const text = String(run.outputs['4']!['text']![0]);
    expect(text.split('\n')[0]).toBe('dtype float8_e4m3fn, shape [1, 16, 4, 4]');
    expect(text).toContain('channel 15: mean 0.0000 std 0.0000');
  });
});
