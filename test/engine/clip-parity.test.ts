/**
 * CLIP-L / CLIP-G graphs vs the torch reference (tools/gen-textenc-vae-golden.py) on tiny
 * procedural checkpoints in the real layouts: standalone HF files (fp16) and the all-in-one
 * checkpoint (prefix text_encoders.clip_{l,g}.transformer.). fp32 precision: rel-L2 ≤ 2e-5.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipConfigFromShapes } from '../../engine/arch/clip.js';
import { openComponent } from '../../engine/models/component-weights.js';
import { loadClip } from '../../engine/models/text-encoder-runner.js';
import { openSafetensors } from '../../engine/safetensors.js';
import { fromBase64, readManifest, relL2, writeTinyFiles, type TinyFiles } from './helpers/tiny-weights.js';

const GOLDEN = new URL('../golden/textenc/', import.meta.url);
interface Raw {
  ids: number[];
  hidden: string;
  pooled: number[];
  pooled_projected?: number[];
}
const outputs = readManifest<{ raw: Record<string, Raw> }>(new URL('outputs.json', GOLDEN));
const manifest = readManifest<{ clip: Record<string, { width: number; layers: number; mlp: number }> }>(new URL('manifest.json', GOLDEN));

let files: TinyFiles;
beforeAll(() => {
  files = writeTinyFiles(new URL('manifest.json', GOLDEN));
});
afterAll(() => files?.cleanup());

describe('CLIP configuration from weights', () => {
  it.each(['clip_l', 'clip_g'] as const)('%s: width, depth, MLP, heads', (kind) => {
    const src = openComponent(files.path(`${kind}.safetensors`), '');
    const cfg = clipConfigFromShapes(src.shapes, kind === 'clip_l' ? 'quick_gelu' : 'gelu');
    src.close();
    const want = manifest.clip[kind];
    expect(cfg).toMatchObject({ width: want.width, layers: want.layers, mlp: want.mlp, heads: Math.max(1, want.width / 64), positions: 77, vocab: 49408, hiddenLayer: want.layers - 2 });
  });
});

describe.each([
  ['standalone fp16 file', (k: string) => `${k}.safetensors`],
  ['all-in-one checkpoint', () => 'sd3_tiny_incl_clips_t5.safetensors'],
] as const)('CLIP parity, %s', (_label, fileOf) => {
  it.each(['clip_l', 'clip_g'] as const)('%s hidden (layer −2) and pooled match torch at fp32', async (kind) => {
    const enc = await loadClip(files.path(fileOf(kind)), { kind, cacheDir: files.dir });
    const ref = outputs.raw[kind];
    const out = await enc.encode([ref.ids]);
    await enc.release();
    expect(out.hidden.shape).toEqual([1, 77, manifest.clip[kind].width]);
    expect(relL2(out.hidden.data, fromBase64(ref.hidden))).toBeLessThanOrEqual(2e-5);
    const pooledRef = kind === 'clip_g' ? (ref.pooled_projected as number[]) : ref.pooled;
    expect(relL2(out.pooled?.data ?? [], pooledRef)).toBeLessThanOrEqual(2e-5);
    // Layer weights stay as the file stores them (fp16 widened exactly in the graph: half a float32
    // store's memory for the same numbers); biases and norms are float32.
    const cache = openSafetensors(enc.cache.path);
    const source = openSafetensors(files.path(fileOf(kind)));
    const linears = cache.keys().filter((k) => /(q_proj|fc1|fc2)\.weight$/.test(k));
    expect(linears.length).toBeGreaterThan(0);
    for (const key of linears) {
      const standalone = fileOf(kind) === `${kind}.safetensors`;
      const stored = source.info(source.keys().find((k) => (standalone ? k === key : k.endsWith(`${kind}.transformer.${key}`))) as string).storageDtype;
      expect(cache.info(key).storageDtype).toBe(stored === 'F16' || stored === 'BF16' ? stored : 'F32');
    }
    if (fileOf(kind) === `${kind}.safetensors`) expect(cache.info(linears[0]).storageDtype).toBe('F16'); // the standalone tiny files are fp16
    source.close();
    for (const key of cache.keys().filter((k) => /(bias|layer_norm\d?\.weight)$/.test(k))) expect(cache.info(key).storageDtype).toBe('F32');
    cache.close();
  });
});

describe('CLIP fp8 precision', () => {
  it.each(['clip_l', 'clip_g'] as const)('%s: per-channel FP8 layer weights stay within the documented bound', async (kind) => {
    const enc = await loadClip(files.path(`${kind}.safetensors`), { kind, cacheDir: files.dir, precision: 'fp8' });
    const ref = outputs.raw[kind];
    const out = await enc.encode([ref.ids]);
    await enc.release();
    const hiddenErr = relL2(out.hidden.data, fromBase64(ref.hidden));
    console.log(`${kind} fp8: hidden rel-L2 ${hiddenErr.toExponential(2)}`);
    expect(hiddenErr).toBeGreaterThan(0); // really quantised
    expect(hiddenErr).toBeLessThanOrEqual(0.08); // measured 3.0e-2 (L), 4.8e-2 (G): uniform random weights, e4m3 RMS rounding ≈ 2–3 %
  });
});
