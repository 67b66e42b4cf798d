import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../engine/safetensors.js';
import { tensor } from '../../engine/tensor.js';
import type { Latent } from '../../nodes/latent/latent.js';
import { LoadLatent, SaveLatent } from '../../nodes/latent/save-load-latent.js';
import { resolveInputTypes } from '../../nodes/node-api.js';
import { makeTestContext } from '../helpers/context.js';
import { makeTestEnv } from '../helpers/env.js';

/** The safetensors header, parsed here by hand (8-byte little-endian length, then JSON). */
function header(file: string): Record<string, unknown> {
  const buf = fs.readFileSync(file);
  const len = Number(buf.readBigUInt64LE(0));
  return JSON.parse(buf.toString('utf8', 8, 8 + len));
}

function samples(): Latent {
  const data = Float32Array.from({ length: 2 * 16 * 2 * 3 }, (_, i) => i / 10 - 3);
  return { samples: tensor('float32', [2, 16, 2, 3], data) };
}

describe('SaveLatent / LoadLatent', () => {
  it('writes latent_tensor, the format marker and prompt/workflow metadata; loads it back', async () => {
    const env = makeTestEnv();
    const prompt = { '5': { class_type: 'SaveLatent', inputs: {} } };
    const input = samples();
    const out = (await SaveLatent.execute({ samples: input, filename_prefix: 'latents/run', prompt, extra_pnginfo: { workflow: { nodes: [] } } }, makeTestContext(env))) as {
      ui: { latents: { filename: string; subfolder: string; type: string }[] };
      result: unknown[];
    };
    expect(out.ui.latents).toEqual([{ filename: 'run_00001_.latent', subfolder: 'latents', type: 'output' }]);
    expect(out.result).toEqual([input]);
    const file = path.join(env.folders.outputDir, 'latents', 'run_00001_.latent');
    const h = header(file);
    expect(h.__metadata__).toEqual({ prompt: '{"5": {"class_type": "SaveLatent", "inputs": {}}}', workflow: '{"nodes": []}' });
    expect(h.latent_tensor).toMatchObject({ dtype: 'F32', shape: [2, 16, 2, 3] });
    expect(h.latent_format_version_0).toMatchObject({ dtype: 'F32', shape: [0] });

    fs.copyFileSync(file, path.join(env.folders.inputDir, 'run.latent'));
    expect(resolveInputTypes(LoadLatent, env).required!.latent).toEqual([['run.latent']]);
    const [loaded] = (await LoadLatent.execute({ latent: 'run.latent' }, makeTestContext(env))) as Latent[];
    expect(loaded!.samples.shape).toEqual([2, 16, 2, 3]);
    expect([...loaded!.samples.data]).toEqual([...input.samples.data]);
    expect(LoadLatent.isChanged!({ latent: 'run.latent' }, env)).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
  });

  it('continues counters and omits metadata when disabled', async () => {
    const env = makeTestEnv({ disableMetadata: true });
    await SaveLatent.execute({ samples: samples() }, makeTestContext(env));
    const again = (await SaveLatent.execute({ samples: samples() }, makeTestContext(env))) as { ui: { latents: { filename: string }[] } };
    expect(again.ui.latents[0]!.filename).toBe('ComfyUI_00002_.latent');
    expect(header(path.join(env.folders.outputDir, 'ComfyUI_00002_.latent')).__metadata__).toBeUndefined();
  });

  it('rescales old-format files (no marker) by 1 / 0.18215', async () => {
    const env = makeTestEnv();
    writeSafetensors(path.join(env.folders.inputDir, 'old.latent'), { latent_tensor: tensor('float32', [1, 4, 1, 1], Float32Array.from([0.18215, 1, -2, 0])) });
    const [loaded] = (await LoadLatent.execute({ latent: 'old.latent' }, makeTestContext(env))) as Latent[];
    expect(loaded!.samples.data[0]).toBeCloseTo(1, 6);
    expect(loaded!.samples.data[1]).toBeCloseTo(1 / 0.18215, 5);
    expect(loaded!.samples.data[2]).toBeCloseTo(-2 / 0.18215, 5);
  });

  it('validates names and explains files that are not latents', async () => {
    const env = makeTestEnv();
    writeSafetensors(path.join(env.folders.inputDir, 'weights.latent'), { other: tensor('float32', [1], Float32Array.from([1])) });
    const validate = LoadLatent.validateInputs!;
    expect(await validate.fn({ latent: 'weights.latent' }, undefined, env)).toBe(true);
    expect(await validate.fn({ latent: 'nope.latent' }, undefined, env)).toBe('Invalid latent file: nope.latent');
    await expect(async () => LoadLatent.execute({ latent: 'weights.latent' }, makeTestContext(env))).rejects.toThrow(/no 'latent_tensor'/);
  });
});
