/**
 * The tiny demo checkpoint: SD3.5's exact all-in-one key layout (MMDiT with qk-norm, CLIP-L,
 * CLIP-G, T5 and the VAE) at toy widths with random weights, so ComfyUI's SD3.5 example workflow
 * runs out of the box from prompt to PNG. It is a plumbing demo: the images are noise-like patterns.
 *
 *   ensureDemoCheckpoint(folders, log);  // writes models/checkpoints/comfy8-demo-sd35-tiny.safetensors when no checkpoint exists
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FolderPaths } from '../../compat/folder-paths.js';
import type { Logger } from '../node-api.js';
import { writeSyntheticCheckpoint, type Sd3CheckpointSpec } from './synthetic-sd3.js';

export const DEMO_CHECKPOINT_NAME = 'comfy8-demo-sd35-tiny.safetensors';

/**
 * Widths: CLIP-L 32 (narrower) and CLIP-G 64 (wider), so the slot-order rules tell them apart; T5
 * 32; the MMDiT takes their 96-wide context and 96-wide pooled vector (SD3's 4096 / 2048 in
 * miniature); pos_embed 64×64 covers 1024×1024 images; the VAE keeps SD3's 4 levels at 32 channels.
 */
export const DEMO_SPEC: Sd3CheckpointSpec = Object.freeze({
  seedTag: 'comfy8-demo-sd35-tiny/v1',
  storage: 'F16',
  mmdit: { depth: 2, posEmbedMaxSize: 64, qkNorm: true, dualAttentionBlocks: [], contextInChannels: 96, admInChannels: 96 },
  clipL: { width: 32, layers: 2, mlp: 128, projection: 32 },
  clipG: { width: 64, layers: 2, mlp: 256, projection: 64 },
  t5: { dModel: 32, heads: 2, dKv: 16, ff: 64, blocks: 2 },
  vae: { channels: [32, 32, 32, 32], encoderBlocks: 2, decoderBlocks: 3 },
});

export const DEMO_METADATA = Object.freeze({
  'comfy8.demo': 'true',
  description: 'Comfy8 demo checkpoint: SD3.5 key layout at toy size with RANDOM weights. It does not make real images; put real SD3.5 files into models/ (see README "Models").',
});

/** Writes the demo checkpoint to `file` (deterministic bytes). */
export function makeDemoCheckpoint(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeSyntheticCheckpoint(file, DEMO_SPEC, { ...DEMO_METADATA });
}

/**
 * First start: when the checkpoints folders hold no model file, puts the demo there so the default
 * workflows have something to run. Returns the path written, or null when nothing was needed.
 */
export function ensureDemoCheckpoint(folders: FolderPaths, log: Logger): string | null {
  if (folders.listFiles('checkpoints').length > 0) return null;
  const root = folders.searchRoots('checkpoints')?.[0];
  if (!root) return null;
  const file = path.join(root, DEMO_CHECKPOINT_NAME);
  try {
    makeDemoCheckpoint(file);
  } catch (error) {
    log.warn(`demo checkpoint: could not write ${file}: ${(error as Error).message}`);
    return null;
  }
  log.info(`No checkpoint found: wrote the tiny random-weight demo ${DEMO_CHECKPOINT_NAME} (a plumbing demo, not a real model; see README "Models")`);
  return file;
}
