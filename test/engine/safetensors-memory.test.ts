/**
 * Opening a ~200 MB file and reading one small tensor must not pull the file into memory: the
 * reader reads the header and then only the bytes of the tensor asked for.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openSafetensors } from '../../engine/safetensors.js';
import { rawSafetensors, tempDir } from './safetensors-fixtures.js';

const dir = tempDir('comfy8-st-mem-');
afterAll(() => dir.remove());

const BIG_BYTES = 200 * 2 ** 20;
const CHUNK = 8 * 2 ** 20;

/** Streams the file in 8 MiB chunks so the test process never holds the big tensor itself. */
function writeBigFile(path: string): void {
  const header = {
    __metadata__: { note: 'memory test' },
    'big.weight': { dtype: 'F8_E4M3', shape: [BIG_BYTES / 4096, 4096], data_offsets: [0, BIG_BYTES] },
    'small.scale_weight': { dtype: 'F32', shape: [4], data_offsets: [BIG_BYTES, BIG_BYTES + 16] },
  };
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, rawSafetensors(header, new Uint8Array()));
    const chunk = Buffer.alloc(CHUNK, 0x38);
    for (let written = 0; written < BIG_BYTES; written += CHUNK) writeSync(fd, chunk);
    writeSync(fd, new Uint8Array(new Float32Array([0.5, 1, 2, 4]).buffer));
  } finally {
    closeSync(fd);
  }
}

it('reads one small tensor of a 200 MiB file with RSS growth far below the file size', () => {
  const path = join(dir.path, 'big.safetensors');
  writeBigFile(path);
  const rssBefore = process.memoryUsage().rss;

  const file = openSafetensors(path);
  const small = file.read('small.scale_weight');
  const info = file.info('big.weight');
  const rssAfter = process.memoryUsage().rss;
  file.close();

  expect(Array.from(small.data as Float32Array)).toEqual([0.5, 1, 2, 4]);
  expect(info).toMatchObject({ dtype: 'float8_e4m3fn', byteLength: BIG_BYTES, shape: [BIG_BYTES / 4096, 4096] });
  expect(info.byteOffset % 8).toBe(0);
  // A whole-file read would add ≥ 200 MiB; allow 16 MiB for allocator and JIT noise.
  expect(rssAfter - rssBefore).toBeLessThan(16 * 2 ** 20);
});
