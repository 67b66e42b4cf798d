/**
 * An SD3.5-Medium-shaped MMDiT checkpoint with random fp16 weights (engine spec §1.4: D 1536, 24
 * blocks, 24 heads, pos_embed 384², RMS qk-norm, dual attention in blocks 0–12, context 4096,
 * pooled 2048: ≈ 2.5 B parameters, ≈ 5 GB), streamed to disk tensor by tensor so it never sits in
 * memory whole. Values: |w| ≈ 0.05 (norm weights 1) — speed and memory are measured, not images.
 */
import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { expectedMmditShapes, type MmditConfig } from '../../engine/arch/mmdit-config.js';

export const SD35_MEDIUM: MmditConfig = {
  keyFormat: 'original',
  prefix: 'model.diffusion_model.',
  hiddenSize: 1536,
  numHeads: 24,
  headDim: 64,
  depth: 24,
  patchSize: 2,
  inChannels: 16,
  outChannels: 16,
  posEmbedMaxSize: 384,
  contextInChannels: 4096,
  admInChannels: 2048,
  mlpHiddenSize: 6144,
  qkNorm: 'rms',
  dualAttentionBlocks: Array.from({ length: 13 }, (_, i) => i),
  preOnlyLastContextBlock: true,
};

export function parameterCount(cfg: MmditConfig): number {
  let n = 0;
  for (const shape of expectedMmditShapes(cfg).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/** A pool of random fp16 codes (|w| ≈ 0.05, random sign) that tensors are cut from at varying offsets. */
function randomPool(size: number): Uint16Array {
  const pool = new Uint16Array(size);
  let s = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    pool[i] = 0x2a00 | (s & 0x1ff) | (s & 0x8000);
  }
  return pool;
}

/** Writes the checkpoint unless a file of the expected size is already there; returns its parameter count. */
export function writeSd35MediumCheckpoint(file: string, cfg: MmditConfig = SD35_MEDIUM): number {
  const shapes = [...expectedMmditShapes(cfg)].sort(([a], [b]) => (a < b ? -1 : 1));
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [key, shape] of shapes) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[cfg.prefix + key] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const total = 8 + json.length + offset;
  const params = offset / 2;
  if (existsSync(file) && statSync(file).size === total) return params;
  const pool = randomPool(1 << 22);
  const ones = new Uint16Array(1 << 16).fill(0x3c00);
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    writeSync(fd, length);
    writeSync(fd, json);
    let start = 0;
    for (const [key, shape] of shapes) {
      let remaining = shape.reduce((a, b) => a * b, 1);
      const isNorm = key.endsWith('ln_q.weight') || key.endsWith('ln_k.weight');
      while (remaining > 0) {
        const source = isNorm ? ones : pool;
        const begin = isNorm ? 0 : start % (pool.length / 2);
        const n = Math.min(remaining, source.length - begin);
        writeSync(fd, source.subarray(begin, begin + n));
        remaining -= n;
        start += 7919;
      }
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  return params;
}

/**
 * Matmul + attention FLOPs of one forward pass (multiply-add = 2 FLOPs) for a batch of `batch`
 * items of `imageTokens` patches and `contextTokens` text tokens. Per-item vectors (adaLN, timestep
 * and pooled embedders) are left out: they do not grow with tokens.
 */
export function forwardFlops(cfg: MmditConfig, batch: number, imageTokens: number, contextTokens: number): number {
  const D = cfg.hiddenSize;
  const mlp = 2 * 2 * D * cfg.mlpHiddenSize; // fc1 + fc2 per token
  const attnLinears = 2 * (3 * D * D + D * D); // qkv + proj per token
  let perItem = 0;
  for (let i = 0; i < cfg.depth; i++) {
    const last = i === cfg.depth - 1 && cfg.preOnlyLastContextBlock;
    perItem += imageTokens * (attnLinears + mlp);
    perItem += contextTokens * (last ? 2 * 3 * D * D : attnLinears + mlp);
    const joint = imageTokens + contextTokens;
    perItem += 2 * 2 * joint * joint * D; // QKᵀ and AV
    if (cfg.dualAttentionBlocks.includes(i)) perItem += imageTokens * attnLinears + 2 * 2 * imageTokens * imageTokens * D;
  }
  const patch = cfg.inChannels * cfg.patchSize ** 2;
  perItem += 2 * imageTokens * patch * D + 2 * contextTokens * cfg.contextInChannels * D + 2 * imageTokens * D * cfg.outChannels * cfg.patchSize ** 2;
  return perItem * batch;
}
