#!/usr/bin/python3
"""Tiny SD3-architecture (MMDiT) checkpoints and a torch reference forward pass -> test/golden/mmdit/.

Run from the repository root: `/usr/bin/python3 tools/gen-mmdit-golden.py` (Debian torch 1.13, numpy).

The reference forward below is written from spec/sd3-engine.md §2 (ComfyUI's
comfy/ldm/modules/diffusionmodules/mmdit.py as paraphrased there), in float32 on the CPU, which is
what ComfyUI computes on a CPU. It shares no code with the TypeScript engine.

Weights are not committed: every value comes from a counter-based hash (`hash_uniform`, murmur3's
fmix32 over seed ^ i*0x9E3779B9) that gives exactly representable float32 values, so the TS test
helper (test/engine/helpers/tiny-mmdit.ts) rebuilds the very same checkpoint bytes. The manifest
records the sha256 of each checkpoint this script wrote; the TS test checks its file has that hash.

Variants (the three published layouts in miniature; D = 128, 2 heads of 64, 2 joint blocks):
  sd3-tiny-f16       SD3 Medium layout: no qk-norm, no dual attention; fp16 weights.
  sd35m-tiny-bf16    SD3.5 Medium (MMDiT-X) layout: RMS qk-norm, attn2 in block 0; bf16 weights.
  sd35l-tiny-fp8     SD3.5 Large layout: RMS qk-norm; ComfyUI scaled-fp8 (block Linears and the
                     context embedder F8_E4M3 + float32 scale_weight, marker `scaled_fp8`), rest fp16.
Golden outputs per variant and input case: embedder outputs, block 0 outputs, the full forward.
"""
import hashlib
import importlib.util
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT_DIR = os.path.join(ROOT, 'test', 'golden', 'mmdit')
PREFIX = 'model.diffusion_model.'
GENERATOR = 'tools/gen-mmdit-golden.py v1'

_spec = importlib.util.spec_from_file_location('dtype_golden', os.path.join(ROOT, 'tools', 'gen-dtype-golden.py'))
_dtype_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_dtype_golden)
C10Fp8 = _dtype_golden.C10Fp8  # numpy port of c10's float -> e4m3fn (torch 1.13 has no float8)

