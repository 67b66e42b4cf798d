/**
 * Writes the tiny random-weight demo checkpoint (SD3.5 all-in-one key layout: MMDiT, CLIP-L,
 * CLIP-G, T5, VAE; ≈ 16 MB; deterministic bytes) — the file the server puts into
 * models/checkpoints/ on first start when there is no checkpoint (nodes/loaders/demo-checkpoint.ts).
 *
 *   npx tsx tools/make-demo-checkpoint.ts [out.safetensors]   # default: models/checkpoints/comfy8-demo-sd35-tiny.safetensors
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_CHECKPOINT_NAME, makeDemoCheckpoint } from '../nodes/loaders/demo-checkpoint.js';

function main(argv: string[]): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const out = path.resolve(argv[0] ?? path.join(root, 'models', 'checkpoints', DEMO_CHECKPOINT_NAME));
  makeDemoCheckpoint(out);
  const sha = createHash('sha256').update(fs.readFileSync(out)).digest('hex');
  process.stdout.write(`${out}\n${fs.statSync(out).size} bytes, sha256 ${sha}\n`);
}

main(process.argv.slice(2));
