import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { runPrompt, startPluginServer, uiJson, type PluginServer } from './helpers.js';
import { GOOD_PACK, MISBEHAVING_PACK, WEB_PACK } from './packs.js';

const CJS_PACK = {
  'package.json': JSON.stringify({ name: 'cjs-pack', main: 'lib/main.cjs' }),
  'lib/main.cjs': `
module.exports = {
  NODE_CLASS_MAPPINGS: {
    CjsNode: { INPUT_TYPES: () => ({ required: {} }), RETURN_TYPES: ['STRING'], FUNCTION: 'go', OUTPUT_NODE: true,
      go: () => ({ ui: { text: [JSON.stringify({ cjs: true })] }, result: ['cjs'] }) },
  },
};
`,
};

let t: PluginServer;
beforeAll(async () => {
  t = await startPluginServer({ packs: { 'good-pack': GOOD_PACK, 'web pack': WEB_PACK, 'cjs-pack': CJS_PACK } });
});
afterAll(async () => {
  await t.close();
});

const latentPrompt = (probe: string) => ({
  '1': { class_type: 'Fp8LatentSource', inputs: {} },
  '2': { class_type: probe, inputs: { latent: ['1', 0] } },
});

describe('the FP16 guard', () => {
  it('casts an FP8 latent to float16 with the exact values before a node that does not declare ACCEPTS_FP8', async () => {
    const run = await runPrompt(t.url, latentPrompt('GuardedLatentProbe'));
    // float16 bits of 1, 2, -1, 1.5, 2^-9, 0
    expect(uiJson(run, '2')).toEqual({ dtype: 'float16', shape: [1, 1, 2, 3], data: [0x3c00, 0x4000, 0xbc00, 0x3e00, 0x1800, 0] });
    expect(t.logText()).toMatch(/custom_nodes\.good-pack GuardedLatentProbe: cast float8_e4m3fn \[1, 1, 2, 3\] → float16/);
  });

  it('hands the FP8 latent untouched to a node declaring ACCEPTS_FP8', async () => {
    const run = await runPrompt(t.url, latentPrompt('Fp8LatentProbe'));
    expect(uiJson(run, '2')).toEqual({ dtype: 'float8_e4m3fn', shape: [1, 1, 2, 3], data: [0x38, 0x40, 0xb8, 0x3c, 0x01, 0x00] });
  });

  it('gives float32 to a node declaring REQUIRES_FP32', async () => {
    const run = await runPrompt(t.url, latentPrompt('Fp32LatentProbe'));
    expect(uiJson(run, '2')).toEqual({ dtype: 'float32', shape: [1, 1, 2, 3], data: [1, 2, -1, 1.5, 2 ** -9, 0] });
  });
});

describe('frontend extensions (WEB_DIRECTORY)', () => {
  it('lists every .js file of the pack under /extensions/<url-quoted pack>/', async () => {
    const res = await request(t.url).get('/extensions');
    expect(res.status).toBe(200);
    expect((await request(t.url).get('/api/extensions')).body).toEqual(res.body);
    const mine = (res.body as string[]).filter((u) => u.startsWith('/extensions/web%20pack/'));
    expect(mine.sort()).toEqual(['/extensions/web%20pack/js/ext.js', '/extensions/web%20pack/js/nested/deep.js']);
  });

  it('serves the files', async () => {
    const res = await request(t.url).get('/extensions/web%20pack/js/nested/deep.js');
    expect(res.status).toBe(200);
    expect(res.text).toBe('export const deep = true;\n');
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect((await request(t.url).get('/extensions/web%20pack/style.css')).status).toBe(200);
    expect((await request(t.url).get('/extensions/web%20pack/missing.js')).status).toBe(404);
  });

  it('loads a frontend-only pack (empty NODE_CLASS_MAPPINGS) and a CommonJS pack named by package.json main', async () => {
    const packs = Object.fromEntries(t.server.plugins.packs.map((p) => [p.name, p]));
    expect(packs['web pack']).toMatchObject({ ok: true, nodes: [] });
    expect(packs['cjs-pack']).toMatchObject({ ok: true, nodes: ['CjsNode'] });
    expect(uiJson(await runPrompt(t.url, { '1': { class_type: 'CjsNode', inputs: {} } }), '1')).toEqual({ cjs: true });
  });
});

describe('input protection', () => {
  it('is what keeps cached values intact: with protectInputs off, the mutation leaks into the cached image', async () => {
    const open = await startPluginServer({ packs: { 'good-pack': GOOD_PACK }, plugins: { protectInputs: false } });
    try {
      const run = await runPrompt(open.url, {
        '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0xffffff } },
        '2': { class_type: 'MutateInPlace', inputs: { image: ['1', 0] } },
        '3': { class_type: 'ImageMean', inputs: { image: ['1', 0], after: ['2', 0] } },
      });
      expect(uiJson(run, '3')).toEqual({ mean: 0.25 });
    } finally {
      await open.close();
    }
  });
});

describe('the server-wide NaN policy', () => {
  it('warn lets a NaN output through with a log line naming pack, node and element', async () => {
    const s = await startPluginServer({ packs: { misbehaving: MISBEHAVING_PACK }, plugins: { nanPolicy: 'warn' } });
    try {
      const run = await runPrompt(s.url, { '1': { class_type: 'ReturnsNaN', inputs: { x: 0 } } });
      expect(run.types).toContain('execution_success');
      expect(s.logText()).toContain('[custom_nodes.misbehaving] ReturnsNaN: output 0 (LATENT) holds a non-finite value: samples element 1 of float32 [1, 1, 1, 2]');
    } finally {
      await s.close();
    }
  });
});

describe('choosing packs', () => {
  it('--disable-all-custom-nodes loads only whitelisted packs; .disabled packs never load', async () => {
    const s = await startPluginServer({
      packs: { 'good-pack': GOOD_PACK, 'web pack': WEB_PACK, 'other.disabled': GOOD_PACK },
      config: { disableAllCustomNodes: true, whitelistCustomNodes: ['web pack'] },
    });
    try {
      expect(s.server.plugins.packs.map((p) => p.name)).toEqual(['web pack']);
      expect(s.logText()).toContain('Skipping good-pack due to disable_all_custom_nodes and whitelist_custom_nodes');
      expect((await request(s.url).get('/object_info/Echo')).body).toEqual({});
    } finally {
      await s.close();
    }
  });

  it('loads packs from custom_nodes roots of extra_model_paths.yaml too', async () => {
    const extra = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-extra-nodes-'));
    fs.mkdirSync(path.join(extra, 'nodes', 'good-pack'), { recursive: true });
    fs.writeFileSync(path.join(extra, 'nodes', 'good-pack', 'package.json'), JSON.stringify({ type: 'module', exports: { '.': { import: './index.js' } } }));
    fs.writeFileSync(path.join(extra, 'nodes', 'good-pack', 'index.js'), GOOD_PACK['index.js']!);
    const yaml = path.join(extra, 'extra_model_paths.yaml');
    fs.writeFileSync(yaml, 'mine:\n  base_path: .\n  custom_nodes: nodes/\n');
    const s = await startPluginServer({ config: { extraModelPathsConfigs: [yaml] } });
    try {
      expect(s.server.plugins.packs).toMatchObject([{ name: 'good-pack', ok: true, path: path.join(extra, 'nodes', 'good-pack') }]);
      expect(uiJson(await runPrompt(s.url, { '1': { class_type: 'Echo', inputs: { text: 'extra' } } }), '1')).toEqual({ echoed: 'extra' });
    } finally {
      await s.close();
      fs.rmSync(extra, { recursive: true, force: true });
    }
  });
});
