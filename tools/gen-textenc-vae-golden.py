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
import os

import torch
import torch.nn.functional as F

from textenc_vae_reference import (clip_forward, encode_token_weights, sd3_assemble, t5_bucket, t5_forward, tiled_scale,
                                   vae_decode, vae_encode)
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


def vae_tiled_golden(Wv):
    """VAEDecodeTiled(tile_size 64, overlap 16) and VAEEncodeTiled(tile_size 32, overlap 8) as ComfyUI runs them."""
    latent = values(spec('tiled-latent', [1, 16, 12, 10], 'weight', 2.0))
    dec = lambda a: vae_decode(Wv, a, VAE_CFG)  # noqa: E731
    tx = ty = 64 // 8
    ov = 16 // 8
    decoded = (tiled_scale(latent, dec, tx // 2, ty * 2, ov, 8, 3) + tiled_scale(latent, dec, tx * 2, ty // 2, ov, 8, 3)
               + tiled_scale(latent, dec, tx, ty, ov, 8, 3)) / 3.0
    decoded = ((decoded + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1)
    image = values(spec('tiled-image', [1, 48, 40, 3], 'weight', 0.5)) + 0.5
    pixels = image.permute(0, 3, 1, 2) * 2 - 1
    enc = lambda a: vae_encode(Wv, a, VAE_CFG)[:, :16]  # noqa: E731
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
        't5_scaled': lambda ids: (t5_forward(W5['scaled'], ids, T5_CFG), None),
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
        raw['t5_' + variant] = {'ids': ids_t5, 'hidden': b64(t5_forward(W5[variant], ids_t5, T5_CFG))}
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
        ctx, pooled = sd3_assemble(l, g, t5, lw, gw, CONTEXT_WIDTH)
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
    moments = vae_encode(Wv, cropped.permute(0, 3, 1, 2) * 2 - 1, VAE_CFG)
    latent = values(spec('latent', [1, 16, 4, 5], 'weight', 2.0))
    decoded = ((vae_decode(Wv, latent, VAE_CFG) + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1)
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
