/**
 * The custom-sampling family through the executor on the tiny MMDiT: SamplerCustomAdvanced with
 * RandomNoise + CFGGuider + KSamplerSelect + BasicScheduler reproduces KSampler's torch reference;
 * SplitSigmas + DisableNoise chain two half runs into the same result; SamplerCustom and BasicGuider
 * run; a 4-channel EmptyLatentImage is widened to SD3's 16 channels.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiPrompt } from '../../compat/api-types.js';
import { createInterruptFlag, PromptExecutor } from '../../executor/index.js';
import { readLatentFile } from '../../nodes/latent/save-load-latent.js';
import { RecordingSink } from '../executor/stub-nodes.js';
import { ksamplerManifest, makeSamplingEnv, readKSamplerGolden, relL2, TINY_UNET, type SamplingTestEnv } from './helpers.js';

const golden = readKSamplerGolden();
const run = ksamplerManifest.runs.find((r) => r.sampler === 'euler')!;
const FP32 = { unet: 'fp32', textEncoder: 'auto', vae: 'fp32' } as const;

function base(latentNode: 'EmptySD3LatentImage' | 'EmptyLatentImage' = 'EmptySD3LatentImage'): ApiPrompt {
  const [, , h, w] = ksamplerManifest.latent_shape;
  return {
    '1': { class_type: 'UNETLoader', inputs: { unet_name: TINY_UNET, weight_dtype: 'default' } },
    '2': { class_type: 'ModelSamplingSD3', inputs: { model: ['1', 0], shift: run.shift } },
    '3': { class_type: 'TestGoldenConditioning', inputs: { which: 'positive' } },
    '4': { class_type: 'TestGoldenConditioning', inputs: { which: 'negative' } },
    '5': { class_type: latentNode, inputs: { width: w! * 8, height: h! * 8, batch_size: 1 } },
    '20': { class_type: 'RandomNoise', inputs: { noise_seed: run.seed } },
    '21': { class_type: 'CFGGuider', inputs: { model: ['2', 0], positive: ['3', 0], negative: ['4', 0], cfg: run.cfg } },
    '22': { class_type: 'KSamplerSelect', inputs: { sampler_name: run.sampler } },
    '23': { class_type: 'BasicScheduler', inputs: { model: ['2', 0], scheduler: run.scheduler, steps: run.steps, denoise: 1.0 } },
  };
}

async function execute(t: SamplingTestEnv, prompt: ApiPrompt, outputs: string[]) {
  const executor = new PromptExecutor({ nodes: t.registry, env: t.env, cache: { kind: 'none' }, events: new RecordingSink() });
  const result = await executor.execute({ number: 1, promptId: 'p', prompt, extraData: {}, outputsToExecute: outputs }, createInterruptFlag());
  expect(result.status.status_str, JSON.stringify(result.status.messages)).toBe('success');
}

function saved(t: SamplingTestEnv, prefix: string): Float32Array {
  const dir = path.join(t.env.folders.outputDir, 'latents');
  const file = fs.readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.latent'))!;
  return readLatentFile(path.join(dir, file)).samples.data;
}

describe('custom sampling nodes', () => {
  it('SamplerCustomAdvanced = KSampler (torch reference, rel-L2 ≤ 2e-5), with a 4-channel empty latent widened', async () => {
    const t = makeSamplingEnv({ precision: FP32 });
    const prompt = base('EmptyLatentImage');
    prompt['24'] = { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['20', 0], guider: ['21', 0], sampler: ['22', 0], sigmas: ['23', 0], latent_image: ['5', 0] } };
    prompt['30'] = { class_type: 'SaveLatent', inputs: { samples: ['24', 0], filename_prefix: 'latents/out' } };
    prompt['31'] = { class_type: 'SaveLatent', inputs: { samples: ['24', 1], filename_prefix: 'latents/denoised' } };
    await execute(t, prompt, ['30', '31']);
    expect(relL2(saved(t, 'out'), golden.get('euler/samples')!.data)).toBeLessThanOrEqual(2e-5);
    // denoised_output: the last step's x0 (process_out applied); the last euler step ends at σ = 0, so x0 = output.
    expect(relL2(saved(t, 'denoised'), saved(t, 'out'))).toBeLessThanOrEqual(1e-6);
  });

  it('SplitSigmas + DisableNoise: two chained half runs give the single run', async () => {
    const t = makeSamplingEnv({ precision: FP32 });
    const prompt = base();
    prompt['25'] = { class_type: 'SplitSigmas', inputs: { sigmas: ['23', 0], step: 2 } };
    prompt['26'] = { class_type: 'DisableNoise', inputs: {} };
    prompt['27'] = { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['20', 0], guider: ['21', 0], sampler: ['22', 0], sigmas: ['25', 0], latent_image: ['5', 0] } };
    prompt['28'] = { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['26', 0], guider: ['21', 0], sampler: ['22', 0], sigmas: ['25', 1], latent_image: ['27', 0] } };
    prompt['30'] = { class_type: 'SaveLatent', inputs: { samples: ['28', 0], filename_prefix: 'latents/out' } };
    await execute(t, prompt, ['30']);
    expect(relL2(saved(t, 'out'), golden.get('euler/samples')!.data)).toBeLessThanOrEqual(1e-5);
  });

  it('SamplerCustom with the same settings matches too; BasicGuider runs (cfg 1, positive only)', async () => {
    const t = makeSamplingEnv({ precision: FP32 });
    const prompt = base();
    prompt['24'] = {
      class_type: 'SamplerCustom',
      inputs: { model: ['2', 0], add_noise: true, noise_seed: run.seed, cfg: run.cfg, positive: ['3', 0], negative: ['4', 0], sampler: ['22', 0], sigmas: ['23', 0], latent_image: ['5', 0] },
    };
    prompt['29'] = { class_type: 'BasicGuider', inputs: { model: ['2', 0], conditioning: ['3', 0] } };
    prompt['32'] = { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['20', 0], guider: ['29', 0], sampler: ['22', 0], sigmas: ['23', 0], latent_image: ['5', 0] } };
    prompt['30'] = { class_type: 'SaveLatent', inputs: { samples: ['24', 0], filename_prefix: 'latents/custom' } };
    prompt['33'] = { class_type: 'SaveLatent', inputs: { samples: ['32', 0], filename_prefix: 'latents/basic' } };
    await execute(t, prompt, ['30', '33']);
    expect(relL2(saved(t, 'custom'), golden.get('euler/samples')!.data)).toBeLessThanOrEqual(2e-5);
    const basic = saved(t, 'basic');
    expect(basic.every(Number.isFinite)).toBe(true);
    expect(relL2(basic, golden.get('euler/samples')!.data)).toBeGreaterThan(1e-3); // no negative, no CFG: another image
  });
});
