#!/usr/bin/python3
"""Reference outputs of SD3's text encoders, conditioning and VAE on tiny procedural checkpoints.

Run: /usr/bin/python3 tools/gen-textenc-vae-golden.py   (torch 1.13, numpy; + python3-regex and
python3-sentencepiece for the tokenizer reference, see tools/README.md)

Writes test/golden/textenc/manifest.json and test/golden/vae/manifest.json: every tensor of the tiny
checkpoints (real key layouts: standalone clip_l/clip_g/t5xxl/vae files and one all-in-one checkpoint
with text_encoders.* and first_stage_model.* prefixes) as a generator spec (tools/tiny_weights.py,
mirrored by test/engine/helpers/tiny-weights.ts, so the files are rebuilt by the tests instead of
being committed), plus the expected outputs of a float32 torch implementation written from
shared/spec/sd3-engine.md §3.5–3.9 and §4 (not from the engine's code).
"""
import importlib.util
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from tiny_weights import generate

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
torch.set_num_threads(1)

_spec = importlib.util.spec_from_file_location('tokref', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gen-tokenizer-golden.py'))
tokref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tokref)

# ------------------------------------------------------------------ tiny configurations
CLIP_CFG = {
    'clip_l': {'width': 64, 'layers': 3, 'mlp': 128, 'act': 'quick_gelu', 'projection': True},
    'clip_g': {'width': 128, 'layers': 3, 'mlp': 256, 'act': 'gelu', 'projection': True},
}
T5_CFG = {'d_model': 256, 'heads': 4, 'd_kv': 64, 'ff': 384, 'blocks': 2, 'buckets': 32, 'vocab': 32128}
VAE_CFG = {'ch': 32, 'mult': [1, 2, 2, 2], 'z': 16, 'enc_blocks': 2, 'dec_blocks': 3}
CONTEXT_WIDTH = 256  # the tiny MMDiT's context_embedder input width (4096 in real models)


def spec(tid, shape, kind, scale=None, value=None):
    s = {'id': tid, 'shape': list(shape), 'kind': kind}
    if scale is not None:
        s['scale'] = scale
    if value is not None:
        s['value'] = value
    return s


def clip_tensors(name, cfg):
    w, m = cfg['width'], cfg['mlp']
    t = {
        'text_model.embeddings.token_embedding.weight': ([49408, w], 'weight', 0.5),
        'text_model.embeddings.position_embedding.weight': ([77, w], 'weight', 0.25),
        'text_model.final_layer_norm.weight': ([w], 'norm', None),
        'text_model.final_layer_norm.bias': ([w], 'weight', 0.0625),
    }
    for i in range(cfg['layers']):
        p = 'text_model.encoder.layers.%d.' % i
        for proj in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):
            t[p + 'self_attn.%s.weight' % proj] = ([w, w], 'weight', 0.125)
            t[p + 'self_attn.%s.bias' % proj] = ([w], 'weight', 0.0625)
        for ln in ('layer_norm1', 'layer_norm2'):
            t[p + ln + '.weight'] = ([w], 'norm', None)
            t[p + ln + '.bias'] = ([w], 'weight', 0.0625)
        t[p + 'mlp.fc1.weight'] = ([m, w], 'weight', 0.125)
        t[p + 'mlp.fc1.bias'] = ([m], 'weight', 0.0625)
        t[p + 'mlp.fc2.weight'] = ([w, m], 'weight', 0.0625)
        t[p + 'mlp.fc2.bias'] = ([w], 'weight', 0.0625)
    if cfg['projection']:
        t['text_projection.weight'] = ([w, w], 'weight', 0.125)
    return {k: spec('%s/%s' % (name, k), s, kind, scale) for k, (s, kind, scale) in t.items()}


T5_LINEARS = ('layer.0.SelfAttention.q', 'layer.0.SelfAttention.k', 'layer.0.SelfAttention.v', 'layer.0.SelfAttention.o',
              'layer.1.DenseReluDense.wi_0', 'layer.1.DenseReluDense.wi_1', 'layer.1.DenseReluDense.wo')


