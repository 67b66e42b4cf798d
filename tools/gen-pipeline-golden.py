#!/usr/bin/python3
"""Prompt text -> latents -> pixels on the tiny demo checkpoint -> test/golden/pipeline/.

Run from the repository root: `/usr/bin/python3 tools/gen-pipeline-golden.py` (Debian torch 1.13, numpy,
python3-regex, python3-sentencepiece). It writes the demo checkpoint with
`npx tsx tools/make-demo-checkpoint.ts` into a temporary folder (the weights are data; the manifest
records the file's sha256 and the TS test checks that its demo file has it), then computes ComfyUI's
pipeline with the repository's independent float32 torch references, none of which share code with the
TypeScript engine:
  tools/gen-tokenizer-golden.py   CLIP BPE / T5 SentencePiece tokenization with prompt weights (§3.2-3.4),
  tools/textenc_vae_reference.py  CLIP-L, CLIP-G, T5, encode_token_weights, SD3 assembly, the VAE (§3.5-3.9, §4),
  tools/gen-mmdit-golden.py       the MMDiT forward (§2),
  tools/gen-sampling-golden.py    ModelSamplingDiscreteFlow, schedulers, the KSampler pipeline (§5.2),
  tools/sampling_reference.py     k-diffusion euler.
Noise: torch.manual_seed(seed) + randn(latent shape) on the CPU (prepare_noise). VAE encode uses the mean
(the engine's documented choice, spec §4.4).

Runs: txt2img (CLIPTextEncode x2 -> EmptySD3LatentImage -> KSampler -> VAEDecode) and img2img
(VAEEncode of a fixed pattern -> KSampler denoise 0.6 -> VAEDecode).
"""
import hashlib
import importlib.util
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, os.path.join(ROOT, 'tools'))
OUT_DIR = os.path.join(ROOT, 'test', 'golden', 'pipeline')
GENERATOR = 'tools/gen-pipeline-golden.py v1'

from textenc_vae_reference import clip_forward, encode_token_weights, sd3_assemble, t5_forward, vae_decode, vae_encode  # noqa: E402


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, 'tools', file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mmdit = load('mmdit_golden', 'gen-mmdit-golden.py')
sampling = load('sampling_golden', 'gen-sampling-golden.py')
tokref = load('tokref', 'gen-tokenizer-golden.py')

# The demo checkpoint's configuration (nodes/loaders/demo-checkpoint.ts DEMO_SPEC).
CLIP_L = {'width': 16, 'layers': 2, 'act': 'quick_gelu'}
CLIP_G = {'width': 32, 'layers': 2, 'act': 'gelu'}
T5 = {'heads': 2, 'blocks': 2, 'buckets': 32}
VAE = {'mult': [1, 1, 1, 1], 'enc_blocks': 2, 'dec_blocks': 3}
MMDIT = dict(name='demo', hidden=128, blocks=2, context_in=48, adm_in=48, pos_max=64, qk_norm=True, dual=[])
CONTEXT_WIDTH = 48

IMAGE_SIZE = 128  # pixels, both runs
POSITIVE, NEGATIVE = '(cat:1.2)', ''
RUNS = [
    dict(name='txt2img', seed=42, steps=3, cfg=4.0, sampler='euler', scheduler='sgm_uniform', shift=3.0, denoise=1.0),
    dict(name='img2img', seed=7, steps=4, cfg=3.0, sampler='euler', scheduler='simple', shift=3.0, denoise=0.6),
]


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for key, info in header.items():
        if key == '__metadata__':
            continue
        a, b = info['data_offsets']
        raw = np.frombuffer(data[a:b], dtype={'F16': np.float16, 'F32': np.float32}[info['dtype']])
        out[key] = torch.from_numpy(raw.astype(np.float32).reshape(info['shape']))
    return out


def under(weights, prefix):
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}


def make_demo(folder):
    path = os.path.join(folder, 'comfy8-demo-sd35-tiny.safetensors')
    subprocess.run(['npx', 'tsx', os.path.join(ROOT, 'tools', 'make-demo-checkpoint.ts'), path], cwd=ROOT, check=True)
    with open(path, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return path, sha


def tokenizers():
    bpe = tokref.ClipBpe(os.path.join(ROOT, 'engine', 'tokenizers', 'data', 'clip', 'bpe_simple_vocab_16e6.txt.gz'))
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(ROOT, 'engine', 'tokenizers', 'data', 't5', 'spiece.model'))
    return {
        'l': tokref.Tok(lambda s: tokref.clip_encode(bpe, s), bpe.encoder, 49406, 49407, 49407, True, 77, None, 16, 'clip_l'),
        'g': tokref.Tok(lambda s: tokref.clip_encode(bpe, s), bpe.encoder, 49406, 49407, 0, True, 77, None, 32, 'clip_g'),
        't5': tokref.Tok(lambda s: sp.encode(s) + [1], {}, None, 1, 0, False, 99999999, 77, 48, 't5xxl'),
    }


EMPTY = {
    'l': lambda n: [49406, 49407] + [49407] * (n - 2),
    'g': lambda n: [49406, 49407] + [0] * (n - 2),
    't5': lambda n: [1] + [0] * (n - 1),
}


