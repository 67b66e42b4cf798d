/**
 * The built-in, weight-free core nodes, and a registry holding them.
 *
 *   const registry = createBuiltinRegistry();   // then register the engine's nodes on top
 */
import { ImageBatch, ImageCrop, ImageInvert, ImagePadForOutpaint, ImageScale, ImageScaleBy, EmptyImage } from './image/image-nodes.js';
import { LoadImage, LoadImageMask } from './image/load-image.js';
import { PreviewImage, SaveImage } from './image/save-image.js';
import { EmptyLatentImage, EmptySD3LatentImage, LatentFromBatch, LatentUpscale, LatentUpscaleBy, RepeatLatentBatch } from './latent/latent-nodes.js';
import { LoadLatent, SaveLatent } from './latent/save-load-latent.js';
import { ImageToMask, InvertMask, MaskToImage, SolidMask } from './mask/mask-nodes.js';
import type { NodeDefinition } from './node-api.js';
import { NodeRegistry } from './registry.js';
import { samplingNodes } from './sampling/index.js';
import { conditioningNodes } from './conditioning/conditioning-nodes.js';
import { loaderNodes } from './loaders/loader-nodes.js';
import { vaeNodes } from './vae/vae-nodes.js';

export function builtinNodes(): NodeDefinition[] {
  const nodes = [
    SaveImage,
    PreviewImage,
    LoadImage,
    LoadImageMask,
    EmptyImage,
    ImageInvert,
    ImageScale,
    ImageScaleBy,
    ImageCrop,
    ImageBatch,
    ImagePadForOutpaint,
    EmptyLatentImage,
    EmptySD3LatentImage,
    LatentUpscale,
    LatentUpscaleBy,
    LatentFromBatch,
    RepeatLatentBatch,
    SaveLatent,
    LoadLatent,
    SolidMask,
    InvertMask,
    MaskToImage,
    ImageToMask,
    ...samplingNodes(),
    ...loaderNodes,
    ...conditioningNodes,
    ...vaeNodes,
  ];
  return nodes as unknown as NodeDefinition[];
}

export function createBuiltinRegistry(): NodeRegistry {
  const registry = new NodeRegistry();
  registry.registerAll(builtinNodes());
  return registry;
}
