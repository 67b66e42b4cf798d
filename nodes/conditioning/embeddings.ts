/**
 * Textual-inversion embeddings from the `embeddings` model folders, for `embedding:name` in
 * prompts (ComfyUI's sd1_clip.load_embed, safetensors files only): the file is found as `name`,
 * `name.safetensors` or `name.sft`; the tensor is the one named after the encoder (`clip_l`,
 * `clip_g`, `t5xxl`), else `emb_params`, else the file's only tensor; its rows are the vectors and
 * must be as wide as the encoder, otherwise the embedding is skipped (ComfyUI warns the same way).
 */
import fs from 'node:fs';
import { toFloat32 } from '../../engine/dtypes.js';
import { openSafetensors } from '../../engine/safetensors.js';
import type { EmbeddingLookup } from '../../engine/tokenizers/index.js';
import type { NodeEnvironment } from '../node-api.js';

function findEmbeddingFile(env: NodeEnvironment, name: string): string | null {
  for (const candidate of [name, `${name}.safetensors`, `${name}.sft`]) {
    const file = env.folders.resolve('embeddings', candidate);
    if (file && fs.statSync(file).isFile()) return file;
  }
  return null;
}

function pickTensor(keys: string[], encoderKey: string): string | undefined {
  if (keys.includes(encoderKey)) return encoderKey;
  if (keys.includes('emb_params')) return 'emb_params';
  return keys.length === 1 ? keys[0] : undefined;
}

export function embeddingLookupFor(env: NodeEnvironment): EmbeddingLookup {
  return (name, want) => {
    const file = findEmbeddingFile(env, name.trim());
    if (!file) return null;
    if (!/\.(safetensors|sft)$/i.test(file)) {
      env.log.warn(`embedding ${name}: only .safetensors embeddings are supported (${file})`);
      return null;
    }
    const f = openSafetensors(file);
    try {
      const key = pickTensor(f.keys(), want.key);
      if (!key) return null;
      const t = toFloat32(f.read(key));
      const width = t.shape[t.shape.length - 1];
      if (width !== want.size) {
        env.log.warn(`embedding ${name}: vectors are ${width} wide; the ${want.key} encoder needs ${want.size}`);
        return null;
      }
      const rows = t.data.length / width;
      return Array.from({ length: rows }, (_, r) => t.data.slice(r * width, (r + 1) * width));
    } finally {
      f.close();
    }
  };
}
