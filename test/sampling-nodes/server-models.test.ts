/**
 * The sampling nodes in a real server on port 0: /object_info lists them with ComfyUI's inputs,
 * /system_stats reports the loaded model parts, /free {unload_models} unloads them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTED_SAMPLER_NAMES } from '../../nodes/sampling/ksampler-nodes.js';
import os from 'node:os';
import { createBuiltinRegistry } from '../../nodes/builtins.js';
import { createConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { tinyCheckpointBytes, variant } from '../engine/helpers/tiny-mmdit.js';
import { goldenConditioningNode, ksamplerManifest, ksamplerPrompt, TINY_UNET } from './helpers.js';

let server: RunningServer & { base: string };

beforeAll(async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-sampling-server-'));
  const registry = createBuiltinRegistry();
  registry.registerAll([goldenConditioningNode()]);
  const config = createConfig({ listen: ['127.0.0.1'], port: 0, baseDirectory: base, frontEndRoot: path.join(base, 'web') });
  server = Object.assign(await startServer(config, { registry, log: createLogger({ silent: true, level: 'DEBUG' }), plugins: false }), { base });
  const dir = path.join(base, 'models', 'diffusion_models');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, TINY_UNET), tinyCheckpointBytes(variant(ksamplerManifest.variant)).bytes);
});
afterAll(async () => {
  await server.close();
  fs.rmSync(server.base, { recursive: true, force: true });
});

const getJson = async (p: string) => (await fetch(server.url + p)).json() as Promise<Record<string, any>>;

async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sampling nodes in the server', () => {
  it('/object_info describes KSampler, UNETLoader and ModelSamplingSD3 as ComfyUI does', async () => {
    const info = await getJson('/object_info');
    const ks = info['KSampler'];
    expect(ks.category).toBe('sampling');
    expect(ks.input.required.sampler_name[0]).toEqual(IMPLEMENTED_SAMPLER_NAMES);
    expect(ks.input.required.scheduler[0]).toEqual(['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal']);
    expect(ks.input.required.cfg[1]).toMatchObject({ default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01 });
    expect(ks.input.required.seed[1]).toMatchObject({ default: 0, min: 0, control_after_generate: true });
    expect(info['UNETLoader'].input.required.unet_name[0]).toEqual([TINY_UNET]);
    expect(info['UNETLoader'].input.required.weight_dtype[0]).toEqual(['default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2']);
    expect(info['UNETLoader'].display_name).toBe('Load Diffusion Model');
    expect(info['ModelSamplingSD3'].input.required.shift[1]).toMatchObject({ default: 3.0, min: 0.0, max: 100.0, step: 0.01 });
    expect(info['SamplerCustomAdvanced'].output_name).toEqual(['output', 'denoised_output']);
    expect(info['SplitSigmas'].output_name).toEqual(['high_sigmas', 'low_sigmas']);
  });

  it('/system_stats reports a loaded MMDiT and /free {unload_models} unloads it', async () => {
    const prompt = ksamplerPrompt({ ...ksamplerManifest.runs[0]!, steps: 1 });
    const res = await fetch(server.url + '/prompt', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt }) });
    expect(res.status, await res.clone().text()).toBe(200);
    const loaded = await waitFor(async () => {
      const stats = await getJson('/system_stats');
      return stats['comfy8_models']?.parts.length === 1 ? stats['comfy8_models'] : undefined;
    });
    expect(loaded.parts[0].label).toContain('(fp8)');
    expect(loaded.resident_bytes).toBeGreaterThan(0);
    await fetch(server.url + '/free', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ unload_models: true }) });
    await waitFor(async () => ((await getJson('/system_stats'))['comfy8_models']?.parts.length === 0 ? true : undefined));
  });
});