def clip_text_encode(W, toks, text):
    """CLIPTextEncode: the same text for CLIP-L, CLIP-G and T5 -> (context [1, T, 48], pooled [1, 48])."""
    fwd = {
        'l': lambda ids: clip_forward(W['l'], CLIP_L, ids),
        'g': lambda ids: clip_forward(W['g'], CLIP_G, ids),
        't5': lambda ids: (t5_forward(W['t5'], ids, T5), None),
    }
    parts = {}
    for name in ('l', 'g', 't5'):
        windows = tokref.tokenize_with_weights(toks[name], text, 'words', None)
        h, p = encode_token_weights(fwd[name], windows, EMPTY[name])
        if name == 'g':
            p = F.linear(p, W['g']['text_projection.weight'])
        parts[name] = (h, p)
    ctx, pooled = sd3_assemble(parts['l'], parts['g'], parts['t5'][0], CLIP_L['width'], CLIP_G['width'], CONTEXT_WIDTH)
    return ctx[None], pooled[None]


def cfg_denoiser(weights, pos, neg, cfg):
    def denoise(x, sigma):
        xb, sb = torch.cat([x, x]), torch.cat([sigma, sigma])
        with torch.no_grad():
            v = mmdit.forward(weights, MMDIT, xb, sb * 1000, torch.cat([neg[0], pos[0]]), torch.cat([neg[1], pos[1]]))[0]['out']
        out_uncond, out_cond = (xb - v * sb.view(-1, 1, 1, 1)).chunk(2)
        return out_uncond + (out_cond - out_uncond) * cfg
    return denoise


def pattern_image():
    """IMAGE [1, H, W, 3]: ((3x + 5y + 70c) mod 256) / 255 in float32."""
    y, x, c = np.meshgrid(np.arange(IMAGE_SIZE), np.arange(IMAGE_SIZE), np.arange(3), indexing='ij')
    v = ((3 * x + 5 * y + 70 * c) % 256).astype(np.float32)
    return torch.from_numpy(v)[None] / 255.0


def sample(weights, run, pos, neg, latent):
    ms = sampling.FlowSampling(run['shift'])
    sigmas = sampling.ksampler_sigmas(ms, run['scheduler'], run['sampler'], run['steps'], run['denoise'])
    noise = torch.randn(latent.shape, generator=torch.manual_seed(run['seed']))
    ns = lambda s, sn: None  # noqa: E731 (euler draws no step noise)
    with torch.no_grad():
        out = sampling.ksampler_pipeline(ms, cfg_denoiser(weights, pos, neg, run['cfg']), latent, noise, sigmas, run['sampler'], ns)
    return noise, out


def decode(Wv, z):
    with torch.no_grad():
        return torch.clamp((vae_decode(Wv, z, VAE) + 1) / 2, 0, 1).permute(0, 2, 3, 1)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path, sha = make_demo(tmp)
        all_w = read_safetensors(path)
    W = {'l': under(all_w, 'text_encoders.clip_l.transformer.'), 'g': under(all_w, 'text_encoders.clip_g.transformer.'),
         't5': under(all_w, 'text_encoders.t5xxl.transformer.')}
    Wm, Wv = under(all_w, 'model.diffusion_model.'), under(all_w, 'first_stage_model.')
    toks = tokenizers()
    with torch.no_grad():
        pos, neg = clip_text_encode(W, toks, POSITIVE), clip_text_encode(W, toks, NEGATIVE)
    entries = {'positive.context': pos[0], 'positive.pooled': pos[1], 'negative.context': neg[0], 'negative.pooled': neg[1]}
    h = IMAGE_SIZE // 8
    for run in RUNS:
        if run['name'] == 'img2img':
            image = pattern_image()
            with torch.no_grad():
                latent = vae_encode(Wv, image.permute(0, 3, 1, 2) * 2 - 1, VAE)[:, :16]
            entries['img2img/encoded'] = latent
        else:
            latent = torch.zeros(1, 16, h, h)
        noise, samples = sample(Wm, run, pos, neg, latent)
        entries[f"{run['name']}/noise"] = noise
        entries[f"{run['name']}/samples"] = samples
        entries[f"{run['name']}/image"] = decode(Wv, samples)
    blob = mmdit.safetensors_bytes({k: ('F32', list(v.shape), v.contiguous().numpy().astype(np.float32)) for k, v in entries.items()})
    with open(os.path.join(OUT_DIR, 'pipeline-demo.golden.safetensors'), 'wb') as f:
        f.write(blob)
    manifest = {'generator': GENERATOR, 'torch': torch.__version__, 'checkpoint_sha256': sha, 'image_size': IMAGE_SIZE,
                'positive': POSITIVE, 'negative': NEGATIVE, 'runs': RUNS, 'golden': 'pipeline-demo.golden.safetensors'}
    with open(os.path.join(OUT_DIR, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write('\n')
    print(f'golden {len(blob)} B, checkpoint sha256 {sha}')


if __name__ == '__main__':
    torch.set_num_threads(1)
    main()
