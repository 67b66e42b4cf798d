/**
 * Broken model files through a real server: a truncated checkpoint, one of another architecture
 * and one with a missing tensor each fail their loader node with an `execution_error` naming the
 * problem, and the server keeps serving (the demo workflow still runs afterwards).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { DEMO_CHECKPOINT_NAME, DEMO_SPEC } from '../../nodes/loaders/demo-checkpoint.js';
import { clipShapes, sd3CheckpointShapes, vaeShapes, writeSyntheticFile } from '../../nodes/loaders/synthetic-sd3.js';
import { startTestServer, type TestServer } from '../server/helpers.js';
import { readFixture, runPrompt } from './helpers.js';

let t: TestServer;
let checkpoints: string;
beforeAll(async () => {
  t = await startTestServer();
  checkpoints = path.join(t.base, 'models', 'checkpoints');
  const demo = fs.readFileSync(path.join(checkpoints, DEMO_CHECKPOINT_NAME));
  fs.writeFileSync(path.join(checkpoints, 'truncated.safetensors'), demo.subarray(0, Math.floor(demo.length / 2)));
  // An SD1.5-style checkpoint: UNet input blocks and a 4-channel VAE, no MMDiT.
  const sd15 = new Map<string, number[]>([
    ['model.diffusion_model.input_blocks.0.0.weight', [32, 4, 3, 3]],
    ['model.diffusion_model.input_blocks.0.0.bias', [32]],
  ]);
  writeSyntheticFile(path.join(checkpoints, 'sd15_style.safetensors'), sd15, { seedTag: 'sd15' });
  const missing = sd3CheckpointShapes(DEMO_SPEC);
  missing.delete('text_encoders.clip_g.transformer.text_model.encoder.layers.1.mlp.fc2.weight');
  writeSyntheticFile(path.join(checkpoints, 'missing_key.safetensors'), missing, { seedTag: 'missing' });
  const textEncoders = path.join(t.base, 'models', 'text_encoders');
  fs.mkdirSync(textEncoders, { recursive: true });
  const clip = clipShapes(DEMO_SPEC.clipL!);
  clip.set('text_model.encoder.layers.0.self_attn.q_proj.weight', [16, 8]);
  writeSyntheticFile(path.join(textEncoders, 'misshapen_clip.safetensors'), clip, { seedTag: 'bad' });
  const vaeDir = path.join(t.base, 'models', 'vae');
  fs.mkdirSync(vaeDir, { recursive: true });
  writeSyntheticFile(path.join(vaeDir, 'not_a_vae.safetensors'), clipShapes(DEMO_SPEC.clipL!), { seedTag: 'nv' });
  writeSyntheticFile(path.join(vaeDir, 'vae_missing.safetensors'), new Map([...vaeShapes(DEMO_SPEC.vae!)].filter(([k]) => !k.startsWith('decoder.mid.attn_1.q'))), { seedTag: 'vm' });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

async function expectLoaderError(prompt: Record<string, unknown>, nodeType: string, message: RegExp): Promise<void> {
  const run = await runPrompt(t.url, { prompt });
  const error = run.messages.find((m) => m.type === 'execution_error');
  expect(error, JSON.stringify(run.messages.map((m) => m.type))).toBeDefined();
  expect(error!.data['node_type']).toBe(nodeType);
  expect(String(error!.data['exception_message'])).toMatch(message);
  expect(run.history.status.status_str).toBe('error');
}

const checkpointPrompt = (name: string) => ({
  '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: name } },
  '2': { class_type: 'CLIPTextEncode', inputs: { text: 'x', clip: ['1', 1] } },
  '3': { class_type: 'VAEDecode', inputs: { samples: ['4', 0], vae: ['1', 2] } },
  '4': { class_type: 'EmptySD3LatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
  '5': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
  '6': { class_type: 'ConditioningZeroOut', inputs: { conditioning: ['2', 0] } },
});

describe('broken model files', () => {
  it('a truncated checkpoint fails CheckpointLoaderSimple', async () => {
    await expectLoaderError(checkpointPrompt('truncated.safetensors'), 'CheckpointLoaderSimple', /CheckpointLoaderSimple: cannot load 'truncated\.safetensors'.*(truncated|size|bytes|end)/is);
  });

  it('a checkpoint of another architecture names what is missing', async () => {
    await expectLoaderError(checkpointPrompt('sd15_style.safetensors'), 'CheckpointLoaderSimple', /no SD3\/SD3\.5 diffusion model/);
  });

  it('a checkpoint with a missing tensor names the tensor', async () => {
    await expectLoaderError(checkpointPrompt('missing_key.safetensors'), 'CheckpointLoaderSimple', /missing tensor 'text_encoders\.clip_g\.transformer\.text_model\.encoder\.layers\.1\.mlp\.fc2\.weight'/);
  });

  it('a mis-shaped CLIP file fails CLIPLoader; a non-VAE and an incomplete VAE fail VAELoader', async () => {
    const clipPrompt = {
      '1': { class_type: 'CLIPLoader', inputs: { clip_name: 'misshapen_clip.safetensors', type: 'sd3' } },
      '2': { class_type: 'CLIPTextEncode', inputs: { text: 'x', clip: ['1', 0] } },
      '3': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: DEMO_CHECKPOINT_NAME } },
      '4': { class_type: 'EmptySD3LatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '5': {
        class_type: 'KSampler',
        inputs: { model: ['3', 0], seed: 1, steps: 1, cfg: 1, sampler_name: 'euler', scheduler: 'simple', positive: ['2', 0], negative: ['2', 0], latent_image: ['4', 0], denoise: 1 },
      },
      '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['3', 2] } },
      '7': { class_type: 'PreviewImage', inputs: { images: ['6', 0] } },
    };
    await expectLoaderError(clipPrompt, 'CLIPLoader', /q_proj\.weight' has shape \[16, 8\], expected \[16, 16\]/);
    const vaePrompt = (name: string) => ({
      '1': { class_type: 'VAELoader', inputs: { vae_name: name } },
      '2': { class_type: 'EmptySD3LatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '3': { class_type: 'VAEDecode', inputs: { samples: ['2', 0], vae: ['1', 0] } },
      '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
    });
    await expectLoaderError(vaePrompt('not_a_vae.safetensors'), 'VAELoader', /no VAE in it/);
    await expectLoaderError(vaePrompt('vae_missing.safetensors'), 'VAELoader', /missing tensor 'decoder\.mid\.attn_1\.q\.weight'/);
  });

  it('the server keeps serving: the demo workflow still runs', async () => {
    expect((await request(t.url).get('/system_stats')).status).toBe(200);
    const run = await runPrompt(t.url, { prompt: readFixture('sd3.5_simple_example.demo.api.json') });
    expect(run.history.status.status_str).toBe('success');
  }, 300_000);
});
