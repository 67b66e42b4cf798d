/**
 * MMDiT configuration from key → shape maps (headers only, no weights): the three published sizes
 * written out from spec/sd3-engine.md §1.4–1.5 (independently of engine/arch/mmdit-config.ts's
 * own shape table), their diffusers-format twins (§1.6), prefixes, and broken checkpoints.
 */
import { describe, expect, it } from 'vitest';
import { detectMmditConfig, locateMmdit, type MmditConfig } from '../../engine/arch/mmdit-config.js';

type Shapes = Map<string, number[]>;

interface Published {
  depth: number;
  posMax: number;
  qkNorm: boolean;
  dual: number[];
}

const SD3_MEDIUM: Published = { depth: 24, posMax: 192, qkNorm: false, dual: [] };
const SD35_MEDIUM: Published = { depth: 24, posMax: 384, qkNorm: true, dual: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] };
const SD35_LARGE: Published = { depth: 38, posMax: 192, qkNorm: true, dual: [] };

/** Spec §1.5 table, key by key (prefix added by the caller). */
function publishedShapes(m: Published, prefix = 'model.diffusion_model.'): Shapes {
  const D = 64 * m.depth;
  const s: Shapes = new Map();
  const set = (k: string, shape: number[]) => s.set(prefix + k, shape);
  const lin = (k: string, out: number, inp: number) => (set(`${k}.weight`, [out, inp]), set(`${k}.bias`, [out]));
  set('x_embedder.proj.weight', [D, 16, 2, 2]);
  set('x_embedder.proj.bias', [D]);
  set('pos_embed', [1, m.posMax * m.posMax, D]);
  lin('t_embedder.mlp.0', D, 256);
  lin('t_embedder.mlp.2', D, D);
  lin('y_embedder.mlp.0', D, 2048);
  lin('y_embedder.mlp.2', D, D);
  lin('context_embedder', D, 4096);
  for (let i = 0; i < m.depth; i++) {
    const last = i === m.depth - 1;
    for (const b of ['context_block', 'x_block']) {
      const p = `joint_blocks.${i}.${b}`;
      const preOnly = last && b === 'context_block';
      const dual = b === 'x_block' && m.dual.includes(i);
      lin(`${p}.adaLN_modulation.1`, (preOnly ? 2 : dual ? 9 : 6) * D, D);
      lin(`${p}.attn.qkv`, 3 * D, D);
      if (m.qkNorm) (set(`${p}.attn.ln_q.weight`, [64]), set(`${p}.attn.ln_k.weight`, [64]));
      if (!preOnly) {
        lin(`${p}.attn.proj`, D, D);
        lin(`${p}.mlp.fc1`, 4 * D, D);
        lin(`${p}.mlp.fc2`, D, 4 * D);
      }
      if (dual) {
        lin(`${p}.attn2.qkv`, 3 * D, D);
        lin(`${p}.attn2.proj`, D, D);
        set(`${p}.attn2.ln_q.weight`, [64]);
        set(`${p}.attn2.ln_k.weight`, [64]);
      }
    }
  }
  lin('final_layer.adaLN_modulation.1', 2 * D, D);
  lin('final_layer.linear', 64, D);
  return s;
}

