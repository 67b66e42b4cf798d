/**
 * The tiny demo checkpoint: SD3.5's exact all-in-one key layout (MMDiT with qk-norm, CLIP-L,
 * CLIP-G, T5 and the VAE) at toy widths with random weights, so ComfyUI's SD3.5 example workflow
 * runs out of the box from prompt to PNG. It is a plumbing demo: the images are noise-like patterns.
 *
 *   ensureDemoCheckpoint(folders, log);  // writes models/checkpoints/comfy8-demo-sd35-tiny.safetensors when no checkpoint exists
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FolderPaths } from '../../compat/folder-paths.js';
import type { Logger } from '../node-api.js';
import { writeSyntheticCheckpoint, type Sd3CheckpointSpec } from './synthetic-sd3.js';

export const DEMO_CHECKPOINT_NAME = 'comfy8-demo-sd35-tiny.safetensors';

/**
 * Widths: CLIP-L 16 (narrower) and CLIP-G 32 (wider), so the slot-order rules tell them apart; T5
 * 48 = CLIP-L + CLIP-G, so the MMDiT takes a 48-wide context and a 48-wide pooled vector (SD3's
 * 4096 = T5 width and 2048 = CLIP-L + CLIP-G in miniature); pos_embed 64×64 covers 1024×1024 images; the VAE keeps SD3's 4 levels at 32 channels.
 */
export const DEMO_SPEC: Sd3CheckpointSpec = Object.freeze({
  seedTag: 'comfy8-demo-sd35-tiny/v1',
  storage: 'F16',
  mmdit: { depth: 2, posEmbedMaxSize: 64, qkNorm: true, dualAttentionBlocks: [], contextInChannels: 48, admInChannels: 48 },
  clipL: { width: 16, layers: 2, mlp: 64, projection: 16 },
  clipG: { width: 32, layers: 2, mlp: 128, projection: 32 },
  t5: { dModel: 48, heads: 2, dKv: 24, ff: 96, blocks: 2 },
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
 * The demo bytes are deterministic, so one copy in the OS temp folder (keyed by the spec) serves
 * every later start, test servers included: copying 12 MB beats regenerating it.
 */
function copyOrMake(file: string): void {
  const key = createHash('sha256').update(JSON.stringify({ DEMO_SPEC, DEMO_METADATA })).digest('hex').slice(0, 16);
  const cached = path.join(os.tmpdir(), `comfy8-demo-${key}.safetensors`);
  if (!fs.existsSync(cached)) makeDemoCheckpoint(cached); // written to a temporary name, renamed when complete
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(cached, file);
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
    copyOrMake(file);
  } catch (error) {
    log.warn(`demo checkpoint: could not write ${file}: ${(error as Error).message}`);
    return null;
  }
  log.info(`No checkpoint found: wrote the tiny random-weight demo ${DEMO_CHECKPOINT_NAME} (a plumbing demo, not a real model; see README "Models")`);
  return file;
}
