"""float32 torch reference of SD3's text encoders, conditioning assembly and VAE, written from
shared/spec/sd3-engine.md §3.5–3.9 and §4 (and ComfyUI's comfy/utils.py tiled_scale_multidim),
not from the engine's code. Used by gen-textenc-vae-golden.py.
"""
import itertools
import math

import torch
import torch.nn.functional as F

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


def t5_forward(W, ids, c):
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


def sd3_assemble(l, g, t5, lw, gw, context_width):
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
        lg = F.pad(lg, (0, context_width - lg.shape[-1]))
        pooled = torch.cat([l_pooled, g_pooled], -1)
    if t5 is not None:
        lg = t5 if lg is None else torch.cat([lg, t5], 0)
    if lg is None:
        lg = torch.zeros(77, context_width)
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


def vae_encode(W, img, c):
    x = F.conv2d(img, W['encoder.conv_in.weight'], W['encoder.conv_in.bias'], padding=1)
    for lvl in range(len(c['mult'])):
        for b in range(c['enc_blocks']):
            x = vae_res(W, 'encoder.down.%d.block.%d' % (lvl, b), x)
        if lvl != len(c['mult']) - 1:
            x = F.conv2d(F.pad(x, (0, 1, 0, 1)), W['encoder.down.%d.downsample.conv.weight' % lvl], W['encoder.down.%d.downsample.conv.bias' % lvl], stride=2)
    x = vae_mid(W, 'encoder', x)
    x = F.silu(F.group_norm(x, 32, W['encoder.norm_out.weight'], W['encoder.norm_out.bias'], 1e-6))
    return F.conv2d(x, W['encoder.conv_out.weight'], W['encoder.conv_out.bias'], padding=1)


def vae_decode(W, z, c):
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
        for it in itertools.product(*positions):
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
