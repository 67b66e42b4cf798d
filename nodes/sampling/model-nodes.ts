/**
 * UNETLoader ("Load Diffusion Model") and ModelSamplingSD3.
 *
 * weight_dtype → the engine's MMDiT precision (engine/models/mmdit-weights.ts):
 *   default          → the server's policy: FP8 block weights unless `--force-fp32` / `--fp32-unet`
 *                      (or `--fp16-unet` / `--bf16-unet`, which have no 16-bit store here) choose
 *                      float32 (server/precision-flags.ts).
 *   fp8_e4m3fn       → 'fp8': block Linears stored as FP8 e4m3fn (scaled FP8 files keep their own
 *                      scales; high-precision files are quantised per tensor), the rest float32.
 *   fp8_e4m3fn_fast  → 'fp8' too: ComfyUI's FP8×FP8 matmul needs a GPU with FP8 units; on
 *                      onnxruntime's CPU provider the FP8 weights are dequantised per layer either way.
 *   fp8_e5m2         → 'fp8' (e4m3fn): the engine stores FP8 weights only as e4m3fn, which keeps
 *                      one more mantissa bit; logged once.
 * As in ComfyUI, an explicit node choice wins over the command-line flags.
 */
import type { MmditPrecision } from '../../engine/models/mmdit-weights.js';
import { createModelHandle, requireModel, withModelSampling, type ModelHandle } from '../models/model-handle.js';
import { modelStoreOf } from '../models/model-manager.js';
import { mmditPart } from '../models/mmdit-part.js';
import { defineNode, type NodeEnvironment } from '../node-api.js';

export const WEIGHT_DTYPES = ['default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2'] as const;

let e5m2Noted = false;

export function mmditPrecisionFor(weightDtype: string, env: NodeEnvironment): MmditPrecision {
  switch (weightDtype) {
    case 'default':
      return modelStoreOf(env).precision.unet;
    case 'fp8_e5m2':
      if (!e5m2Noted) env.log.info('UNETLoader: fp8_e5m2 weights are stored as fp8_e4m3fn here (the engine’s FP8 format)');
      e5m2Noted = true;
      return 'fp8';
    case 'fp8_e4m3fn':
    case 'fp8_e4m3fn_fast':
      return 'fp8';
    default:
      throw new Error(`UNETLoader: weight_dtype '${weightDtype}'; valid: ${WEIGHT_DTYPES.join(', ')}`);
  }
}

export const UNETLoader = defineNode<{ unet_name: string; weight_dtype: string }>({
  name: 'UNETLoader',
  displayName: 'Load Diffusion Model',
  category: 'advanced/loaders',
  pythonModule: 'nodes',
  inputTypes: (env) => ({
    required: {
      unet_name: [env.folders.listFiles('diffusion_models')],
      weight_dtype: [WEIGHT_DTYPES],
    },
  }),
  returnTypes: ['MODEL'],
  async execute({ unet_name, weight_dtype }, ctx) {
    const file = ctx.env.folders.resolve('diffusion_models', unet_name);
    if (!file) throw new Error(`UNETLoader: '${unet_name}' is not in the diffusion_models folders; have: ${ctx.env.folders.listFiles('diffusion_models').join(', ') || '(none)'}`);
    const precision = mmditPrecisionFor(weight_dtype, ctx.env);
    const part = mmditPart([file], precision);
    // Load now (as ComfyUI does), so a broken file fails here and not in the sampler.
    const lease = await modelStoreOf(ctx.env).acquire(part);
    lease.release();
    return [createModelHandle(part, precision)];
  },
});

export const ModelSamplingSD3 = defineNode<{ model: ModelHandle; shift: number }>({
  name: 'ModelSamplingSD3',
  category: 'advanced/model',
  pythonModule: 'comfy_extras.nodes_model_advanced',
  inputTypes: {
    required: {
      model: ['MODEL'],
      shift: ['FLOAT', { default: 3.0, min: 0.0, max: 100.0, step: 0.01 }],
    },
  },
  returnTypes: ['MODEL'],
  execute({ model, shift }) {
    return [withModelSampling(requireModel(model), shift)];
  },
});
