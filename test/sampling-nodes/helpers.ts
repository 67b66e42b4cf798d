/**
 * Shared set-up for the sampling-node tests: a temp base dir with the tiny SD3.5-Medium-layout
 * MMDiT (test/engine/helpers/tiny-mmdit.ts) in models/diffusion_models/, the KSampler goldens of
 * tools/gen-ksampler-golden.py, and a registry with the built-in nodes plus a conditioning node
 * that serves the golden's conditioning tensors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiPrompt } from '../../compat/api-types.js';
import { openSafetensors } from '../../engine/safetensors.js';
import type { Tensor } from '../../engine/tensor.js';
import { createBuiltinRegistry } from '../../nodes/builtins.js';
import { ModelManager } from '../../nodes/models/model-manager.js';
import { defineNode, type ModelPrecisionPolicy, type NodeEnvironment } from '../../nodes/node-api.js';
import type { NodeRegistry } from '../../nodes/registry.js';
import { tinyCheckpointBytes, variant } from '../engine/helpers/tiny-mmdit.js';
import { makeTestEnv } from '../helpers/env.js';
export { relL2 } from '../helpers/rel-l2.js';

export const KSAMPLER_GOLDEN_DIR = fileURLToPath(new URL('../golden/ksampler/', import.meta.url));

export interface GoldenRun {
  name: string;
  sampler: string;
  scheduler: string;
  steps: number;
  cfg: number;
  shift: number;
  seed: number;
}

export interface KSamplerManifest {
  variant: string;
  latent_shape: number[];
  runs: GoldenRun[];
  golden: string;
}

export const ksamplerManifest = JSON.parse(fs.readFileSync(KSAMPLER_GOLDEN_DIR + 'manifest.json', 'utf8')) as KSamplerManifest;

export function readKSamplerGolden(): Map<string, Tensor<'float32'>> {
  const file = openSafetensors(KSAMPLER_GOLDEN_DIR + ksamplerManifest.golden);
  try {
    return new Map(file.keys().map((k) => [k, file.readFloat32(k)]));
  } finally {
    file.close();
  }
}

export const TINY_UNET = 'tiny-sd35m.safetensors';

export interface SamplingTestEnv {
  env: NodeEnvironment;
  models: ModelManager;
  registry: NodeRegistry;
}

/** A fresh env whose diffusion_models folder holds the tiny checkpoint, with its own model manager. */
export function makeSamplingEnv(opts: { precision?: ModelPrecisionPolicy; previewMethod?: string; budgetBytes?: number } = {}): SamplingTestEnv {
  const models = new ModelManager({ precision: opts.precision, budgetBytes: opts.budgetBytes });
  const env = makeTestEnv({ previewMethod: opts.previewMethod ?? 'none', models });
  const dir = env.folders.searchRoots('diffusion_models')![0]!;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, TINY_UNET), tinyCheckpointBytes(variant(ksamplerManifest.variant)).bytes);
  const registry = createBuiltinRegistry();
  registry.registerAll([goldenConditioningNode()]);
  return { env, models, registry };
}

/** `TestGoldenConditioning{which: positive|negative}`: the golden's conditioning as CONDITIONING. */
export function goldenConditioningNode() {
  const golden = readKSamplerGolden();
  return defineNode<{ which: string }>({
    name: 'TestGoldenConditioning',
    category: 'testing',
    inputTypes: { required: { which: [['positive', 'negative']] } },
    returnTypes: ['CONDITIONING'],
    execute: ({ which }) => [[[golden.get(`${which}.context`)!, { pooled_output: golden.get(`${which}.pooled`)! }]]],
  });
}

/** UNETLoader → ModelSamplingSD3 → KSampler → SaveLatent for one golden run. */
export function ksamplerPrompt(run: GoldenRun, weightDtype = 'default', prefix = 'latents/ks'): ApiPrompt {
  const [, , h, w] = ksamplerManifest.latent_shape;
  return {
    '1': { class_type: 'UNETLoader', inputs: { unet_name: TINY_UNET, weight_dtype: weightDtype } },
    '2': { class_type: 'ModelSamplingSD3', inputs: { model: ['1', 0], shift: run.shift } },
    '3': { class_type: 'TestGoldenConditioning', inputs: { which: 'positive' } },
    '4': { class_type: 'TestGoldenConditioning', inputs: { which: 'negative' } },
    '5': { class_type: 'EmptySD3LatentImage', inputs: { width: w! * 8, height: h! * 8, batch_size: 1 } },
    '6': {
      class_type: 'KSampler',
      inputs: {
        model: ['2', 0], seed: run.seed, steps: run.steps, cfg: run.cfg, sampler_name: run.sampler, scheduler: run.scheduler,
        positive: ['3', 0], negative: ['4', 0], latent_image: ['5', 0], denoise: 1.0,
      },
    },
    '7': { class_type: 'SaveLatent', inputs: { samples: ['6', 0], filename_prefix: prefix } },
  };
}
