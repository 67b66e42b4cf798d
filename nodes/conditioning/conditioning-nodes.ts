/**
 * Text encoding and conditioning list nodes (ComfyUI nodes.py, comfy_extras/nodes_sd3.py).
 * CONDITIONING = a list of `[cond float32 [B, T, D], {pooled_output, start_percent, …}]`
 * (nodes/sampling/conditioning.ts); nodes return new lists and never change their inputs.
 */
import { tensor, type Tensor } from '../../engine/tensor.js';
import { defineNode } from '../node-api.js';
import type { Conditioning, ConditioningEntry, ConditioningOptions } from '../sampling/conditioning.js';
import { encodeSd3Text, requireClip } from './clip-handle.js';

const TEXT = ['STRING', { multiline: true, dynamicPrompts: true }] as const;

export const CLIPTextEncode = defineNode<{ text: string; clip: unknown }>({
  name: 'CLIPTextEncode',
  displayName: 'CLIP Text Encode (Prompt)',
  description: 'Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.',
  category: 'conditioning',
  pythonModule: 'nodes',
  inputTypes: {
    required: {
      text: ['STRING', { multiline: true, dynamicPrompts: true, tooltip: 'The text to be encoded.' }],
      clip: ['CLIP', { tooltip: 'The CLIP model used for encoding the text.' }],
    },
  },
  returnTypes: ['CONDITIONING'],
  outputTooltips: ['A conditioning containing the embedded text used to guide the diffusion model.'],
  async execute({ text, clip }, ctx) {
    const handle = requireClip(clip);
    return [await encodeSd3Text(handle, { clipL: text, clipG: text, t5xxl: text }, 'empty_prompt', ctx.env)];
  },
});

export const CLIPTextEncodeSD3 = defineNode<{ clip: unknown; clip_l: string; clip_g: string; t5xxl: string; empty_padding: 'none' | 'empty_prompt' }>({
  name: 'CLIPTextEncodeSD3',
  category: 'advanced/conditioning',
  pythonModule: 'comfy_extras.nodes_sd3',
  inputTypes: {
    required: {
      clip: ['CLIP'],
      clip_l: TEXT,
      clip_g: TEXT,
      t5xxl: TEXT,
      empty_padding: [['none', 'empty_prompt']],
    },
  },
  returnTypes: ['CONDITIONING'],
  async execute({ clip, clip_l, clip_g, t5xxl, empty_padding }, ctx) {
    const padding = empty_padding === 'empty_prompt' ? 'empty_prompt' : 'none';
    return [await encodeSd3Text(requireClip(clip), { clipL: clip_l, clipG: clip_g, t5xxl }, padding, ctx.env)];
  },
});

function requireConditioning(value: unknown, input: string): Conditioning {
  if (!Array.isArray(value)) throw new Error(`input '${input}' is not a CONDITIONING list`);
  value.forEach((entry, i) => {
    if (!Array.isArray(entry) || entry.length < 2 || (entry[0] as Tensor)?.dtype !== 'float32') throw new Error(`${input}[${i}] is not a [tensor, options] conditioning entry`);
  });
  return value as Conditioning;
}

const zerosLike = (t: Tensor<'float32'>) => tensor('float32', t.shape, new Float32Array(t.data.length));

export const ConditioningZeroOut = defineNode<{ conditioning: unknown }>({
  name: 'ConditioningZeroOut',
  category: 'advanced/conditioning',
  pythonModule: 'nodes',
  inputTypes: { required: { conditioning: ['CONDITIONING'] } },
  returnTypes: ['CONDITIONING'],
  execute({ conditioning }) {
    const out = requireConditioning(conditioning, 'conditioning').map(([cond, opts]): ConditioningEntry => {
      const copy: ConditioningOptions = { ...opts };
      if (opts.pooled_output) copy.pooled_output = zerosLike(opts.pooled_output);
      return [zerosLike(cond), copy];
    });
    return [out];
  },
});

export const ConditioningCombine = defineNode<{ conditioning_1: unknown; conditioning_2: unknown }>({
  name: 'ConditioningCombine',
  displayName: 'Conditioning (Combine)',
  category: 'conditioning',
  pythonModule: 'nodes',
  inputTypes: { required: { conditioning_1: ['CONDITIONING'], conditioning_2: ['CONDITIONING'] } },
  returnTypes: ['CONDITIONING'],
  execute({ conditioning_1, conditioning_2 }) {
    return [[...requireConditioning(conditioning_1, 'conditioning_1'), ...requireConditioning(conditioning_2, 'conditioning_2')]];
  },
});

/** torch.cat((a, b), dim=1) of [B, Ta, D] and [B, Tb, D]. */
function catTokens(a: Tensor<'float32'>, b: Tensor<'float32'>): Tensor<'float32'> {
  const [B, Ta, D] = a.shape;
  const Tb = b.shape[1];
  if (b.shape[0] !== B || b.shape[2] !== D) throw new Error(`ConditioningConcat: cannot join conds of shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] (batch and width must match)`);
  const out = new Float32Array(B * (Ta + Tb) * D);
  for (let i = 0; i < B; i++) {
    out.set(a.data.subarray(i * Ta * D, (i + 1) * Ta * D), i * (Ta + Tb) * D);
    out.set(b.data.subarray(i * Tb * D, (i + 1) * Tb * D), (i * (Ta + Tb) + Ta) * D);
  }
  return tensor('float32', [B, Ta + Tb, D], out);
}

