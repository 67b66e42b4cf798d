/**
 * SD3 VAE encoder/decoder graphs vs the torch reference (tools/gen-textenc-vae-golden.py) on a tiny
 * procedural VAE (channels 32/64/64/64, 16 latent channels) in both layouts: standalone fp16 file
 * and `first_stage_model.` inside the all-in-one checkpoint (float32). Plus ComfyUI's tiling.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaeConfigFromShapes } from '../../engine/arch/vae.js';
import { openComponent } from '../../engine/models/component-weights.js';
import { SD3_PREVIEW_BIAS, SD3_PREVIEW_FACTORS, sd3LatentPreview, sd3ProcessIn, sd3ProcessOut } from '../../engine/models/sd3-latent.js';
import { imageToPixels, loadVae, type Vae } from '../../engine/models/vae-runner.js';
import { tiledScale } from '../../engine/models/vae-tiling.js';
import type { Tensor } from '../../engine/tensor.js';
import { fromBase64, generate, readManifest, relL2, writeTinyFiles, type GenSpec, type TinyFiles } from './helpers/tiny-weights.js';

const GOLDEN = new URL('../golden/vae/', import.meta.url);
const TEXTENC = new URL('../golden/textenc/', import.meta.url);
interface VaeOutputs {
  image: GenSpec;
  latent_input: GenSpec;
  encoded_mean_shape: number[];
  encoded_mean: number[];
  decoded_shape: number[];
  decoded: number[];
  tiled: { latent: GenSpec; decoded_shape: number[]; decoded: string; image: GenSpec; encoded_shape: number[]; encoded: string };
}
const outputs = readManifest<VaeOutputs>(new URL('outputs.json', GOLDEN));
const tensorOfSpec = (s: GenSpec): Tensor<'float32'> => ({ dtype: 'float32', shape: s.shape, data: generate(s).values });

let vaeFiles: TinyFiles;
let ckptFiles: TinyFiles;
beforeAll(() => {
  vaeFiles = writeTinyFiles(new URL('manifest.json', GOLDEN));
  ckptFiles = writeTinyFiles(new URL('manifest.json', TEXTENC));
});
afterAll(() => {
  vaeFiles?.cleanup();
  ckptFiles?.cleanup();
});

describe('VAE configuration from weights', () => {
  it('channels, blocks per level, latent channels', () => {
    const src = openComponent(vaeFiles.path('vae.safetensors'), '');
    expect(vaeConfigFromShapes(src.shapes)).toEqual({ channels: [32, 64, 64, 64], encoderBlocks: 2, decoderBlocks: 3, latentChannels: 16, imageChannels: 3 });
    src.close();
  });
});

describe.each([
  ['standalone fp16 VAE', () => vaeFiles.path('vae.safetensors')],
  ['first_stage_model. in a checkpoint', () => ckptFiles.path('sd3_tiny_incl_clips_t5.safetensors')],
])('VAE parity, %s', (_label, fileOf) => {
  let vae: Vae;
  beforeAll(async () => {
    vae = await loadVae(fileOf());
  });
  afterAll(() => vae?.release());

  it('encode: centred crop to multiples of 8, 2x − 1, mean of the moments (rel-L2 ≤ 2e-5)', async () => {
    const z = await vae.encode(tensorOfSpec(outputs.image)); // [1, 36, 44, 3] → crop 32×40
    expect(z.shape).toEqual(outputs.encoded_mean_shape);
    expect(relL2(z.data, outputs.encoded_mean)).toBeLessThanOrEqual(2e-5);
  });
  it('decode: clamp((x + 1) / 2), channels last (rel-L2 ≤ 2e-5)', async () => {
    const img = await vae.decode(tensorOfSpec(outputs.latent_input));
    expect(img.shape).toEqual(outputs.decoded_shape);
    expect(relL2(img.data, outputs.decoded)).toBeLessThanOrEqual(2e-5);
  });
});

describe('tiling', () => {
  it('tiledScale blends a pointwise function back to the untiled result (feathered weights normalise)', async () => {
    const x = tensorOfSpec({ id: 'tile-test', shape: [2, 2, 37, 29], kind: 'weight', scale: 1 });
    // nearest-neighbour ×8 upscale: pointwise per pixel, so any tiling must reproduce it
    const up = async (t: Tensor<'float32'>): Promise<Tensor<'float32'>> => {
      const [b, c, h, w] = t.shape;
      const out = new Float32Array(b * c * h * 8 * w * 8);
      for (let i = 0; i < out.length; i++) {
        const xx = i % (w * 8), yy = Math.floor(i / (w * 8)) % (h * 8), plane = Math.floor(i / (w * 8 * h * 8));
        out[i] = t.data[plane * h * w + Math.floor(yy / 8) * w + Math.floor(xx / 8)];
      }
      return { dtype: 'float32', shape: [b, c, h * 8, w * 8], data: out };
    };
    const whole = await up(x);
    const tiled = await tiledScale(x, up, { tile: { height: 16, width: 8 }, overlap: 4, scale: 8, outChannels: 2 });
    expect(tiled.shape).toEqual(whole.shape);
    expect(relL2(tiled.data, whole.data)).toBeLessThanOrEqual(1e-6);
  });

  it('decodeTiled equals decode when one tile covers the latent', async () => {
    const vae = await loadVae(vaeFiles.path('vae.safetensors'));
    const latent = tensorOfSpec(outputs.tiled.latent);
    const plain = await vae.decode(latent);
    // The weights come from a float32 weight cache beside the file, read by onnxruntime as external data.
    expect(fs.existsSync(vaeFiles.path('vae.vae-fp32.fp8cache'))).toBe(true);
    const oneTile = await vae.decodeTiled(latent, { tileSize: 512, overlap: 64 }); // 64-latent tiles ⊇ 12×10 (and 32×128, 128×32)
    expect(relL2(oneTile.data, plain.data)).toBeLessThanOrEqual(1e-6);
    await vae.release();
  });

  it('VAEDecodeTiled (tile 64 px, overlap 16 px: three passes averaged) matches the torch port of tiled_scale', async () => {
    const vae = await loadVae(vaeFiles.path('vae.safetensors'));
    const latent = tensorOfSpec(outputs.tiled.latent);
    const tiled = await vae.decodeTiled(latent, { tileSize: 64, overlap: 16 });
    expect(tiled.shape).toEqual(outputs.tiled.decoded_shape);
    expect(relL2(tiled.data, fromBase64(outputs.tiled.decoded))).toBeLessThanOrEqual(2e-5);
    const plain = await vae.decode(latent);
    expect(relL2(tiled.data, plain.data)).toBeGreaterThan(1e-3); // really tiled (GroupNorm/attention see only a tile)
    await vae.release();
  });

  it('VAEEncodeTiled (tile 32 px, overlap 8 px) matches the torch port; one tile equals encode', async () => {
    const vae = await loadVae(vaeFiles.path('vae.safetensors'));
    const image = tensorOfSpec(outputs.tiled.image);
    const tiled = await vae.encodeTiled(image, { tileSize: 32, overlap: 8 });
    expect(tiled.shape).toEqual(outputs.tiled.encoded_shape);
    expect(relL2(tiled.data, fromBase64(outputs.tiled.encoded))).toBeLessThanOrEqual(2e-5);
    const plain = await vae.encode(image);
    expect(relL2((await vae.encodeTiled(image, { tileSize: 512, overlap: 64 })).data, plain.data)).toBeLessThanOrEqual(1e-6);
    await vae.release();
  });
});

describe('pixel and latent conventions', () => {
  it('drops alpha and crops centred: offset (size % 8) // 2', () => {
    const img: Tensor<'float32'> = { dtype: 'float32', shape: [1, 11, 10, 4], data: new Float32Array(11 * 10 * 4).map((_, i) => (i % 4 === 3 ? 0.123 : (Math.floor(i / 4) % 97) / 97)) };
    const px = imageToPixels(img);
    expect(px.shape).toEqual([1, 3, 8, 8]);
    // pixel (0, 0) of the crop is source (y 1, x 1)
    expect(px.data[0]).toBeCloseTo(2 * (((1 * 10 + 1) % 97) / 97) - 1, 6);
  });
  it('process_in / process_out use scale 1.5305 and shift 0.0609', () => {
    const z: Tensor<'float32'> = { dtype: 'float32', shape: [1, 1, 1, 2], data: Float32Array.of(0.0609, 1) };
    const x = sd3ProcessIn(z);
    expect(x.data[0]).toBe(0);
    expect(x.data[1]).toBeCloseTo((1 - 0.0609) * 1.5305, 6);
    expect(sd3ProcessOut(x).data[1]).toBeCloseTo(1, 6);
  });
  it('latent preview: factors · z + bias, (v + 1) / 2 clamped, ×255 truncated', () => {
    const z: Tensor<'float32'> = { dtype: 'float32', shape: [1, 16, 1, 2], data: new Float32Array(32) };
    z.data[2 * 2] = 1; // channel 2, pixel 0
    const { rgb, width, height } = sd3LatentPreview(z);
    expect([width, height]).toEqual([2, 1]);
    const expected = (v: number) => Math.floor(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
    expect(Array.from(rgb.slice(0, 3))).toEqual([0, 1, 2].map((k) => expected(SD3_PREVIEW_BIAS[k] + SD3_PREVIEW_FACTORS[2][k])));
    expect(Array.from(rgb.slice(3))).toEqual([0, 1, 2].map((k) => expected(SD3_PREVIEW_BIAS[k])));
    expect(SD3_PREVIEW_FACTORS[15]).toEqual([-0.1448, -0.1463, -0.1189]);
  });
});
