/**
 * The MMDiT as a model-manager part: key = resolved file paths + precision + cache folder, value =
 * a loaded MmditRunner (session + weight cache), bytes = the size of its weight cache file (what
 * the session keeps resident: ≈ 1 byte/param in FP8, 4 in float32).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { MmditRunner } from '../../engine/models/mmdit-runner.js';
import type { MmditPrecision } from '../../engine/models/mmdit-weights.js';
import type { ModelPartSpec } from '../node-api.js';
import type { FlowDenoiser } from './model-handle.js';

export interface MmditPartOptions {
  /** Folder for the `.fp8cache` weight file (default: beside the checkpoint). */
  cacheDir?: string;
  /** onnxruntime intra-op threads (default: one per core). */
  intraOpThreads?: number;
}

export function mmditPartKey(paths: readonly string[], precision: MmditPrecision, opts: MmditPartOptions = {}): string {
  return JSON.stringify({ part: 'mmdit', paths: paths.map((p) => path.resolve(p)), precision, cacheDir: opts.cacheDir ?? null, threads: opts.intraOpThreads ?? 0 });
}

export function mmditPart(paths: readonly string[], precision: MmditPrecision, opts: MmditPartOptions = {}): ModelPartSpec<FlowDenoiser> {
  return {
    key: mmditPartKey(paths, precision, opts),
    label: `mmdit ${paths.map((p) => path.basename(p)).join(' + ')} (${precision})`,
    async load() {
      const runner = await MmditRunner.load(paths, { precision, cacheDir: opts.cacheDir, session: { intraOpThreads: opts.intraOpThreads } });
      return { value: runner, bytes: statSync(runner.cache.path).size, release: () => runner.release() };
    },
  };
}
