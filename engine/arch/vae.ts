/**
 * The SD3 / SD3.5 VAE (16-channel latent, no quant convs; spec/sd3-engine.md §4.2–4.3) as two ONNX
 * graphs, encoder and decoder. Definition only; channel counts, level count and blocks per level
 * come from the conv shapes, so smaller test VAEs build too.
 *
 * Encoder graph: pixels float32 [B, 3, H, W] in [−1, 1] → moments [B, 2·z, H/8, W/8] (mean ‖ logvar).
 * Decoder graph: latent float32 [B, z, h, w] (VAE space, not the model's scaled space) → decoded
 * [B, 3, 8h, 8w] in ≈[−1, 1]. Pixel conventions and tiling live in engine/models/vae-runner.ts.
 */
import * as op from '../onnx/index.js';
import type { GraphBuilder, Value } from '../onnx/index.js';

export interface VaeConfig {
  /** Output channels per level, e.g. [128, 256, 512, 512]. */
  channels: number[];
  encoderBlocks: number;
  decoderBlocks: number;
  latentChannels: number;
  imageChannels: number;
}

export interface VaeParams {
  tensor(key: string): Value;
}

const GN_GROUPS = 32;
const GN_EPS = 1e-6;

export function vaeConfigFromShapes(shapes: ReadonlyMap<string, readonly number[]>): VaeConfig {
  const need = (key: string): readonly number[] => {
    const s = shapes.get(key);
    if (!s) throw new Error(`VAE weights: missing '${key}' (an SD3 VAE has encoder.* and decoder.* in the ldm layout)`);
    return s;
  };
  const channels: number[] = [];
  while (shapes.has(`encoder.down.${channels.length}.block.0.conv1.weight`)) channels.push(need(`encoder.down.${channels.length}.block.0.conv1.weight`)[0]);
  if (channels.length === 0) need('encoder.down.0.block.0.conv1.weight');
  const count = (prefix: string) => {
    let n = 0;
    while (shapes.has(`${prefix}.block.${n}.conv1.weight`)) n++;
    return n;
  };
  return {
    channels,
    encoderBlocks: count('encoder.down.0'),
    decoderBlocks: count('decoder.up.0'),
    latentChannels: need('decoder.conv_in.weight')[1],
    imageChannels: need('encoder.conv_in.weight')[1],
  };
}

interface Ctx {
  g: GraphBuilder;
  p: VaeParams;
}

const t = (c: Ctx, key: string) => c.p.tensor(key);

function conv(c: Ctx, name: string, x: Value, opts: op.ConvOptions = {}): Value {
  return op.conv(c.g, x, t(c, `${name}.weight`), t(c, `${name}.bias`), opts);
}

const conv3 = (c: Ctx, name: string, x: Value) => conv(c, name, x, { pads: [1, 1, 1, 1] });

function normAct(c: Ctx, name: string, x: Value): Value {
  return op.silu(c.g, op.groupNorm(c.g, x, t(c, `${name}.weight`), t(c, `${name}.bias`), GN_GROUPS, { epsilon: GN_EPS }));
}

function resBlock(c: Ctx, name: string, x: Value, hasShortcut: boolean): Value {
  const h = conv3(c, `${name}.conv2`, normAct(c, `${name}.norm2`, conv3(c, `${name}.conv1`, normAct(c, `${name}.norm1`, x))));
  return op.add(c.g, hasShortcut ? conv(c, `${name}.nin_shortcut`, x) : x, h);
}

/** Single-head attention over the H·W positions, scale 1/√C. */
function attnBlock(c: Ctx, name: string, x: Value, channels: number): Value {
  const { g } = c;
  const h = op.groupNorm(g, x, t(c, `${name}.norm.weight`), t(c, `${name}.norm.bias`), GN_GROUPS, { epsilon: GN_EPS });
  const flat = (v: Value) => op.reshape(g, v, [0, 0, -1]); // [B, C, HW]
  const q = op.transpose(g, flat(conv(c, `${name}.q`, h)), [0, 2, 1]); // [B, HW, C]
  const k = flat(conv(c, `${name}.k`, h)); // [B, C, HW]
  const v = op.transpose(g, flat(conv(c, `${name}.v`, h)), [0, 2, 1]); // [B, HW, C]
  const weights = op.softmax(g, op.mul(g, op.matMul(g, q, k), op.scalar(g, 1 / Math.sqrt(channels))), -1);
  const out = op.reshape(g, op.transpose(g, op.matMul(g, weights, v), [0, 2, 1]), op.shape(g, x)); // [B, C, H, W]
  return op.add(g, x, conv(c, `${name}.proj_out`, out));
}

function mid(c: Ctx, prefix: string, x: Value, channels: number): Value {
  const a = resBlock(c, `${prefix}.mid.block_1`, x, false);
  return resBlock(c, `${prefix}.mid.block_2`, attnBlock(c, `${prefix}.mid.attn_1`, a, channels), false);
}

export function defineVaeEncoder(g: GraphBuilder, cfg: VaeConfig, p: VaeParams): void {
  const c: Ctx = { g, p };
  const pixels = g.input('pixels', 'float32', ['batch', cfg.imageChannels, 'height', 'width']);
  let x = conv3(c, 'encoder.conv_in', pixels);
  let cin = cfg.channels[0];
  cfg.channels.forEach((cout, level) => {
    for (let b = 0; b < cfg.encoderBlocks; b++) {
      x = resBlock(c, `encoder.down.${level}.block.${b}`, x, cin !== cout);
      cin = cout;
    }
    if (level !== cfg.channels.length - 1) {
      const padded = op.pad(g, x, { pads: [0, 0, 0, 0, 0, 0, 1, 1] }); // right and bottom only
      x = conv(c, `encoder.down.${level}.downsample.conv`, padded, { strides: [2, 2] });
    }
  });
  x = mid(c, 'encoder', x, cin);
  x = conv3(c, 'encoder.conv_out', normAct(c, 'encoder.norm_out', x));
  g.output(x, 'float32', ['batch', 2 * cfg.latentChannels, 'latent_height', 'latent_width'], 'moments');
}

export function defineVaeDecoder(g: GraphBuilder, cfg: VaeConfig, p: VaeParams): void {
  const c: Ctx = { g, p };
  const latent = g.input('latent', 'float32', ['batch', cfg.latentChannels, 'height', 'width']);
  let cin = cfg.channels[cfg.channels.length - 1];
  let x = mid(c, 'decoder', conv3(c, 'decoder.conv_in', latent), cin);
  for (let level = cfg.channels.length - 1; level >= 0; level--) {
    const cout = cfg.channels[level];
    for (let b = 0; b < cfg.decoderBlocks; b++) {
      x = resBlock(c, `decoder.up.${level}.block.${b}`, x, cin !== cout);
      cin = cout;
    }
    if (level !== 0) {
      const up = op.resize(g, x, { scales: [1, 1, 2, 2], mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' });
      x = conv3(c, `decoder.up.${level}.upsample.conv`, up);
    }
  }
  x = conv3(c, 'decoder.conv_out', normAct(c, 'decoder.norm_out', x));
  g.output(x, 'float32', ['batch', cfg.imageChannels, 'image_height', 'image_width'], 'decoded');
}