/** The same model under diffusers names (§1.6): q/k/v separate, no prefix. */
function diffusersShapes(m: Published): Shapes {
  const D = 64 * m.depth;
  const s: Shapes = new Map();
  const lin = (k: string, out: number, inp: number) => (s.set(`${k}.weight`, [out, inp]), s.set(`${k}.bias`, [out]));
  s.set('pos_embed.proj.weight', [D, 16, 2, 2]);
  s.set('pos_embed.proj.bias', [D]);
  s.set('pos_embed.pos_embed', [1, m.posMax * m.posMax, D]);
  lin('time_text_embed.timestep_embedder.linear_1', D, 256);
  lin('time_text_embed.timestep_embedder.linear_2', D, D);
  lin('time_text_embed.text_embedder.linear_1', D, 2048);
  lin('time_text_embed.text_embedder.linear_2', D, D);
  lin('context_embedder', D, 4096);
  lin('norm_out.linear', 2 * D, D);
  lin('proj_out', 64, D);
  for (let i = 0; i < m.depth; i++) {
    const p = `transformer_blocks.${i}`;
    const last = i === m.depth - 1;
    for (const q of ['to_q', 'to_k', 'to_v', 'add_q_proj', 'add_k_proj', 'add_v_proj']) lin(`${p}.attn.${q}`, D, D);
    lin(`${p}.attn.to_out.0`, D, D);
    lin(`${p}.norm1.linear`, (m.dual.includes(i) ? 9 : 6) * D, D);
    lin(`${p}.norm1_context.linear`, (last ? 2 : 6) * D, D);
    lin(`${p}.ff.net.0.proj`, 4 * D, D);
    lin(`${p}.ff.net.2`, D, 4 * D);
    if (!last) {
      lin(`${p}.attn.to_add_out`, D, D);
      lin(`${p}.ff_context.net.0.proj`, 4 * D, D);
      lin(`${p}.ff_context.net.2`, D, 4 * D);
    }
    if (m.qkNorm) for (const n of ['norm_q', 'norm_k', 'norm_added_q', 'norm_added_k']) s.set(`${p}.attn.${n}.weight`, [64]);
    if (m.dual.includes(i)) {
      for (const q of ['to_q', 'to_k', 'to_v']) lin(`${p}.attn2.${q}`, D, D);
      lin(`${p}.attn2.to_out.0`, D, D);
      s.set(`${p}.attn2.norm_q.weight`, [64]);
      s.set(`${p}.attn2.norm_k.weight`, [64]);
    }
  }
  return s;
}

function expectedConfig(m: Published, prefix: string, keyFormat: MmditConfig['keyFormat'] = 'original'): MmditConfig {
  const D = 64 * m.depth;
  return {
    keyFormat,
    prefix,
    hiddenSize: D,
    numHeads: m.depth,
    headDim: 64,
    depth: m.depth,
    patchSize: 2,
    inChannels: 16,
    outChannels: 16,
    posEmbedMaxSize: m.posMax,
    contextInChannels: 4096,
    admInChannels: 2048,
    mlpHiddenSize: 4 * D,
    qkNorm: m.qkNorm ? 'rms' : null,
    dualAttentionBlocks: m.dual,
    preOnlyLastContextBlock: true,
  };
}

/** Other components of an all-in-one checkpoint (§1.2), which detection must ignore. */
function withOtherComponents(s: Shapes): Shapes {
  const out = new Map(s);
  out.set('first_stage_model.decoder.conv_in.weight', [512, 16, 3, 3]);
  out.set('text_encoders.clip_l.transformer.text_model.final_layer_norm.weight', [768]);
  out.set('text_encoders.t5xxl.transformer.encoder.final_layer_norm.weight', [4096]);
  return out;
}

describe('MMDiT config detection: the three published sizes', () => {
  const cases: [string, Published][] = [
    ['SD3 Medium', SD3_MEDIUM],
    ['SD3.5 Medium (MMDiT-X)', SD35_MEDIUM],
    ['SD3.5 Large', SD35_LARGE],
  ];
  for (const [name, m] of cases) {
    it(`${name}: all-in-one checkpoint (model.diffusion_model.)`, () => {
      expect(detectMmditConfig(withOtherComponents(publishedShapes(m)))).toEqual(expectedConfig(m, 'model.diffusion_model.'));
    });
    it(`${name}: standalone diffusion model (no prefix), as a plain object`, () => {
      expect(detectMmditConfig(Object.fromEntries(publishedShapes(m, '')))).toEqual(expectedConfig(m, ''));
    });
    it(`${name}: diffusers transformer keys`, () => {
      expect(detectMmditConfig(diffusersShapes(m))).toEqual(expectedConfig(m, '', 'diffusers'));
    });
  }

  it('tells the three apart by pos_embed, qk-norm and attn2', () => {
    const [a, b, c] = [SD3_MEDIUM, SD35_MEDIUM, SD35_LARGE].map((m) => detectMmditConfig(publishedShapes(m)));
    expect([a.posEmbedMaxSize, b.posEmbedMaxSize, c.posEmbedMaxSize]).toEqual([192, 384, 192]);
    expect([a.qkNorm, b.qkNorm, c.qkNorm]).toEqual([null, 'rms', 'rms']);
    expect([a.dualAttentionBlocks.length, b.dualAttentionBlocks.length, c.dualAttentionBlocks.length]).toEqual([0, 13, 0]);
    expect([a.hiddenSize, c.hiddenSize]).toEqual([1536, 2432]);
  });

  it('accepts scaled-FP8 scale tensors and the marker', () => {
    const s = publishedShapes(SD35_LARGE);
    s.set('model.diffusion_model.scaled_fp8', [0]);
    s.set('model.diffusion_model.joint_blocks.3.x_block.attn.qkv.scale_weight', []);
    s.set('model.diffusion_model.joint_blocks.3.x_block.attn.qkv.scale_input', [1]);
    expect(detectMmditConfig(s).depth).toBe(38);
  });
});