export const ConditioningConcat = defineNode<{ conditioning_to: unknown; conditioning_from: unknown }>({
  name: 'ConditioningConcat',
  displayName: 'Conditioning (Concat)',
  category: 'conditioning',
  pythonModule: 'nodes',
  inputTypes: { required: { conditioning_to: ['CONDITIONING'], conditioning_from: ['CONDITIONING'] } },
  returnTypes: ['CONDITIONING'],
  execute({ conditioning_to, conditioning_from }, ctx) {
    const from = requireConditioning(conditioning_from, 'conditioning_from');
    if (from.length === 0) throw new Error('ConditioningConcat: conditioning_from is empty');
    if (from.length > 1) ctx.env.log.warn('Warning: ConditioningConcat conditioning_from contains more than 1 cond, only the first one will actually be applied to conditioning_to.');
    const condFrom = from[0][0];
    return [requireConditioning(conditioning_to, 'conditioning_to').map(([cond, opts]): ConditioningEntry => [catTokens(cond, condFrom), { ...opts }])];
  },
});

/** cond_from[:, :T] zero-padded to T tokens, for a target [B, T, D]. */
function fitTokens(from: Tensor<'float32'>, like: Tensor<'float32'>): Tensor<'float32'> {
  const [Bf, Tf, Df] = from.shape;
  const [B, T, D] = like.shape;
  if (Df !== D || (Bf !== B && Bf !== 1)) throw new Error(`ConditioningAverage: conds of shapes [${from.shape.join(', ')}] and [${like.shape.join(', ')}] cannot be averaged`);
  const out = new Float32Array(B * T * D);
  const rows = Math.min(T, Tf);
  for (let b = 0; b < B; b++) out.set(from.data.subarray((b % Bf) * Tf * D, ((b % Bf) * Tf + rows) * D), b * T * D);
  return tensor('float32', like.shape, out);
}

/** a·s + b·(1 − s) in float32, as torch does. */
function mix(a: Tensor<'float32'>, b: Tensor<'float32'>, strength: number): Tensor<'float32'> {
  const s = Math.fround(strength);
  const r = Math.fround(1 - strength);
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(Math.fround(a.data[i] * s) + Math.fround(b.data[i % b.data.length] * r));
  return tensor('float32', a.shape, out);
}

export const ConditioningAverage = defineNode<{ conditioning_to: unknown; conditioning_from: unknown; conditioning_to_strength: number }>({
  name: 'ConditioningAverage',
  category: 'conditioning',
  pythonModule: 'nodes',
  inputTypes: {
    required: {
      conditioning_to: ['CONDITIONING'],
      conditioning_from: ['CONDITIONING'],
      conditioning_to_strength: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.01 }],
    },
  },
  returnTypes: ['CONDITIONING'],
  execute({ conditioning_to, conditioning_from, conditioning_to_strength }, ctx) {
    const from = requireConditioning(conditioning_from, 'conditioning_from');
    if (from.length === 0) throw new Error('ConditioningAverage: conditioning_from is empty');
    if (from.length > 1) ctx.env.log.warn('Warning: ConditioningAverage conditioning_from contains more than 1 cond, only the first one will actually be applied to conditioning_to.');
    const [condFrom, optsFrom] = from[0];
    const pooledFrom = optsFrom.pooled_output ?? null;
    const out = requireConditioning(conditioning_to, 'conditioning_to').map(([cond, opts]): ConditioningEntry => {
      const pooledTo = opts.pooled_output ?? pooledFrom;
      const next: ConditioningOptions = { ...opts };
      if (pooledFrom && pooledTo) next.pooled_output = mix(pooledTo, pooledFrom, conditioning_to_strength);
      else if (pooledFrom) next.pooled_output = pooledFrom;
      return [mix(cond, fitTokens(condFrom, cond), conditioning_to_strength), next];
    });
    return [out];
  },
});

export const ConditioningSetTimestepRange = defineNode<{ conditioning: unknown; start: number; end: number }>({
  name: 'ConditioningSetTimestepRange',
  category: 'advanced/conditioning',
  pythonModule: 'nodes',
  inputTypes: {
    required: {
      conditioning: ['CONDITIONING'],
      start: ['FLOAT', { default: 0.0, min: 0.0, max: 1.0, step: 0.001 }],
      end: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.001 }],
    },
  },
  returnTypes: ['CONDITIONING'],
  execute({ conditioning, start, end }) {
    return [requireConditioning(conditioning, 'conditioning').map(([cond, opts]): ConditioningEntry => [cond, { ...opts, start_percent: start, end_percent: end }])];
  },
});

export const conditioningNodes = [CLIPTextEncode, CLIPTextEncodeSD3, ConditioningZeroOut, ConditioningCombine, ConditioningConcat, ConditioningAverage, ConditioningSetTimestepRange];