# ----------------------------------------------------------------------------------------------
# Deterministic values (mirrored in test/engine/helpers/tiny-mmdit.ts)


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode('utf-8'):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def hash_uniform(tag, n):
    """n float32 values in [-1, 1), each (k - 2^23) * 2^-23 with k < 2^24: exact in float32."""
    seed = np.uint32(fnv1a32(tag))
    i = np.arange(n, dtype=np.uint64)
    x = (np.uint64(seed) ^ ((i * np.uint64(0x9E3779B9)) & np.uint64(0xFFFFFFFF))).astype(np.uint32)
    with np.errstate(over='ignore'):
        x ^= x >> np.uint32(16)
        x = (x.astype(np.uint64) * np.uint64(0x85EBCA6B) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        x ^= x >> np.uint32(13)
        x = (x.astype(np.uint64) * np.uint64(0xC2B2AE35) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        x ^= x >> np.uint32(16)
    k = (x >> np.uint32(8)).astype(np.int64) - (1 << 23)
    return (k.astype(np.float64) * 2.0 ** -23).astype(np.float32)


def value_kind(key):
    """(amplitude power of two, offset): what the TS helper's `valueKind` returns for the same key."""
    if key.endswith('.ln_q.weight') or key.endswith('.ln_k.weight'):
        return 2.0 ** -2, 1.0  # RMSNorm weights around 1
    if key.endswith('pos_embed'):
        return 2.0 ** -1, 0.0
    if key.endswith('.bias'):
        return 2.0 ** -4, 0.0
    if 'adaLN_modulation' in key:
        return 2.0 ** -2, 0.0  # modulation of order 0.5, so every block visibly moves the stream
    return 2.0 ** -3, 0.0


def make_value(seed_tag, key, shape):
    n = int(np.prod(shape)) if shape else 1
    amp, offset = value_kind(key)
    v = hash_uniform(f'{seed_tag}:{key}', n) * np.float32(amp)
    if offset:
        v = v + np.float32(offset)  # float32 add, rounded once (as Math.fround in TS)
    return v.astype(np.float32).reshape(shape)


# ----------------------------------------------------------------------------------------------
# Checkpoint layout (spec §1.5)


def linear_shapes(name, out_f, in_f):
    return {f'{name}.weight': [out_f, in_f], f'{name}.bias': [out_f]}


def model_shapes(cfg):
    D, ctx_in, adm, M = cfg['hidden'], cfg['context_in'], cfg['adm_in'], cfg['pos_max']
    s = {'x_embedder.proj.weight': [D, 16, 2, 2], 'x_embedder.proj.bias': [D], 'pos_embed': [1, M * M, D]}
    s.update(linear_shapes('t_embedder.mlp.0', D, 256))
    s.update(linear_shapes('t_embedder.mlp.2', D, D))
    s.update(linear_shapes('y_embedder.mlp.0', D, adm))
    s.update(linear_shapes('y_embedder.mlp.2', D, D))
    s.update(linear_shapes('context_embedder', D, ctx_in))
    for i in range(cfg['blocks']):
        last = i == cfg['blocks'] - 1
        for sub in ('context_block', 'x_block'):
            pre_only = last and sub == 'context_block'
            dual = sub == 'x_block' and i in cfg['dual']
            p = f'joint_blocks.{i}.{sub}'
            chunks = 2 if pre_only else (9 if dual else 6)
            s.update(linear_shapes(f'{p}.adaLN_modulation.1', chunks * D, D))
            attns = ['attn', 'attn2'] if dual else ['attn']
            for a in attns:
                s.update(linear_shapes(f'{p}.{a}.qkv', 3 * D, D))
                if cfg['qk_norm']:
                    s[f'{p}.{a}.ln_q.weight'] = [64]
                    s[f'{p}.{a}.ln_k.weight'] = [64]
                if not (pre_only and a == 'attn'):
                    s.update(linear_shapes(f'{p}.{a}.proj', D, D))
            if not pre_only:
                s.update(linear_shapes(f'{p}.mlp.fc1', 4 * D, D))
                s.update(linear_shapes(f'{p}.mlp.fc2', D, 4 * D))
    s.update(linear_shapes('final_layer.adaLN_modulation.1', 2 * D, D))
    s.update(linear_shapes('final_layer.linear', 64, D))
    return s


def is_fp8_layer(key):
    """Layers stored as scaled FP8 in the sd35l-tiny-fp8 variant: block Linears and the context embedder."""
    return key.endswith('.weight') and (('joint_blocks.' in key and not key.endswith('ln_q.weight')
                                          and not key.endswith('ln_k.weight')) or key == 'context_embedder.weight')


def f32_to_half_bits(a, dtype):
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dtype)
    return t.view(torch.int16).numpy().view(np.uint16)


def half_bits_to_f32(bits, dtype):
    return torch.from_numpy(bits.view(np.int16).copy()).view(dtype).to(torch.float32).numpy()


def fp8_decode(codes):
    return C10Fp8.to_f32_bits(codes.astype(np.uint32), 'e4m3fn').astype(np.uint32).view(np.float32)


def quantize_per_tensor(w):
    """ComfyUI-style scaled FP8: scale = amax/448 (float32), q = fp8(clamp(w/scale)), W = float(q)*scale."""
    amax = np.float32(np.abs(w).max())
    scale = np.float32(1.0) if amax == 0 else np.float32(amax / np.float32(448.0))
    scaled = np.clip((w / scale).astype(np.float32), np.float32(-448.0), np.float32(448.0)).astype(np.float32)
    codes = C10Fp8.from_f32(scaled.reshape(-1).view(np.uint32), 'e4m3fn').reshape(w.shape)
    effective = (fp8_decode(codes.reshape(-1)).reshape(w.shape) * scale).astype(np.float32)
    return codes, scale, effective


def build_checkpoint(cfg):
    """-> (tensors for the file {key: (st dtype, shape, numpy data)}, effective float32 weights {key: tensor})."""
    tensors, weights = {}, {}
    storage = cfg['storage']
    for key, shape in model_shapes(cfg).items():
        v = make_value(cfg['name'], key, shape)
        full = PREFIX + key
        if storage == 'fp8' and is_fp8_layer(key):
            codes, scale, eff = quantize_per_tensor(v)
            tensors[full] = ('F8_E4M3', shape, codes.astype(np.uint8))
            tensors[full[:-len('weight')] + 'scale_weight'] = ('F32', [], np.array(scale, dtype=np.float32).reshape(()))
            weights[key] = torch.from_numpy(eff)
        else:
            dtype = torch.bfloat16 if storage == 'bf16' else torch.float16
            bits = f32_to_half_bits(v, dtype)
            tensors[full] = ('BF16' if storage == 'bf16' else 'F16', shape, bits)
            weights[key] = torch.from_numpy(half_bits_to_f32(bits, dtype).reshape(shape))
    if storage == 'fp8':
        tensors[PREFIX + 'scaled_fp8'] = ('F8_E4M3', [0], np.zeros((0,), dtype=np.uint8))
    if cfg.get('vae_key'):
        # A stray VAE tensor, as all-in-one checkpoints carry (prefix detection must ignore it).
        tensors['first_stage_model.decoder.conv_in.bias'] = ('F16', [4], f32_to_half_bits(np.ones(4, np.float32), torch.float16))
    return tensors, weights


ST_DTYPE_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64',
                  'I64', 'U64']


