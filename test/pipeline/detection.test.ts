/**
 * Detection on the released files' key lists and shapes (spec/sd3-engine.md §1.4, §1.5, §3.5–3.8,
 * §4.3), as header-only safetensors files (sparse: the header is real, the data is holes), so
 * multi-GB layouts cost nothing: each part gets the right configuration, and the encoders are
 * told apart by their weights in any slot order — never by file name.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectTextEncoderKinds } from '../../engine/models/sd3-text-encoders.js';
import { assignSd3Encoders, inspectModelFile, type FoundEncoder } from '../../nodes/loaders/detect.js';
import { clipShapes, sd3CheckpointShapes, t5Shapes, vaeShapes, type Sd3CheckpointSpec } from '../../nodes/loaders/synthetic-sd3.js';

const CLIP_L = { width: 768, layers: 12, mlp: 3072, projection: 768 };
const CLIP_G = { width: 1280, layers: 32, mlp: 5120, projection: 1280 };
const T5XXL = { dModel: 4096, heads: 64, dKv: 64, ff: 10240, blocks: 24 };
const VAE = { channels: [128, 256, 512, 512], encoderBlocks: 2, decoderBlocks: 3 };
const mmdit = (depth: number, posEmbedMaxSize: number, qkNorm: boolean, dual: number[]) => ({ depth, posEmbedMaxSize, qkNorm, dualAttentionBlocks: dual, contextInChannels: 4096, admInChannels: 2048 });

const RELEASED: Record<string, Sd3CheckpointSpec> = {
  // MMDiT + VAE + CLIPs + FP8 T5, as sd3_medium_incl_clips_t5xxlfp8.safetensors
  'sd3_medium_incl_clips_t5xxlfp8.safetensors': { seedTag: '', mmdit: mmdit(24, 192, false, []), vae: VAE, clipL: CLIP_L, clipG: CLIP_G, t5: T5XXL },
  // MMDiT-X + VAE only
  'sd3.5_medium.safetensors': { seedTag: '', mmdit: mmdit(24, 384, true, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), vae: VAE },
  // all-in-one
  'sd3.5_large_fp8_scaled.safetensors': { seedTag: '', mmdit: mmdit(38, 192, true, []), vae: VAE, clipL: CLIP_L, clipG: CLIP_G, t5: T5XXL },
};

let dir: string;

/** A safetensors file with a real header and unwritten (sparse) data. */
function headerOnly(name: string, shapes: ReadonlyMap<string, readonly number[]>, extra: Record<string, { dtype: string; shape: number[] }> = {}): string {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const add = (key: string, dtype: string, shape: readonly number[]) => {
    const bytes = shape.reduce((a, b) => a * b, 1) * (dtype === 'I64' ? 8 : 2);
    header[key] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  };
  for (const [key, shape] of shapes) add(key, 'F16', shape);
  for (const [key, e] of Object.entries(extra)) add(key, e.dtype, e.shape);
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(8 + Math.ceil(json.length / 8) * 8, 0x20);
  head.writeBigUInt64LE(BigInt(head.length - 8));
  json.copy(head, 8);
  const file = path.join(dir, name);
  fs.writeFileSync(file, head);
  fs.truncateSync(file, head.length + offset);
  return file;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-detect-'));
  for (const [name, spec] of Object.entries(RELEASED)) headerOnly(name, sd3CheckpointShapes(spec));
  const positionIds = { 'text_model.embeddings.position_ids': { dtype: 'I64', shape: [1, 77] } };
  // Deliberately misleading names: detection must not read them.
  headerOnly('clip_g.safetensors', clipShapes(CLIP_L), positionIds);
  headerOnly('clip_l.safetensors', clipShapes(CLIP_G));
  headerOnly('model.safetensors', t5Shapes(T5XXL));
  headerOnly('sd3_vae.safetensors', vaeShapes(VAE));
});

