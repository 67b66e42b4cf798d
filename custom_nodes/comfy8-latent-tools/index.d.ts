// Types of index.js for TypeScript consumers (the pack's tests).
import type { InputTypes, Latent, NodeClassMappings } from 'comfy8/node-api';
import type { BlendMode } from './latent-math.js';

interface NodeStatics {
  INPUT_TYPES(): InputTypes;
  RETURN_TYPES: string[];
  FUNCTION: string;
  CATEGORY: string;
  DESCRIPTION: string;
  ACCEPTS_FP8: true;
}
export declare const C8LatentBlend: NodeStatics & {
  new (): { blend(inputs: { samples1: Latent; samples2: Latent; blend_factor: number; blend_mode: BlendMode }): [Latent] };
};
export declare const C8LatentNormalize: NodeStatics & {
  new (): { normalize(inputs: { samples: Latent; mode: 'scale' | 'standardize'; factor: number }): [Latent] };
};
export declare const C8LatentCast: NodeStatics & {
  new (): { cast(inputs: { samples: Latent; dtype: string }): [Latent] };
};
export declare const C8LatentStats: NodeStatics & {
  RETURN_NAMES: string[];
  OUTPUT_NODE: true;
  new (): { stats(inputs: { samples: Latent }): { ui: { text: [string] }; result: [string] } };
};
export declare const NODE_CLASS_MAPPINGS: NodeClassMappings;
export declare const NODE_DISPLAY_NAME_MAPPINGS: Record<string, string>;
