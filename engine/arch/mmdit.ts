/**
 * MMDiT (SD3 / SD3.5 Medium MMDiT-X / SD3.5 Large) forward pass as an ONNX graph: definition only.
 *
 * Mirrors ComfyUI `comfy/ldm/modules/diffusionmodules/mmdit.py` (PatchEmbed, TimestepEmbedder,
 * VectorEmbedder, DismantledBlock, JointBlock/block_mixing, FinalLayer, MMDiT.forward), itself
 * derived from Stability-AI/sd3.5 `mmditx.py`, as paraphrased in spec/sd3-engine.md §2.
 * Dims come from MmditConfig (engine/arch/mmdit-config.ts): SD3 Medium D = 1536, 24 heads of 64,
 * 24 blocks; SD3.5 Large D = 2432, 38 blocks; context 4096, pooled 2048, patch 2, 16 channels.
 *
 * Graph: x [B, 16, H, W], timesteps [B] (= σ·1000), context [B, T, C_ctx], y [B, C_adm],
 *        pos [N, D] (pos_embed's crop for the ⌈H/2⌉×⌈W/2⌉ patch grid)
 *        → out [B, 16, H, W] (the velocity), with B, H, W, T symbolic: one session, every size.
 * All activations are float32: LayerNorm, RMSNorm and softmax run in float32 (DESIGN.md). Weights
 * come from MmditParams: a Linear is either float32 or FP8 + float32 scale, dequantised next to its
 * MatMul (DequantizeLinear) and tied to the layer's input so only one layer's float weights live
 * at a time (engine/onnx/ops-quant.ts `oneAfter`). Which layers are FP8 is the params' business.
 *
 * Module names are checkpoint keys without prefix (`joint_blocks.3.x_block.adaLN_modulation.1`),
 * so the weight source is a dictionary lookup.
 */
import * as op from '../onnx/index.js';
import type { GraphBuilder, Value } from '../onnx/index.js';
import { TIMESTEP_EMBED_DIM, type MmditConfig } from './mmdit-config.js';

/** One Linear's graph values: float32 weight [out, in], or FP8 weight [out, in] with a float32 scale. */
export interface MmditLinear {
  weight: Value;
  bias?: Value;
  /** Present for FP8 weights: [] per tensor, or [out] per output channel (`perChannel`). */
  scale?: Value;
  perChannel?: boolean;
}

/** Where the definition gets its weights (the "load weights" layer implements it). Keys have no prefix. */
export interface MmditParams {
  /** A float32 tensor value (x_embedder conv, qk-norm weights). */
  tensor(key: string): Value;
  /** The Linear layer `stem` (`stem.weight`, `stem.bias`). */
  linear(stem: string): MmditLinear;
}

/**
 * 'fused': onnxruntime's MultiHeadAttention (com.microsoft), one kernel per attention that tiles
 * over keys on the CPU (flash-style), so no [B, heads, L, L] score tensor is made: 140 GFLOP/s and
 * 0.6 GiB peak at SD3.5 Medium's 1024² sizes against 100 GFLOP/s and 1.9 GiB for the standard ops
 * in 8-head chunks (measured here). 'standard': MatMul/Softmax/MatMul from the ONNX standard, for
 * runtimes without the contrib op, optionally in head chunks.
 */
export type MmditAttention = 'fused' | 'standard';

export interface MmditGraphOptions {
  /** Also output the embedder results and block 0's outputs (for stage-by-stage parity tests). */
  debugOutputs?: boolean;
  /** Tie each FP8 dequantisation to its layer's input (default true; see ops-quant.ts oneAfter). */
  orderedDequantize?: boolean;
  /** Default 'fused'. */
  attention?: MmditAttention;
  /**
   * 'standard' attention only: heads per chunk (default: all heads at once). Chunks run one after another, so the
   * [B, heads, L, L] scores exist for `attentionHeadsPerChunk` heads at a time; the math per head
   * is unchanged. At 1024² (L ≈ 4.4k) all 38 heads of SD3.5 Large need ≈ 6 GB of scores per call.
   */
  attentionHeadsPerChunk?: number;
}