describe('released checkpoint layouts', () => {
  it('SD3 Medium: 24 blocks of 1536, no qk-norm, no dual attention; CLIP-L, CLIP-G, T5 and the VAE', () => {
    const found = inspectModelFile(path.join(dir, 'sd3_medium_incl_clips_t5xxlfp8.safetensors'));
    expect(found.mmdit).toMatchObject({ prefix: 'model.diffusion_model.', hiddenSize: 1536, depth: 24, numHeads: 24, posEmbedMaxSize: 192, qkNorm: null, dualAttentionBlocks: [], contextInChannels: 4096, admInChannels: 2048 });
    expect(found.vae).toEqual({ path: found.path, prefix: 'first_stage_model.' });
    const set = assignSd3Encoders(found.encoders);
    expect(set.clipL).toMatchObject({ kind: 'clip_l', prefix: 'text_encoders.clip_l.transformer.', width: 768, pooledWidth: 768 });
    expect(set.clipG).toMatchObject({ kind: 'clip_g', prefix: 'text_encoders.clip_g.transformer.', width: 1280, pooledWidth: 1280 });
    expect(set.t5).toMatchObject({ kind: 't5xxl', prefix: 'text_encoders.t5xxl.transformer.', width: 4096 });
  });

  it('SD3.5 Medium: MMDiT-X (RMS qk-norm, attn2 in blocks 0–12, pos_embed 384²) and no text encoders', () => {
    const found = inspectModelFile(path.join(dir, 'sd3.5_medium.safetensors'));
    expect(found.mmdit).toMatchObject({ hiddenSize: 1536, depth: 24, posEmbedMaxSize: 384, qkNorm: 'rms', dualAttentionBlocks: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] });
    expect(found.encoders).toEqual([]);
    expect(found.vae?.prefix).toBe('first_stage_model.');
  });

  it('SD3.5 Large: 38 blocks of 2432 with qk-norm, all three encoders', () => {
    const found = inspectModelFile(path.join(dir, 'sd3.5_large_fp8_scaled.safetensors'));
    expect(found.mmdit).toMatchObject({ hiddenSize: 2432, depth: 38, numHeads: 38, posEmbedMaxSize: 192, qkNorm: 'rms', dualAttentionBlocks: [] });
    expect(found.encoders.map((e) => [e.declaredKind, e.width, e.layers])).toEqual([
      ['clip_l', 768, 12],
      ['clip_g', 1280, 32],
      ['t5xxl', 4096, 24],
    ]);
  });
});

describe('standalone encoder files, any slot order', () => {
  const names = ['clip_g.safetensors', 'clip_l.safetensors', 'model.safetensors'];
  const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

  it('TripleCLIPLoader: CLIP-L, CLIP-G and T5 by their weights', () => {
    for (const order of orders) {
      const found: FoundEncoder[] = order.flatMap((i) => inspectModelFile(path.join(dir, names[i])).encoders);
      const set = assignSd3Encoders(found);
      expect([set.clipL?.width, set.clipG?.width, set.t5?.width], order.join()).toEqual([768, 1280, 4096]);
      expect(path.basename(set.clipL!.path)).toBe('clip_g.safetensors'); // the 768-wide file, whatever its name
    }
  });

  it('one or two files: CLIP-G + T5, CLIP-L alone, CLIP-G alone', () => {
    const enc = (n: string) => inspectModelFile(path.join(dir, n)).encoders;
    const gt5 = assignSd3Encoders([...enc('model.safetensors'), ...enc('clip_l.safetensors')]);
    expect([gt5.clipL, gt5.clipG?.width, gt5.t5?.width]).toEqual([undefined, 1280, 4096]);
    expect(assignSd3Encoders(enc('clip_g.safetensors')).clipL?.width).toBe(768);
    expect(assignSd3Encoders(enc('clip_l.safetensors')).clipG?.width).toBe(1280);
  });

  it('the VAE file: ldm layout without prefix; the engine’s own detection agrees on the encoders', () => {
    expect(inspectModelFile(path.join(dir, 'sd3_vae.safetensors')).vae?.prefix).toBe('');
    for (const order of orders) {
      const paths = order.map((i) => path.join(dir, names[i]));
      const kinds = detectTextEncoderKinds(paths);
      const byName = Object.fromEntries(paths.map((p, i) => [path.basename(p), kinds[i]]));
      expect(byName).toEqual({ 'clip_g.safetensors': 'clip_l', 'clip_l.safetensors': 'clip_g', 'model.safetensors': 't5xxl' });
    }
  });
});
