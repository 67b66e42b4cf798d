/** The sampling and model nodes, for builtins.ts. */
import type { NodeDefinition } from '../node-api.js';
import { BasicGuider, BasicScheduler, CFGGuider, DisableNoise, KSamplerSelect, RandomNoise, SamplerCustom, SamplerCustomAdvanced, SplitSigmas } from './custom-sampling-nodes.js';
import { KSampler, KSamplerAdvanced } from './ksampler-nodes.js';
import { ModelSamplingSD3, UNETLoader } from './model-nodes.js';

export function samplingNodes(): NodeDefinition[] {
  const nodes = [
    KSampler,
    KSamplerAdvanced,
    UNETLoader,
    ModelSamplingSD3,
    SamplerCustom,
    SamplerCustomAdvanced,
    KSamplerSelect,
    BasicScheduler,
    SplitSigmas,
    BasicGuider,
    CFGGuider,
    RandomNoise,
    DisableNoise,
  ];
  return nodes as unknown as NodeDefinition[];
}