/** `pos`: pos_embed's centre crop for the patch grid, [h·w, D] float32 (see patchEmbed). */
export const MMDIT_INPUTS = ['x', 'timesteps', 'context', 'y', 'pos'] as const;
export const MMDIT_OUTPUT = 'out';
export const MMDIT_DEBUG_OUTPUTS = ['debug.x_embed', 'debug.c', 'debug.context_embed', 'debug.block0.x', 'debug.block0.context'] as const;

const LN_EPS = 1e-6;
const END = Number.MAX_SAFE_INTEGER;

/** Per-graph state shared by the module functions. */
interface Ctx {
  g: GraphBuilder;
  p: MmditParams;
  cfg: MmditConfig;
  ordered: boolean;
  attention: MmditAttention;
  headsPerChunk: number;
  /** float32 ones [D]: LayerNormalization needs a scale; SD3's norms have no affine. */
  lnOnes: Value;
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/**
 * torch.nn.Linear over the last dim: x [..., in] → [..., out]. An FP8 weight is dequantised next
 * to its Gemm, tied to `after` (default: x) so it is made only when the layer is about to run;
 * the adaLN layers pass their block's stream input, since their own input (SiLU(c)) exists from
 * the start and would otherwise let every block's modulation weights be dequantised at once.
 *
 * `fewRows`: x has one row per batch item (the adaLN modulations: 35 % of SD3.5 Medium's FP8
 * weights, each used for 2 rows per step). Then the FP8 codes are only Cast to float32 and the
 * scale multiplies the [B, out] result instead of the [out, in] weight: (x·Wᵀ)·diag(s) =
 * x·(diag(s)·W)ᵀ. Alone, Cast decoded a weight in ≈ 1 ns against ≈ 4 ns for per-channel
 * DequantizeLinear; in a 2-block SD3.5-Medium-shaped model the weight decoding took 234 ms per
 * 512² step this way against 252 ms with DequantizeLinear everywhere. The MLPs' fc2 goes the same
 * way: its [N, out] result is smaller than its [out, in] weight while N < in (6144 for SD3.5
 * Medium; a 512² CFG step has N = 2356).
 */
function linear(c: Ctx, stem: string, x: Value, opts: { after?: Value; fewRows?: boolean } = {}): Value {
  const { g } = c;
  const l = c.p.linear(stem);
  const after = opts.after ?? x;
  const lead = op.shape(g, x, { end: -1 }); // [...]
  const rows = op.reshape(g, x, op.concat(g, [op.int64s(g, [-1]), op.shape(g, x, { start: -1 })], 0)); // [N, in]
  let y: Value; // [N, out]
  if (l.scale !== undefined && (opts.fewRows || stem.endsWith('.mlp.fc2')) && c.ordered) {
    const codes = op.castAfter(g, l.weight, after); // float32 [out, in], unscaled
    y = op.add(g, op.mul(g, op.gemm(g, rows, codes, undefined, { transB: true }), l.scale), l.bias ?? op.scalar(g, 0));
  } else {
    let w = l.weight; // [out, in]
    if (l.scale !== undefined) {
      const axis = l.perChannel ? 0 : undefined;
      w = c.ordered ? op.dequantizeAfter(g, l.weight, l.scale, after, { axis }) : op.dequantizeLinear(g, l.weight, l.scale, { axis });
    }
    y = op.gemm(g, rows, w, l.bias, { transB: true }); // Gemm reads W [out, in] in place
  }
  return op.reshape(g, y, op.concat(g, [lead, op.shape(g, l.weight, { end: 1 })], 0)); // [..., out]
}

/** LayerNorm over the last dim, no affine, eps 1e-6 (norm1/norm2/norm_final). */
function layerNorm(c: Ctx, x: Value): Value {
  return op.layerNorm(c.g, x, c.lnOnes, undefined, { epsilon: LN_EPS });
}

/** x·(1 + scale) + shift with shift/scale [B, D] broadcast over tokens: x [B, L, D] → [B, L, D]. */
function modulate(c: Ctx, x: Value, shift: Value, scale: Value): Value {
  const { g } = c;
  const onePlus = op.add(g, op.scalar(g, 1), op.unsqueeze(g, scale, [1])); // [B, 1, D]
  return op.add(g, op.mul(g, x, onePlus), op.unsqueeze(g, shift, [1])); // [B, L, D]
}

/** adaLN_modulation: Linear(SiLU(c)) split into `chunks` D-wide pieces, in ComfyUI's order. */
function modulation(c: Ctx, stem: string, siluC: Value, chunks: number, streamIn: Value): Value[] {
  const m = linear(c, `${stem}.adaLN_modulation.1`, siluC, { after: streamIn, fewRows: true }); // [B, chunks·D]
  return op.split(c.g, m, 1, { parts: chunks }); // chunks × [B, D]
}

/** gate [B, D] · y [B, L, D] added to the residual x. */
function gatedAdd(c: Ctx, x: Value, gate: Value, y: Value): Value {
  return op.add(c.g, x, op.mul(c.g, op.unsqueeze(c.g, gate, [1]), y)); // [B, L, D]
}

// ---------------------------------------------------------------------------------------------
// Embedders (spec §2.2–2.6)

/**
 * PatchEmbed plus the positional embedding: x [B, C, H, W] → tokens [B, N, D], and the patch grid
 * [h, w] (int64 [2]). `pos` [N, D] is pos_embed's centre crop for this grid, cut by the runner
 * (engine/models/mmdit-pos-embed.ts) so the M×M table never enters the session.
 */
function patchEmbed(c: Ctx, x: Value, pos: Value): { tokens: Value; grid: Value } {
  const { g, cfg } = c;
  const p = cfg.patchSize;
  // ComfyUI pads an odd latent bottom/right (reflect) to whole patches; 0 for even sizes.
  const hw = op.shape(g, x, { start: 2 }); // [H, W]
  const pp = op.int64s(g, [p, p]);
  const padAmount = op.sub(g, op.mul(g, op.div(g, op.add(g, hw, op.int64s(g, [p - 1, p - 1])), pp), pp), hw); // ceil(H/p)·p − H
  const padded = op.pad(g, x, { pads: op.concat(g, [op.int64s(g, [0, 0]), padAmount], 0), mode: 'reflect', axes: [2, 3] });
  const w = c.p.tensor('x_embedder.proj.weight'); // [D, C, p, p]
  const patches = op.conv(g, padded, w, c.p.tensor('x_embedder.proj.bias'), { strides: [p, p] }); // [B, D, h, w]
  const grid = op.shape(g, patches, { start: 2 }); // [h, w]
  const tokens = op.transpose(g, op.reshape(g, patches, [0, 0, -1]), [0, 2, 1]); // [B, N, D]
  return { tokens: op.add(g, tokens, pos), grid };
}

/**
 * The float32 sinusoid frequencies exactly as torch computes them:
 * exp(fl(j · fl(−ln 10000)) / 128), j = 0…127 (a float32 tensor times a Python float rounds the
 * scalar to float32 first). Math.exp then one rounding; torch's float exp agrees to ≤ 1 ulp.
 */
export function timestepFrequencies(dim = TIMESTEP_EMBED_DIM, maxPeriod = 10000): Float32Array {
  const half = dim / 2;
  const negLog = Math.fround(-Math.log(maxPeriod));
  return Float32Array.from({ length: half }, (_, j) => Math.fround(Math.exp(Math.fround(Math.fround(j * negLog) / half))));
}

/** TimestepEmbedder: t [B] → [cos(t·f), sin(t·f)] [B, 256] → Linear → SiLU → Linear → [B, D]. */
function timestepEmbed(c: Ctx, t: Value): Value {
  const { g } = c;
  const freqs = g.constant({ dtype: 'float32', shape: [TIMESTEP_EMBED_DIM / 2], data: timestepFrequencies() }, 'timestep_freqs');
  const args = op.mul(g, op.unsqueeze(g, t, [1]), freqs); // [B, 128]
  const emb = op.concat(g, [g.node('Cos', [args])[0], g.node('Sin', [args])[0]], 1); // [B, 256], cosine half first
  return linear(c, 't_embedder.mlp.2', op.silu(g, linear(c, 't_embedder.mlp.0', emb))); // [B, D]
}

/** VectorEmbedder for the pooled text vector: y [B, adm] → [B, D]. */
function pooledEmbed(c: Ctx, y: Value): Value {
  return linear(c, 'y_embedder.mlp.2', op.silu(c.g, linear(c, 'y_embedder.mlp.0', y))); // [B, D]
}

// ---------------------------------------------------------------------------------------------
// Attention (spec §2.7 step 2–3, §2.8)

interface Qkv {
  q: Value; // [B, L, heads, 64]
  k: Value; // [B, L, heads, 64]
  v: Value; // [B, L, heads, 64]
}

/** SelfAttention.pre_attention: qkv Linear, split into heads, RMS qk-norm over the head dim. */
function preAttention(c: Ctx, stem: string, u: Value): Qkv {
  const { g, cfg } = c;
  const qkv = linear(c, `${stem}.qkv`, u); // [B, L, 3D]
  const heads = op.reshape(g, qkv, [0, 0, 3, cfg.numHeads, cfg.headDim]); // [B, L, 3, heads, 64]
  const [q, k, v] = op.split(g, heads, 2, { parts: 3 }).map((t) => op.squeeze(g, t, [2])); // [B, L, heads, 64] each
  const norm = (t: Value, w: string) => (cfg.qkNorm ? op.rmsNorm(g, t, c.p.tensor(`${stem}.${w}.weight`), { epsilon: 1e-6 }) : t);
  return { q: norm(q, 'ln_q'), k: norm(k, 'ln_k'), v };
}

/** softmax(q·kᵀ/√64)·v per head, heads merged head-major: → [B, L, D]. */
function attention(c: Ctx, a: Qkv): Value {
  const { g, cfg } = c;
  const scale = 1 / Math.sqrt(cfg.headDim);
  const H = cfg.numHeads;
  if (c.attention === 'fused') {
    const merged = (t: Value) => op.reshape(g, t, [0, 0, cfg.hiddenSize]); // [B, L, heads·64], head-major
    return op.multiHeadAttention(g, merged(a.q), merged(a.k), merged(a.v), { numHeads: H, scale }); // [B, L, D]
  }
  const [q, k, v] = [a.q, a.k, a.v].map((t) => op.transpose(g, t, [0, 2, 1, 3])); // [B, heads, L, 64]
  let o: Value; // [B, heads, L, 64]
  if (c.headsPerChunk >= H) {
    o = op.scaledDotProductAttention(g, q, k, v, { scale });
  } else {
    const sizes = Array.from({ length: Math.ceil(H / c.headsPerChunk) }, (_, i) => Math.min(c.headsPerChunk, H - i * c.headsPerChunk));
    const [qs, ks, vs] = [q, k, v].map((t) => op.split(g, t, 1, { sizes })); // each chunk [B, h, L, 64]
    const outs: Value[] = [];
    for (let i = 0; i < sizes.length; i++) {
      // q · 1, the 1 taken from the previous chunk's output: chunk i waits for chunk i−1 (ops-quant.ts oneAfter).
      const qi = i === 0 ? qs[i] : op.mul(g, qs[i], op.oneAfter(g, outs[i - 1]));
      outs.push(op.scaledDotProductAttention(g, qi, ks[i], vs[i], { scale })); // [B, h, L, 64]
    }
    o = op.concat(g, outs, 1);
  }
  return op.reshape(g, op.transpose(g, o, [0, 2, 1, 3]), [0, 0, cfg.hiddenSize]); // [B, L, D]
}

/** Context tokens first, then image tokens, along the sequence axis: [B, T+N, heads, 64]. */
function joinStreams(c: Ctx, ctx: Qkv, x: Qkv): Qkv {
  const cat = (a: Value, b: Value) => op.concat(c.g, [a, b], 1);
  return { q: cat(ctx.q, x.q), k: cat(ctx.k, x.k), v: cat(ctx.v, x.v) };
}

/** Mlp: fc2(GELU_tanh(fc1(u))). */
function mlp(c: Ctx, stem: string, u: Value): Value {
  return linear(c, `${stem}.mlp.fc2`, op.gelu(c.g, linear(c, `${stem}.mlp.fc1`, u), 'tanh'));
}

// ---------------------------------------------------------------------------------------------
// Joint block (spec §2.7, §2.8)

/** DismantledBlock.post_attention: attention projection and MLP, each gated, on the residual s. */
function postAttention(c: Ctx, stem: string, s: Value, attn: Value, m: Value[], extra?: { attn2: Value }): Value {
  let out = gatedAdd(c, s, m[2], linear(c, `${stem}.attn.proj`, attn)); // [B, L, D]
  if (extra) out = gatedAdd(c, out, m[8], linear(c, `${stem}.attn2.proj`, extra.attn2)); // MMDiT-X: gate_msa2
  return gatedAdd(c, out, m[5], mlp(c, stem, modulate(c, layerNorm(c, out), m[3], m[4]))); // [B, L, D]
}

/** block_mixing: x [B, N, D], ctx [B, T, D] → updated x, and ctx (undefined after the pre-only last block). */
function jointBlock(c: Ctx, i: number, x: Value, ctx: Value, siluC: Value): { x: Value; ctx?: Value } {
  const { g, cfg } = c;
  const pc = `joint_blocks.${i}.context_block`;
  const px = `joint_blocks.${i}.x_block`;
  const preOnly = i === cfg.depth - 1 && cfg.preOnlyLastContextBlock;
  const dual = cfg.dualAttentionBlocks.includes(i);
  const mc = modulation(c, pc, siluC, preOnly ? 2 : 6, ctx); // shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp
  const mx = modulation(c, px, siluC, dual ? 9 : 6, x); // … then shift_msa2, scale_msa2, gate_msa2
  const ctxNorm = layerNorm(c, ctx); // [B, T, D]
  const xNorm = layerNorm(c, x); // [B, N, D]
  const qkvCtx = preAttention(c, `${pc}.attn`, modulate(c, ctxNorm, mc[0], mc[1]));
  const qkvX = preAttention(c, `${px}.attn`, modulate(c, xNorm, mx[0], mx[1]));
  const joint = attention(c, joinStreams(c, qkvCtx, qkvX)); // [B, T+N, D]
  const T = op.shape(g, ctx, { start: 1, end: 2 }); // [T]
  const ctxAttn = op.slice(g, joint, { starts: [0], ends: T, axes: [1] }); // [B, T, D]
  const xAttn = op.slice(g, joint, { starts: T, ends: [END], axes: [1] }); // [B, N, D]
  const attn2 = dual ? { attn2: attention(c, preAttention(c, `${px}.attn2`, modulate(c, xNorm, mx[6], mx[7]))) } : undefined;
  const xOut = postAttention(c, px, x, xAttn, mx, attn2);
  if (preOnly) return { x: xOut };
  return { x: xOut, ctx: postAttention(c, pc, ctx, ctxAttn, mc) };
}

// ---------------------------------------------------------------------------------------------
// Final layer, unpatchify (spec §2.9)

/** FinalLayer: x [B, N, D] → [B, N, p²·C_out]. */
function finalLayer(c: Ctx, x: Value, siluC: Value): Value {
  const [shift, scale] = modulation(c, 'final_layer', siluC, 2, x); // shift first
  return linear(c, 'final_layer.linear', modulate(c, layerNorm(c, x), shift, scale)); // [B, N, p²·C]
}

/** [B, N, p²·C] → [B, C, h·p, w·p] (feature index (a·p + b)·C + ch), cropped to the input's [H, W]. */
function unpatchify(c: Ctx, o: Value, grid: Value, x: Value): Value {
  const { g, cfg } = c;
  const p = cfg.patchSize;
  const C = cfg.outChannels;
  const batch = op.shape(g, o, { end: 1 }); // [B]
  const six = op.reshape(g, o, op.concat(g, [batch, grid, op.int64s(g, [p, p, C])], 0)); // [B, h, w, p, p, C]
  const moved = op.transpose(g, six, [0, 5, 1, 3, 2, 4]); // [B, C, h, p, w, p]
  const full = op.reshape(g, moved, op.concat(g, [batch, op.int64s(g, [C]), op.mul(g, grid, op.int64s(g, [p, p]))], 0)); // [B, C, h·p, w·p]
  return op.slice(g, full, { starts: [0, 0], ends: op.shape(g, x, { start: 2 }), axes: [2, 3] }); // [B, C, H, W]
}

// ---------------------------------------------------------------------------------------------
// The whole forward pass

/** Adds the MMDiT forward pass to `g`: inputs x, timesteps, context, y; output `out` (+ debug outputs). */
export function defineMmdit(g: GraphBuilder, cfg: MmditConfig, params: MmditParams, opts: MmditGraphOptions = {}): void {
  const D = cfg.hiddenSize;
  const lnOnes = g.constant({ dtype: 'float32', shape: [D], data: new Float32Array(D).fill(1) }, 'ln_ones');
  const headsPerChunk = opts.attentionHeadsPerChunk ?? cfg.numHeads;
  if (!Number.isInteger(headsPerChunk) || headsPerChunk < 1) throw new Error(`MMDiT: attentionHeadsPerChunk ${headsPerChunk}; give a whole number ≥ 1`);
  const attention = opts.attention ?? (opts.attentionHeadsPerChunk === undefined ? 'fused' : 'standard');
  if (attention !== 'fused' && attention !== 'standard') throw new Error(`MMDiT: attention '${String(attention)}'; valid: fused, standard`);
  const c: Ctx = { g, p: params, cfg, ordered: opts.orderedDequantize ?? true, attention, headsPerChunk, lnOnes };
  const x = g.input('x', 'float32', ['batch', cfg.inChannels, 'height', 'width']);
  const t = g.input('timesteps', 'float32', ['batch']);
  const context = g.input('context', 'float32', ['batch', 'tokens', cfg.contextInChannels]);
  const y = g.input('y', 'float32', ['batch', cfg.admInChannels]);
  const pos = g.input('pos', 'float32', ['patches', D]);

  const { tokens, grid } = patchEmbed(c, x, pos); // [B, N, D]
  const cond = op.add(g, timestepEmbed(c, t), pooledEmbed(c, y)); // [B, D]
  const siluC = op.silu(g, cond); // [B, D], shared by every adaLN_modulation
  let ctx: Value | undefined = linear(c, 'context_embedder', context); // [B, T, D]
  let xs = tokens;
  const debug: Value[] = [tokens, cond, ctx];
  for (let i = 0; i < cfg.depth; i++) {
    if (ctx === undefined) throw new Error(`MMDiT: block ${i} follows a pre-only context block (only the last may be)`);
    const out = jointBlock(c, i, xs, ctx, siluC);
    xs = out.x;
    ctx = out.ctx;
    if (i === 0) debug.push(xs, ctx ?? xs);
  }
  const out = unpatchify(c, finalLayer(c, xs, siluC), grid, x); // [B, C, H, W]
  g.output(out, 'float32', ['batch', cfg.outChannels, 'height', 'width'], MMDIT_OUTPUT);
  if (opts.debugOutputs) debug.forEach((v, k) => g.output(v, 'float32', undefined, MMDIT_DEBUG_OUTPUTS[k]));
}