def t5_linear_shape(stem, c):
    inner = c['heads'] * c['d_kv']
    if stem.endswith('.o'):
        return [c['d_model'], inner]
    if 'SelfAttention' in stem:
        return [inner, c['d_model']]
    if stem.endswith('wo'):
        return [c['d_model'], c['ff']]
    return [c['ff'], c['d_model']]


def t5_fp16_tensors():
    """A T5 stored in fp16 (t5xxl_fp16 layout): the source that 'fp8' precision quantises itself."""
    c = T5_CFG
    t = {'shared.weight': spec('t5h/shared.weight', [c['vocab'], c['d_model']], 'weight', 1.0),
         'encoder.final_layer_norm.weight': spec('t5h/final', [c['d_model']], 'norm'),
         'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight': spec('t5h/relbias', [c['buckets'], c['heads']], 'weight', 2.0)}
    for b in range(c['blocks']):
        p = 'encoder.block.%d.' % b
        for stem in T5_LINEARS:
            # small q/k keep the (unscaled) attention logits O(1), as in a trained T5
            scale = 0.03125 if stem.endswith(('.q', '.k')) else 0.125
            t[p + stem + '.weight'] = spec('t5h/' + p + stem, t5_linear_shape(stem, c), 'weight', scale)
        for ln in ('layer.0.layer_norm.weight', 'layer.1.layer_norm.weight'):
            t[p + ln] = spec('t5h/' + p + ln, [c['d_model']], 'norm')
    return t


def t5_tensors(scaled):
    """The fp8 T5: linears FP8 codes (scaled: + scale_weight 0.25 and the scaled_fp8 marker)."""
    c = T5_CFG
    t = {'shared.weight': spec('t5/shared.weight', [c['vocab'], c['d_model']], 'weight' if scaled else 'fp8', 1.0 if scaled else None),
         'encoder.final_layer_norm.weight': spec('t5/encoder.final_layer_norm.weight', [c['d_model']], 'norm'),
         'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight':
             spec('t5/relbias', [c['buckets'], c['heads']], 'weight', 2.0)}
    for b in range(c['blocks']):
        p = 'encoder.block.%d.' % b
        for stem in T5_LINEARS:
            t[p + stem + '.weight'] = spec('t5/' + p + stem, t5_linear_shape(stem, c), 'fp8')
            if scaled:
                t[p + stem + '.scale_weight'] = spec('t5/scale', [], 'const', value=0.25)
        for ln in ('layer.0.layer_norm.weight', 'layer.1.layer_norm.weight'):
            t[p + ln] = spec('t5/' + p + ln, [c['d_model']], 'norm')
    if scaled:
        t['scaled_fp8'] = spec('t5/marker', [0], 'const', value=0.0)
    return t


def vae_tensors():
    c = VAE_CFG
    t = {}

    def conv(name, cout, cin, k, scale=0.03125):
        t[name + '.weight'] = ([cout, cin, k, k], 'weight', scale)
        t[name + '.bias'] = ([cout], 'weight', 0.03125)

    def norm(name, ch):
        t[name + '.weight'] = ([ch], 'norm', None)
        t[name + '.bias'] = ([ch], 'weight', 0.0625)

    def res(name, cin, cout):
        norm(name + '.norm1', cin)
        conv(name + '.conv1', cout, cin, 3)
        norm(name + '.norm2', cout)
        conv(name + '.conv2', cout, cout, 3)
        if cin != cout:
            conv(name + '.nin_shortcut', cout, cin, 1)

    def mid(prefix, ch):
        res(prefix + '.mid.block_1', ch, ch)
        norm(prefix + '.mid.attn_1.norm', ch)
        for q in ('q', 'k', 'v', 'proj_out'):
            conv(prefix + '.mid.attn_1.' + q, ch, ch, 1, 0.0625)
        res(prefix + '.mid.block_2', ch, ch)

    chans = [c['ch'] * m for m in c['mult']]
    conv('encoder.conv_in', c['ch'], 3, 3, 0.125)
    cin = c['ch']
    for lvl, cout in enumerate(chans):
        for b in range(c['enc_blocks']):
            res('encoder.down.%d.block.%d' % (lvl, b), cin, cout)
            cin = cout
        if lvl != len(chans) - 1:
            conv('encoder.down.%d.downsample.conv' % lvl, cout, cout, 3)
    mid('encoder', cin)
    norm('encoder.norm_out', cin)
    conv('encoder.conv_out', 2 * c['z'], cin, 3)
    cin = chans[-1]
    conv('decoder.conv_in', cin, c['z'], 3, 0.0625)
    mid('decoder', cin)
    for lvl in reversed(range(len(chans))):
        cout = chans[lvl]
        for b in range(c['dec_blocks']):
            res('decoder.up.%d.block.%d' % (lvl, b), cin, cout)
            cin = cout
        if lvl != 0:
            conv('decoder.up.%d.upsample.conv' % lvl, cin, cin, 3)
    norm('decoder.norm_out', cin)
    conv('decoder.conv_out', 3, cin, 3)
    return {k: spec('vae/' + k, s, kind, scale) for k, (s, kind, scale) in t.items()}


