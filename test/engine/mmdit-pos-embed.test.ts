/**
 * PosEmbedCrops: the centre crop of pos_embed read row by row from the weight cache equals the
 * crop of the whole table (spec §2.3: top = ⌊(M − h)/2⌋, left = ⌊(M − w)/2⌋), for every stored
 * dtype the cache holds, odd and even grids, and the full table; oversize grids are refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeFloat16, encodeBfloat16 } from '../../engine/half.js';
import { toFloat32 } from '../../engine/dtypes.js';
import { PosEmbedCrops } from '../../engine/models/mmdit-pos-embed.js';
import { encodeSafetensors } from '../../engine/safetensors.js';
import type { Tensor } from '../../engine/tensor.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-pos-embed-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const M = 7;
const D = 3;
const values = Float32Array.from({ length: M * M * D }, (_, i) => Math.sin(i * 0.731) * 2);

function table(dtype: 'float32' | 'float16' | 'bfloat16'): Tensor {
  const shape = [1, M * M, D];
  if (dtype === 'float16') return { dtype, shape, data: encodeFloat16(values) };
  if (dtype === 'bfloat16') return { dtype, shape, data: encodeBfloat16(values) };
  return { dtype, shape, data: values };
}

/** The reference: the whole table decoded, then sliced as the spec's cropped_pos_embed. */
function expected(t: Tensor, h: number, w: number): Float32Array {
  const all = toFloat32(t).data;
  const top = Math.floor((M - h) / 2);
  const left = Math.floor((M - w) / 2);
  const out = new Float32Array(h * w * D);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) for (let d = 0; d < D; d++) out[(r * w + c) * D + d] = all[((top + r) * M + left + c) * D + d];
  return out;
}

describe('PosEmbedCrops', () => {
  for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
    it(`crops a ${dtype} table exactly (odd, even, thin and full grids)`, () => {
      const file = path.join(dir, `${dtype}.fp8cache`);
      const t = table(dtype);
      fs.writeFileSync(file, encodeSafetensors({ other: { dtype: 'float32', shape: [5], data: new Float32Array(5).fill(9) }, pos_embed: t }));
      const crops = new PosEmbedCrops(file, M, D, 2);
      for (const [h, w] of [[1, 1], [2, 2], [3, 4], [4, 3], [1, 7], [7, 7], [6, 5]]) {
        const crop = crops.crop(h, w);
        expect(crop.shape).toEqual([h * w, D]);
        expect(crop.data).toEqual(expected(t, h, w));
      }
    });
  }

  it('keeps recent crops and refuses a grid larger than the table', () => {
    const file = path.join(dir, 'keep.fp8cache');
    fs.writeFileSync(file, encodeSafetensors({ pos_embed: table('float32') }));
    const crops = new PosEmbedCrops(file, M, D, 2);
    expect(crops.crop(3, 3)).toBe(crops.crop(3, 3)); // the same tensor, not read again
    expect(() => crops.crop(8, 2)).toThrow("a 8×2 patch grid is larger than pos_embed's 7×7 (this model takes images up to 112×112 pixels)");
  });
});
