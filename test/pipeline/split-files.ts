/**
 * Split model files in the demo's miniature SD3.5 layout (standalone CLIP-L / CLIP-G / T5 / VAE
 * files without prefixes, a diffusion-model file with `model.diffusion_model.`), written into a
 * test environment's model folders.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_SPEC } from '../../nodes/loaders/demo-checkpoint.js';
import { clipShapes, sd3CheckpointShapes, t5Shapes, vaeShapes, writeSyntheticFile } from '../../nodes/loaders/synthetic-sd3.js';
import type { NodeEnvironment } from '../../nodes/node-api.js';

export const SPLIT = { clipL: 'tiny_clip_l.safetensors', clipG: 'tiny_clip_g.safetensors', t5: 'tiny_t5xxl.safetensors', vae: 'tiny_vae.safetensors', unet: 'tiny_sd35_mmdit.safetensors' } as const;

function write(dir: string, name: string, shapes: ReadonlyMap<string, readonly number[]>): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeSyntheticFile(file, shapes, { seedTag: `split/${name}` });
  return file;
}

/** Writes the five split files; text encoders go to `textEncoderDir` (default models/text_encoders). */
export function writeSplitFiles(env: NodeEnvironment, textEncoderDir = env.folders.searchRoots('text_encoders')![0]): Record<keyof typeof SPLIT, string> {
  const root = (folder: string) => env.folders.searchRoots(folder)![0];
  return {
    clipL: write(textEncoderDir, SPLIT.clipL, clipShapes(DEMO_SPEC.clipL!)),
    clipG: write(textEncoderDir, SPLIT.clipG, clipShapes(DEMO_SPEC.clipG!)),
    t5: write(textEncoderDir, SPLIT.t5, t5Shapes(DEMO_SPEC.t5!)),
    vae: write(root('vae'), SPLIT.vae, vaeShapes(DEMO_SPEC.vae!)),
    unet: write(root('diffusion_models'), SPLIT.unet, sd3CheckpointShapes({ seedTag: 'x', mmdit: DEMO_SPEC.mmdit })),
  };
}
