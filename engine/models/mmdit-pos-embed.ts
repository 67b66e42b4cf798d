/**
 * The MMDiT's positional embedding, cropped outside the graph (spec/sd3-engine.md §2.3).
 *
 * Why not in the graph: pos_embed is an M×M table (SD3.5 Medium: 384² × 1536 = 226 M values, 9 %
 * of the model) of which one image uses the centre h×w crop (1024² px: 64² rows). As an
 * initializer, onnxruntime folds the graph's Reshape of it into a resident copy, so the whole
 * table stayed in memory (measured: resident 1.164 instead of ≈ 1.0 bytes/param). Here only the
 * crop's rows are read from the weight cache, converted exactly to float32 and fed to the graph
 * as its `pos` input; the few sizes in use are kept.
 */
import { toFloat32 } from '../dtypes.js';
import { openSafetensors } from '../safetensors.js';
import type { Tensor } from '../tensor.js';

const KEEP = 4; // crops kept: a workflow alternates between one or two sizes

export class PosEmbedCrops {
  private readonly crops = new Map<string, Tensor<'float32'>>();

  /** `cachePath`: the weight-cache file holding `key` as [1, M², D]; M: posEmbedMaxSize; D: hidden size. */
  constructor(
    private readonly cachePath: string,
    private readonly maxSize: number,
    private readonly width: number,
    private readonly patchSize: number,
    private readonly key = 'pos_embed',
  ) {}

  /** The rows top…top+h−1, columns left…left+w−1 of the M×M grid (top = ⌊(M−h)/2⌋), as [h·w, D]. */
  crop(h: number, w: number): Tensor<'float32'> {
    const id = `${h}x${w}`;
    const kept = this.crops.get(id);
    if (kept) {
      this.crops.delete(id); // re-insert: most recent last
      this.crops.set(id, kept);
      return kept;
    }
    const M = this.maxSize;
    if (h > M || w > M) {
      const most = M * this.patchSize * 8; // latent pixels are 8 image pixels
      throw new Error(`MMDiT: a ${h}×${w} patch grid is larger than pos_embed's ${M}×${M} (this model takes images up to ${most}×${most} pixels)`);
    }
    const D = this.width;
    const top = Math.floor((M - h) / 2);
    const left = Math.floor((M - w) / 2);
    const data = new Float32Array(h * w * D);
    const file = openSafetensors(this.cachePath);
    try {
      for (let r = 0; r < h; r++) {
        const row = file.readElements(this.key, ((top + r) * M + left) * D, w * D);
        data.set(toFloat32(row).data, r * w * D); // fp16/bf16 → float32 is exact
      }
    } finally {
      file.close();
    }
    const crop: Tensor<'float32'> = { dtype: 'float32', shape: [h * w, D], data };
    this.crops.set(id, crop);
    if (this.crops.size > KEEP) this.crops.delete(this.crops.keys().next().value as string);
    return crop;
  }
}