def values(s):
    v, _ = generate(s)
    return torch.tensor(v, dtype=torch.float32)


def weights_of(tensors):
    out = {}
    stems = {k[:-len('.scale_weight')] for k in tensors if k.endswith('.scale_weight')}
    for k, s in tensors.items():
        if k == 'scaled_fp8' or k.endswith('.scale_weight'):
            continue
        w = values(s)
        stem = k[:-len('.weight')] if k.endswith('.weight') else None
        if stem in stems:
            w = w * values(tensors[stem + '.scale_weight'])  # ComfyUI's effective weight fp8 * scale_weight
        out[k] = w
    return out


# ------------------------------------------------------------------ reference models (from the spec)
def attention(q, k, v, heads, scale, bias=None):
    L = q.shape[1]
    q = q.view(1, L, heads, -1).transpose(1, 2)
    k = k.view(1, L, heads, -1).transpose(1, 2)
    v = v.view(1, L, heads, -1).transpose(1, 2)
    s = (q @ k.transpose(-1, -2)) * scale
    if bias is not None:
        s = s + bias
    return (s.softmax(-1) @ v).transpose(1, 2).reshape(1, L, -1)


def clip_forward(W, cfg, ids):
    ids = torch.tensor([ids])
    L = ids.shape[1]
    w = cfg['width']
    heads = max(1, w // 64)
    x = W['text_model.embeddings.token_embedding.weight'][ids] + W['text_model.embeddings.position_embedding.weight'][:L]
    mask = torch.full((L, L), float('-inf')).triu(1)
    act = (lambda h: h * torch.sigmoid(1.702 * h)) if cfg['act'] == 'quick_gelu' else F.gelu
    hidden = None
    for i in range(cfg['layers']):
        p = 'text_model.encoder.layers.%d.' % i
        lin = lambda h, n: F.linear(h, W[p + n + '.weight'], W[p + n + '.bias'])  # noqa: E731
        h = F.layer_norm(x, (w,), W[p + 'layer_norm1.weight'], W[p + 'layer_norm1.bias'], 1e-5)
        a = attention(lin(h, 'self_attn.q_proj'), lin(h, 'self_attn.k_proj'), lin(h, 'self_attn.v_proj'), heads, (w // heads) ** -0.5, mask)
        x = x + lin(a, 'self_attn.out_proj')
        h = F.layer_norm(x, (w,), W[p + 'layer_norm2.weight'], W[p + 'layer_norm2.bias'], 1e-5)
        x = x + lin(act(lin(h, 'mlp.fc1')), 'mlp.fc2')
        if i == cfg['layers'] - 2:
            hidden = x.clone()
    final = F.layer_norm(x, (w,), W['text_model.final_layer_norm.weight'], W['text_model.final_layer_norm.bias'], 1e-5)
    pooled = final[0, int((ids[0] == 49407).int().argmax())]
    return hidden[0], pooled


def t5_bucket(rel, num_buckets=32, max_distance=128):
    """HF T5 _relative_position_bucket, bidirectional, in torch float32."""
    num_buckets //= 2
    buckets = (rel > 0).to(torch.long) * num_buckets
    n = torch.abs(rel)
    max_exact = num_buckets // 2
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(n < max_exact, n, large)


def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


def t5_forward(W, ids):
    c = T5_CFG
    ids = torch.tensor([ids])
    L = ids.shape[1]
    x = W['shared.weight'][ids]
    pos = torch.arange(L)
    bucket = t5_bucket(pos[None, :] - pos[:, None], c['buckets'])
    bias = W['encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'][bucket].permute(2, 0, 1)[None]
    for b in range(c['blocks']):
        p = 'encoder.block.%d.layer.' % b
        lin = lambda h, n: F.linear(h, W[p + n + '.weight'])  # noqa: E731
        h = rms(x, W[p + '0.layer_norm.weight'])
        a = attention(lin(h, '0.SelfAttention.q'), lin(h, '0.SelfAttention.k'), lin(h, '0.SelfAttention.v'), c['heads'], 1.0, bias)
        x = x + lin(a, '0.SelfAttention.o')
        h = rms(x, W[p + '1.layer_norm.weight'])
        x = x + lin(F.gelu(lin(h, '1.DenseReluDense.wi_0'), approximate='tanh') * lin(h, '1.DenseReluDense.wi_1'), '1.DenseReluDense.wo')
    return rms(x, W['encoder.final_layer_norm.weight'])[0]


# ---------------------------------------------------------------- ComfyUI encode_token_weights + SD3 assembly
def encode_token_weights(forward, windows, empty_tokens):
    """windows: [[(id, weight)]]; forward(ids) → (hidden [L, w], pooled or None)."""
    outs = [forward([t for t, _ in win]) for win in windows]
    has_weights = any(w != 1.0 for win in windows for _, w in win)
    z_empty = forward(empty_tokens(len(windows[0])))[0] if has_weights else None
    zs = []
    for (z, _), win in zip(outs, windows):
        z = z.clone()
        if has_weights:
            for j, (_, wgt) in enumerate(win):
                if wgt != 1.0:
                    z[j] = (z[j] - z_empty[j]) * wgt + z_empty[j]
        zs.append(z)
    return torch.cat(zs, 0), outs[0][1]


def sd3_assemble(l, g, t5, lw, gw):
    lg, pooled = None, None
    if l is not None or g is not None:
        l_pooled = l[1] if l is not None else torch.zeros(lw)
        if g is not None:
            if l is not None:
                cut = min(l[0].shape[0], g[0].shape[0])
                lg = torch.cat([l[0][:cut], g[0][:cut]], -1)
            else:
                lg = F.pad(g[0], (lw, 0))
            g_pooled = g[1]
        else:
            lg = l[0]
            g_pooled = torch.zeros(gw)
        lg = F.pad(lg, (0, CONTEXT_WIDTH - lg.shape[-1]))
        pooled = torch.cat([l_pooled, g_pooled], -1)
    if t5 is not None:
        lg = t5 if lg is None else torch.cat([lg, t5], 0)
    if lg is None:
        lg = torch.zeros(77, CONTEXT_WIDTH)
    if pooled is None:
        pooled = torch.zeros(lw + gw)
    return lg, pooled


# ------------------------------------------------------------------ VAE (spec §4.2)
def vae_res(W, p, x):
    h = F.conv2d(F.silu(F.group_norm(x, 32, W[p + '.norm1.weight'], W[p + '.norm1.bias'], 1e-6)), W[p + '.conv1.weight'], W[p + '.conv1.bias'], padding=1)
    h = F.conv2d(F.silu(F.group_norm(h, 32, W[p + '.norm2.weight'], W[p + '.norm2.bias'], 1e-6)), W[p + '.conv2.weight'], W[p + '.conv2.bias'], padding=1)
    if p + '.nin_shortcut.weight' in W:
        x = F.conv2d(x, W[p + '.nin_shortcut.weight'], W[p + '.nin_shortcut.bias'])
    return x + h


def vae_attn(W, p, x):
    b, c, hh, ww = x.shape
    h = F.group_norm(x, 32, W[p + '.norm.weight'], W[p + '.norm.bias'], 1e-6)
    q, k, v = (F.conv2d(h, W[p + '.%s.weight' % n], W[p + '.%s.bias' % n]).reshape(b, c, hh * ww).transpose(1, 2) for n in 'qkv')
    a = ((q @ k.transpose(1, 2)) * c ** -0.5).softmax(-1) @ v
    a = a.transpose(1, 2).reshape(b, c, hh, ww)
    return x + F.conv2d(a, W[p + '.proj_out.weight'], W[p + '.proj_out.bias'])


def vae_mid(W, p, x):
    return vae_res(W, p + '.mid.block_2', vae_attn(W, p + '.mid.attn_1', vae_res(W, p + '.mid.block_1', x)))


def vae_encode(W, img):
    c = VAE_CFG
    x = F.conv2d(img, W['encoder.conv_in.weight'], W['encoder.conv_in.bias'], padding=1)
    for lvl in range(len(c['mult'])):
        for b in range(c['enc_blocks']):
            x = vae_res(W, 'encoder.down.%d.block.%d' % (lvl, b), x)
        if lvl != len(c['mult']) - 1:
            x = F.conv2d(F.pad(x, (0, 1, 0, 1)), W['encoder.down.%d.downsample.conv.weight' % lvl], W['encoder.down.%d.downsample.conv.bias' % lvl], stride=2)
    x = vae_mid(W, 'encoder', x)
    x = F.silu(F.group_norm(x, 32, W['encoder.norm_out.weight'], W['encoder.norm_out.bias'], 1e-6))
    return F.conv2d(x, W['encoder.conv_out.weight'], W['encoder.conv_out.bias'], padding=1)


def vae_decode(W, z):
    c = VAE_CFG
    x = F.conv2d(z, W['decoder.conv_in.weight'], W['decoder.conv_in.bias'], padding=1)
    x = vae_mid(W, 'decoder', x)
    for lvl in reversed(range(len(c['mult']))):
        for b in range(c['dec_blocks']):
            x = vae_res(W, 'decoder.up.%d.block.%d' % (lvl, b), x)
        if lvl != 0:
            x = F.interpolate(x, scale_factor=2.0, mode='nearest')
            x = F.conv2d(x, W['decoder.up.%d.upsample.conv.weight' % lvl], W['decoder.up.%d.upsample.conv.bias' % lvl], padding=1)
    x = F.silu(F.group_norm(x, 32, W['decoder.norm_out.weight'], W['decoder.norm_out.bias'], 1e-6))
    return F.conv2d(x, W['decoder.conv_out.weight'], W['decoder.conv_out.bias'], padding=1)


def tiled_scale(samples, function, tile_x, tile_y, overlap, upscale, out_channels):
    """comfy/utils.py tiled_scale_multidim for 2-D tiles (tile = (tile_y, tile_x)), float32."""
    tile = (tile_y, tile_x)
    out_size = [round(d * upscale) for d in samples.shape[2:]]
    output = torch.empty([samples.shape[0], out_channels] + out_size)
    for b in range(samples.shape[0]):
        s = samples[b:b + 1]
        if all(s.shape[d + 2] <= tile[d] for d in range(2)):
            output[b:b + 1] = function(s)
            continue
        out = torch.zeros([1, out_channels] + out_size)
        out_div = torch.zeros([1, out_channels] + out_size)
        positions = [range(0, s.shape[d + 2] - overlap, tile[d] - overlap) if s.shape[d + 2] > tile[d] else [0] for d in range(2)]
        for it in __import__('itertools').product(*positions):
            s_in = s
            upscaled = []
            for d in range(2):
                pos = max(0, min(s.shape[d + 2] - overlap, it[d]))
                ln = min(tile[d], s.shape[d + 2] - pos)
                s_in = s_in.narrow(d + 2, pos, ln)
                upscaled.append(round(pos * upscale))
            ps = function(s_in)
            mask = torch.ones_like(ps)
            for d in range(2, 4):
                feather = round(overlap * upscale)
                if feather >= mask.shape[d]:
                    continue
                for t in range(feather):
                    a = (t + 1) / feather
                    mask.narrow(d, t, 1).mul_(a)
                    mask.narrow(d, mask.shape[d] - 1 - t, 1).mul_(a)
            o, o_d = out, out_div
            for d in range(2):
                o = o.narrow(d + 2, upscaled[d], mask.shape[d + 2])
                o_d = o_d.narrow(d + 2, upscaled[d], mask.shape[d + 2])
            o.add_(ps * mask)
            o_d.add_(mask)
        output[b:b + 1] = out / out_div
    return output


def vae_tiled_golden(Wv):
    """VAEDecodeTiled(tile_size 64, overlap 16) and VAEEncodeTiled(tile_size 32, overlap 8) as ComfyUI runs them."""
    latent = values(spec('tiled-latent', [1, 16, 12, 10], 'weight', 2.0))
    dec = lambda a: vae_decode(Wv, a)  # noqa: E731
    tx = ty = 64 // 8
    ov = 16 // 8
    decoded = (tiled_scale(latent, dec, tx // 2, ty * 2, ov, 8, 3) + tiled_scale(latent, dec, tx * 2, ty // 2, ov, 8, 3)
               + tiled_scale(latent, dec, tx, ty, ov, 8, 3)) / 3.0
    decoded = ((decoded + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1)
    image = values(spec('tiled-image', [1, 48, 40, 3], 'weight', 0.5)) + 0.5
    pixels = image.permute(0, 3, 1, 2) * 2 - 1
    enc = lambda a: vae_encode(Wv, a)[:, :16]  # noqa: E731
    samples = tiled_scale(pixels, enc, 32, 32, 8, 1 / 8, 16)
    samples += tiled_scale(pixels, enc, 32 * 2, 32 // 2, 8, 1 / 8, 16)
    samples += tiled_scale(pixels, enc, 32 // 2, 32 * 2, 8, 1 / 8, 16)
    samples /= 3.0
    return {'latent': {'id': 'tiled-latent', 'shape': [1, 16, 12, 10], 'kind': 'weight', 'scale': 2.0},
            'decoded_shape': list(decoded.shape), 'decoded': b64(decoded),
            'image': {'id': 'tiled-image', 'shape': [1, 48, 40, 3], 'kind': 'weight', 'scale': 0.5, 'offset': 0.5},
            'encoded_shape': list(samples.shape), 'encoded': b64(samples)}


# ------------------------------------------------------------------ output
def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def b64(t):
    """float32 little-endian bytes, base64 (a third of the JSON-number size, exact)."""
    import base64
    return base64.b64encode(t.detach().contiguous().numpy().astype('<f4').tobytes()).decode('ascii')


PROJECTION = spec('projection', [CONTEXT_WIDTH, 8], 'weight', 0.0625)


def fingerprint(ctx):
    """Keeps the golden file small: context rows projected to 8 values, plus each row's L2 norm."""
    return {'projected': b64(ctx @ values(PROJECTION)), 'row_norms': b64(ctx.norm(dim=-1))}


def with_dtype(tensors, dtype_of):
    return [{'key': k, **s, 'dtype': dtype_of(k, s)} for k, s in tensors.items()]


def main():
    clip = {n: clip_tensors(n, c) for n, c in CLIP_CFG.items()}
    t5_plain, t5_scaled = t5_tensors(False), t5_tensors(True)
    vae = vae_tensors()
    f16 = lambda k, s: 'F16'  # noqa: E731
    f32 = lambda k, s: 'F32'  # noqa: E731
    t5_dtype = lambda k, s: 'F8_E4M3' if s['kind'] == 'fp8' or k == 'scaled_fp8' else ('F32' if k.endswith('scale_weight') else 'F16')  # noqa: E731
    files = {
        'clip_l.safetensors': with_dtype(clip['clip_l'], f16),
        'clip_g.safetensors': with_dtype(clip['clip_g'], f16),
        't5xxl_fp8_e4m3fn.safetensors': with_dtype(t5_plain, t5_dtype),
        't5xxl_fp8_e4m3fn_scaled.safetensors': with_dtype(t5_scaled, t5_dtype),
        't5xxl_fp16.safetensors': with_dtype(t5_fp16_tensors(), f16),
        'sd3_tiny_incl_clips_t5.safetensors':
            [{**e, 'key': 'text_encoders.clip_l.transformer.' + e['key']} for e in with_dtype(clip['clip_l'], f32)]
            + [{**e, 'key': 'text_encoders.clip_g.transformer.' + e['key']} for e in with_dtype(clip['clip_g'], f16)]
            + [{**e, 'key': 'text_encoders.t5xxl.transformer.' + e['key']} for e in with_dtype(t5_scaled, t5_dtype)]
            + [{**e, 'key': 'first_stage_model.' + e['key']} for e in with_dtype(vae, f32)],
    }
    W = {n: weights_of(t) for n, t in clip.items()}
    W5 = {'plain': weights_of(t5_plain), 'scaled': weights_of(t5_scaled), 'fp16': weights_of(t5_fp16_tensors())}

    bpe = tokref.ClipBpe(os.path.join(ROOT, 'engine', 'tokenizers', 'data', 'clip', 'bpe_simple_vocab_16e6.txt.gz'))
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(ROOT, 'engine', 'tokenizers', 'data', 't5', 'spiece.model'))
    toks = {
        'clip_l': tokref.Tok(lambda s: tokref.clip_encode(bpe, s), bpe.encoder, 49406, 49407, 49407, True, 77, None, 768, 'clip_l'),
        'clip_g': tokref.Tok(lambda s: tokref.clip_encode(bpe, s), bpe.encoder, 49406, 49407, 0, True, 77, None, 1280, 'clip_g'),
        't5xxl': tokref.Tok(lambda s: sp.encode(s) + [1], {}, None, 1, 0, False, 99999999, 77, 4096, 't5xxl'),
    }
    empty = {
        'clip_l': lambda n: [49406, 49407] + [49407] * (n - 2),
        'clip_g': lambda n: [49406, 49407] + [0] * (n - 2),
        't5xxl': lambda n: [1] + [0] * (n - 1),
    }
    fwd = {
        'clip_l': lambda ids: clip_forward(W['clip_l'], CLIP_CFG['clip_l'], ids),
        'clip_g': lambda ids: clip_forward(W['clip_g'], CLIP_CFG['clip_g'], ids),
        't5_scaled': lambda ids: (t5_forward(W5['scaled'], ids), None),
    }

    # raw encoder outputs for fixed ids
    ids77 = tokref.tokenize_with_weights(toks['clip_l'], 'a photo of a cat', 'words', None)[0]
    ids_l = [t for t, _ in ids77]
    ids_g = [t for t, _ in tokref.tokenize_with_weights(toks['clip_g'], 'a photo of a cat', 'words', None)[0]]
    ids_t5 = [t for t, _ in tokref.tokenize_with_weights(toks['t5xxl'], 'a photo of a cat', 'words', None)[0]]
    raw = {}
    for name, ids in (('clip_l', ids_l), ('clip_g', ids_g)):
        h, p = fwd[name](ids)
        raw[name] = {'ids': ids, 'hidden': b64(h), 'pooled': flat(p)}
    # clip_g projected pooled
    raw['clip_g']['pooled_projected'] = flat(F.linear(clip_forward(W['clip_g'], CLIP_CFG['clip_g'], ids_g)[1], W['clip_g']['text_projection.weight']))
    for variant in ('plain', 'scaled', 'fp16'):
        raw['t5_' + variant] = {'ids': ids_t5, 'hidden': b64(t5_forward(W5[variant], ids_t5))}
    raw['t5_buckets'] = [int(v) for v in t5_bucket(torch.arange(-200, 201)).tolist()]

    # full SD3 conditioning cases (tokenizer 'words' splitting)
    def encode(name, text):
        windows = tokref.tokenize_with_weights(toks['t5xxl' if name.startswith('t5') else name], text, 'words', None)
        key = 't5xxl' if name.startswith('t5') else name
        h, p = encode_token_weights(fwd[name], windows, empty[key])
        if name == 'clip_g':
            p = F.linear(p, W['clip_g']['text_projection.weight'])
        return h, p

    lw, gw = CLIP_CFG['clip_l']['width'], CLIP_CFG['clip_g']['width']
    long_prompt = ' '.join(['a tiny red fox jumping over the lazy brown dog,'] * 9)
    cases = []
    for label, text, use in (
        ('weighted, all three', 'a photo of a (red:1.3) cat, ((masterpiece))', ('l', 'g', 't5')),
        ('long prompt, all three', long_prompt, ('l', 'g', 't5')),
        ('empty prompt, all three', '', ('l', 'g', 't5')),
        ('no T5', 'a photo of a cat', ('l', 'g')),
        ('no CLIP-L', 'a (photo:0.8) of a cat', ('g', 't5')),
        ('no CLIP-G', 'a photo of a cat', ('l', 't5')),
        ('T5 only', 'a photo of a cat', ('t5',)),
    ):
        l = encode('clip_l', text) if 'l' in use else None
        g = encode('clip_g', text) if 'g' in use else None
        t5 = encode('t5_scaled', text)[0] if 't5' in use else None
        ctx, pooled = sd3_assemble(l, g, t5, lw, gw)
        cases.append({'label': label, 'text': text, 'encoders': list(use), 'context_shape': list(ctx.shape), **fingerprint(ctx), 'pooled': flat(pooled)})

    out = os.path.join(ROOT, 'test', 'golden', 'textenc')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump({'files': {k: v for k, v in files.items()}, 'clip': CLIP_CFG, 't5': T5_CFG, 'context_width': CONTEXT_WIDTH}, f, separators=(',', ':'))
    with open(os.path.join(out, 'outputs.json'), 'w') as f:
        json.dump({'raw': raw, 'projection': PROJECTION, 'conditioning': cases}, f, separators=(',', ':'))

    # VAE
    Wv = weights_of(vae)
    img = values(spec('image', [1, 36, 44, 3], 'weight', 0.5)) + 0.5  # [B, H, W, C] in [0, 1)
    cropped = img[:, 2:34, 2:42, :]  # ComfyUI's centred crop to a multiple of 8
    moments = vae_encode(Wv, cropped.permute(0, 3, 1, 2) * 2 - 1)
    latent = values(spec('latent', [1, 16, 4, 5], 'weight', 2.0))
    decoded = ((vae_decode(Wv, latent) + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1)
    vout = os.path.join(ROOT, 'test', 'golden', 'vae')
    os.makedirs(vout, exist_ok=True)
    with open(os.path.join(vout, 'manifest.json'), 'w') as f:
        json.dump({'files': {'vae.safetensors': with_dtype(vae, f16)}, 'config': VAE_CFG}, f, separators=(',', ':'))
    with open(os.path.join(vout, 'outputs.json'), 'w') as f:
        json.dump({'image': {'id': 'image', 'shape': [1, 36, 44, 3], 'kind': 'weight', 'scale': 0.5, 'offset': 0.5},
                   'latent_input': {'id': 'latent', 'shape': [1, 16, 4, 5], 'kind': 'weight', 'scale': 2.0},
                   'encoded_mean_shape': [1, 16, 4, 5], 'encoded_mean': flat(moments[:, :16]),
                   'decoded_shape': list(decoded.shape), 'decoded': flat(decoded),
                   'tiled': vae_tiled_golden(Wv)}, f, separators=(',', ':'))
    for d in (out, vout):
        for n in os.listdir(d):
            print(os.path.join(d, n), os.path.getsize(os.path.join(d, n)))


if __name__ == '__main__':
    main()