def safetensors_bytes(tensors):
    """The `safetensors` library's layout (as engine/safetensors-writer.ts): dtype rank desc, then name."""
    header, offset, blobs = {}, 0, []
    order = sorted(tensors.items(), key=lambda kv: (-ST_DTYPE_ORDER.index(kv[1][0]), kv[0].encode('utf-8')))
    for name, (dtype, shape, data) in order:
        blob = np.ascontiguousarray(data).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(blobs)


# ----------------------------------------------------------------------------------------------
# Reference forward pass (spec §2), float32


def linear(w, name, x):
    return F.linear(x, w[name + '.weight'], w[name + '.bias'])


def layer_norm(x):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6)


def rms_norm(x, weight):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * weight


def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


def timestep_embedding(t, dim=256, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(start=0, end=half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1), freqs


def embed(w, cfg, x, t, context, y):
    B, _, H, W = x.shape
    xp = x
    if H % 2 or W % 2:  # ComfyUI pads odd latents bottom/right (spec §2.2)
        xp = F.pad(x, (0, W % 2, 0, H % 2), mode='reflect')
    tok = F.conv2d(xp, w['x_embedder.proj.weight'], w['x_embedder.proj.bias'], stride=2)  # [B, D, h, w]
    h, wd = tok.shape[-2:]
    tok = tok.flatten(2).transpose(1, 2)  # [B, N, D]
    M = cfg['pos_max']
    top, left = (M - h) // 2, (M - wd) // 2
    pos = w['pos_embed'].reshape(1, M, M, -1)[:, top:top + h, left:left + wd, :].reshape(1, h * wd, -1)
    x_tok = tok + pos
    temb, freqs = timestep_embedding(t)
    c_t = linear(w, 't_embedder.mlp.2', F.silu(linear(w, 't_embedder.mlp.0', temb)))
    c_y = linear(w, 'y_embedder.mlp.2', F.silu(linear(w, 'y_embedder.mlp.0', y)))
    ctx = linear(w, 'context_embedder', context)
    return {'x_embed': x_tok, 'c': c_t + c_y, 'context_embed': ctx, 'freqs': freqs, 'hw': (h, wd)}


def qkv_heads(w, cfg, prefix, u):
    """qkv Linear -> q, k, v as [B, heads, L, 64], with RMS qk-norm when the checkpoint has it."""
    B, L, D = u.shape
    qkv = linear(w, prefix + '.qkv', u).reshape(B, L, 3, D // 64, 64)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    if cfg['qk_norm']:
        q = rms_norm(q, w[prefix + '.ln_q.weight'])
        k = rms_norm(k, w[prefix + '.ln_k.weight'])
    return q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)


def attention(q, k, v):
    scores = (q @ k.transpose(-1, -2)) * (1.0 / 8.0)
    o = scores.softmax(dim=-1) @ v  # [B, heads, L, 64]
    B, Hh, L, d = o.shape
    return o.transpose(1, 2).reshape(B, L, Hh * d)


def mlp(w, p, x):
    return linear(w, p + '.mlp.fc2', F.gelu(linear(w, p + '.mlp.fc1', x), approximate='tanh'))


def joint_block(w, cfg, i, x, ctx, c):
    D = cfg['hidden']
    last = i == cfg['blocks'] - 1
    dual = i in cfg['dual']
    pc, px = f'joint_blocks.{i}.context_block', f'joint_blocks.{i}.x_block'
    sc = F.silu(c)
    mc = linear(w, pc + '.adaLN_modulation.1', sc).split(D, dim=1)
    mx = linear(w, px + '.adaLN_modulation.1', sc).split(D, dim=1)
    ctx_n, x_n = layer_norm(ctx), layer_norm(x)
    qc, kc, vc = qkv_heads(w, cfg, pc + '.attn', modulate(ctx_n, mc[0], mc[1]))
    qx, kx, vx = qkv_heads(w, cfg, px + '.attn', modulate(x_n, mx[0], mx[1]))
    L = ctx.shape[1]
    joint = attention(torch.cat([qc, qx], 2), torch.cat([kc, kx], 2), torch.cat([vc, vx], 2))
    ctx_attn, x_attn = joint[:, :L], joint[:, L:]
    if last:
        ctx_out = None
    else:
        ctx_out = ctx + mc[2].unsqueeze(1) * linear(w, pc + '.attn.proj', ctx_attn)
        ctx_out = ctx_out + mc[5].unsqueeze(1) * mlp(w, pc, modulate(layer_norm(ctx_out), mc[3], mc[4]))
    x_out = x + mx[2].unsqueeze(1) * linear(w, px + '.attn.proj', x_attn)
    if dual:
        q2, k2, v2 = qkv_heads(w, cfg, px + '.attn2', modulate(x_n, mx[6], mx[7]))
        x_out = x_out + mx[8].unsqueeze(1) * linear(w, px + '.attn2.proj', attention(q2, k2, v2))
    x_out = x_out + mx[5].unsqueeze(1) * mlp(w, px, modulate(layer_norm(x_out), mx[3], mx[4]))
    return x_out, ctx_out


def forward(w, cfg, x, t, context, y):
    e = embed(w, cfg, x, t, context, y)
    xs, ctx, c = e['x_embed'], e['context_embed'], e['c']
    stages = {'x_embed': xs, 'c': c, 'context_embed': ctx}
    for i in range(cfg['blocks']):
        xs, ctx = joint_block(w, cfg, i, xs, ctx, c)
        if i == 0:
            stages['block0.x'], stages['block0.context'] = xs, ctx
    D = cfg['hidden']
    shift, scale = linear(w, 'final_layer.adaLN_modulation.1', F.silu(c)).split(D, dim=1)
    o = linear(w, 'final_layer.linear', modulate(layer_norm(xs), shift, scale))  # [B, N, 64]
    h, wd = e['hw']
    B = o.shape[0]
    o = o.reshape(B, h, wd, 2, 2, 16).permute(0, 5, 1, 3, 2, 4).reshape(B, 16, 2 * h, 2 * wd)
    stages['out'] = o[:, :, :x.shape[2], :x.shape[3]]
    return stages, e['freqs']


# ----------------------------------------------------------------------------------------------

VARIANTS = [
    dict(name='sd3-tiny-f16', storage='f16', hidden=128, blocks=2, context_in=64, adm_in=32, pos_max=8,
         qk_norm=False, dual=[], vae_key=True),
    dict(name='sd35m-tiny-bf16', storage='bf16', hidden=128, blocks=2, context_in=64, adm_in=32, pos_max=8,
         qk_norm=True, dual=[0]),
    dict(name='sd35l-tiny-fp8', storage='fp8', hidden=128, blocks=2, context_in=64, adm_in=32, pos_max=8,
         qk_norm=True, dual=[]),
]

# batch, latent H, W, context tokens, sigmas (one per batch item)
CASES = [
    dict(name='b2-8x8', batch=2, height=8, width=8, tokens=6, sigmas=[0.9, 0.35]),
    dict(name='b1-12x10', batch=1, height=12, width=10, tokens=5, sigmas=[0.6]),
]
ODD_CASE = dict(name='b1-7x9', batch=1, height=7, width=9, tokens=4, sigmas=[0.5])


def case_inputs(cfg, case):
    tag = f"input:{case['name']}"
    B, H, W, L = case['batch'], case['height'], case['width'], case['tokens']
    x = hash_uniform(tag + ':x', B * 16 * H * W).reshape(B, 16, H, W) * np.float32(2)
    ctx = hash_uniform(tag + ':context', B * L * cfg['context_in']).reshape(B, L, cfg['context_in'])
    y = hash_uniform(tag + ':y', B * cfg['adm_in']).reshape(B, cfg['adm_in'])
    sigma = np.array(case['sigmas'], dtype=np.float32)
    t = (torch.from_numpy(sigma) * 1000).numpy()  # the denoiser's timestep (spec §2.10)
    return {'x': x, 'context': ctx, 'y': y, 'sigma': sigma, 'timestep': t}


def write_golden(cfg, weights):
    entries = {}
    cases = CASES + ([ODD_CASE] if cfg['name'] == 'sd3-tiny-f16' else [])
    freqs = None
    for case in cases:
        inp = case_inputs(cfg, case)
        with torch.no_grad():
            stages, freqs = forward(weights, cfg, *(torch.from_numpy(inp[k]) for k in ('x', 'timestep', 'context', 'y')))
            denoised = torch.from_numpy(inp['x']) - stages['out'] * torch.from_numpy(inp['sigma']).view(-1, 1, 1, 1)
        for k, v in inp.items():
            entries[f"{case['name']}/input.{k}"] = ('F32', list(v.shape), np.ascontiguousarray(v, dtype=np.float32))
        for k, v in stages.items():
            entries[f"{case['name']}/{k}"] = ('F32', list(v.shape), v.numpy().astype(np.float32))
        entries[f"{case['name']}/denoised"] = ('F32', list(denoised.shape), denoised.numpy().astype(np.float32))
    entries['timestep_freqs'] = ('F32', [128], freqs.numpy().astype(np.float32))
    blob = safetensors_bytes(entries)
    with open(os.path.join(OUT_DIR, f"{cfg['name']}.golden.safetensors"), 'wb') as f:
        f.write(blob)
    return [c['name'] for c in cases], len(blob)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    manifest = {'generator': GENERATOR, 'torch': torch.__version__, 'prefix': PREFIX, 'variants': []}
    for cfg in VARIANTS:
        tensors, weights = build_checkpoint(cfg)
        ckpt = safetensors_bytes(tensors)
        cases, golden_bytes = write_golden(cfg, weights)
        params = sum(int(np.prod(s)) for s in model_shapes(cfg).values())
        manifest['variants'].append({
            **{k: v for k, v in cfg.items() if k != 'vae_key'}, 'vae_key': bool(cfg.get('vae_key')),
            'params': params, 'checkpoint_sha256': hashlib.sha256(ckpt).hexdigest(), 'checkpoint_bytes': len(ckpt),
            'golden': f"{cfg['name']}.golden.safetensors", 'cases': cases,
        })
        print(f"{cfg['name']}: {params} params, checkpoint {len(ckpt)} B, golden {golden_bytes} B, cases {cases}")
    manifest['case_specs'] = CASES + [ODD_CASE]
    with open(os.path.join(OUT_DIR, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    main()
