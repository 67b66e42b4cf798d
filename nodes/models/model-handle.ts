/**
 * MODEL values: what UNETLoader returns and ModelSamplingSD3 & co. pass on (ComfyUI's
 * ModelPatcher). A handle names the model part to load (the manager loads and shares it), the
 * model sampling (shift/multiplier) and the patches. Handles are frozen: a node that patches a
 * model returns a copy (`withModelSampling`), like ComfyUI's `model.clone()` + add_object_patch.
 */
import type { MmditConfig } from '../../engine/arch/mmdit-config.js';
import { createFlowModelSampling, type FlowModelSampling } from '../../engine/sampling/model-sampling.js';
import { SD3_LATENT_FORMAT, type LatentFormat } from '../../engine/sampling/sampling-loop.js';
import type { Tensor } from '../../engine/tensor.js';
import type { ModelPartSpec } from '../node-api.js';

/** The loaded diffusion model: ComfyUI's CONST denoiser over an MMDiT (engine/models/mmdit-runner.ts). */
export interface FlowDenoiser {
  readonly config: MmditConfig;
  readonly precision: string;
  denoise(x: Tensor<'float32'>, sigma: Float32Array, context: Tensor<'float32'>, pooled: Tensor<'float32'>): Promise<Tensor<'float32'>>;
}

/** A model patch (LoRA, attention override, …): carried along for the nodes that add them. */
export interface ModelPatch {
  readonly kind: string;
  readonly [key: string]: unknown;
}

export interface ModelHandle {
  readonly kind: 'mmdit';
  readonly part: ModelPartSpec<FlowDenoiser>;
  /** The weight precision the part loads with ('fp8' | 'fp32'). */
  readonly precision: string;
  readonly modelSampling: FlowModelSampling;
  readonly latentFormat: LatentFormat;
  /** Latent channels the model takes (SD3: 16); empty latents are widened to it. */
  readonly latentChannels: number;
  readonly patches: readonly ModelPatch[];
}

/** SD3's default sampling: ModelSamplingDiscreteFlow with shift 3 (ComfyUI's SD3 model config). */
export const SD3_DEFAULT_SHIFT = 3.0;

export function createModelHandle(part: ModelPartSpec<FlowDenoiser>, precision: string): ModelHandle {
  return Object.freeze({
    kind: 'mmdit' as const,
    part,
    precision,
    modelSampling: createFlowModelSampling(SD3_DEFAULT_SHIFT),
    latentFormat: SD3_LATENT_FORMAT,
    latentChannels: 16,
    patches: Object.freeze([]),
  });
}

/** A copy with new model sampling (ModelSamplingSD3); the input handle is unchanged. */
export function withModelSampling(model: ModelHandle, shift: number, multiplier = 1000): ModelHandle {
  return Object.freeze({ ...model, modelSampling: createFlowModelSampling(shift, multiplier) });
}

/** A copy with one more patch. */
export function withPatch(model: ModelHandle, patch: ModelPatch): ModelHandle {
  return Object.freeze({ ...model, patches: Object.freeze([...model.patches, patch]) });
}

export function isModelHandle(value: unknown): value is ModelHandle {
  return typeof value === 'object' && value !== null && (value as ModelHandle).kind === 'mmdit' && 'part' in value;
}

/** Throws a clear error for anything that is not a MODEL from this engine. */
export function requireModel(value: unknown, input = 'model'): ModelHandle {
  if (!isModelHandle(value)) throw new Error(`input '${input}' is not a MODEL loaded by this server (UNETLoader)`);
  return value;
}