describe('MMDiT config detection: broken or foreign checkpoints name the key', () => {
  const P = 'model.diffusion_model.';
  it('a missing tensor', () => {
    const s = publishedShapes(SD3_MEDIUM);
    s.delete(`${P}joint_blocks.7.x_block.mlp.fc2.bias`);
    expect(() => detectMmditConfig(s)).toThrow(/missing tensor 'joint_blocks\.7\.x_block\.mlp\.fc2\.bias' \(expected shape \[1536\]\)/);
  });
  it('a wrong shape, with both shapes', () => {
    const s = publishedShapes(SD3_MEDIUM);
    s.set(`${P}joint_blocks.2.context_block.attn.qkv.weight`, [4608, 1535]);
    expect(() => detectMmditConfig(s)).toThrow(/'joint_blocks\.2\.context_block\.attn\.qkv\.weight' has shape \[4608, 1535\], expected \[4608, 1536\]/);
  });
  it('an unexpected tensor', () => {
    const s = publishedShapes(SD3_MEDIUM);
    s.set(`${P}joint_blocks.23.context_block.mlp.fc1.weight`, [6144, 1536]);
    expect(() => detectMmditConfig(s)).toThrow(/unexpected tensor 'joint_blocks\.23\.context_block\.mlp\.fc1\.weight'/);
  });
  it('a non-square pos_embed and a hidden size not a multiple of 64', () => {
    const s = publishedShapes(SD3_MEDIUM);
    s.set(`${P}pos_embed`, [1, 1000, 1536]);
    expect(() => detectMmditConfig(s)).toThrow(/'pos_embed' holds 1000 positions, not a square grid/);
    const t = publishedShapes(SD3_MEDIUM);
    t.set(`${P}x_embedder.proj.weight`, [1500, 16, 2, 2]);
    expect(() => detectMmditConfig(t)).toThrow(/x_embedder\.proj\.weight.*1500/);
  });
  it('not an MMDiT at all (a UNet / VAE)', () => {
    const s = new Map([
      ['model.diffusion_model.input_blocks.0.0.weight', [320, 4, 3, 3]],
      ['first_stage_model.decoder.conv_in.weight', [512, 4, 3, 3]],
    ]);
    expect(() => detectMmditConfig(s)).toThrow(/not an MMDiT checkpoint: no key ends in 'joint_blocks\.0\.context_block\.attn\.qkv\.weight'/);
  });
  it('an unknown diffusers key', () => {
    const s = diffusersShapes(SD3_MEDIUM);
    s.set('transformer_blocks.0.attn.to_mystery.weight', [1536, 1536]);
    expect(() => detectMmditConfig(s)).toThrow(/unknown key\(s\) transformer_blocks\.0\.attn\.to_mystery\.weight/);
  });
  it('picks the most populated prefix', () => {
    const s = new Map([...publishedShapes(SD3_MEDIUM), ...publishedShapes(SD3_MEDIUM, 'model.model.').entries()].slice(0, -3));
    expect(locateMmdit(s.keys()).prefix).toBe('model.diffusion_model.');
  });
});
