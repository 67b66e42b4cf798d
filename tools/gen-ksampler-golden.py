#!/usr/bin/python3
"""Complete KSampler runs on a tiny MMDiT -> test/golden/ksampler/.

Run from the repository root: `/usr/bin/python3 tools/gen-ksampler-golden.py` (Debian torch 1.13, numpy, mpmath).

Puts together three existing independent references, sharing no code with the TypeScript engine:
  tools/gen-mmdit-golden.py   the tiny checkpoint (sd35m-tiny-bf16: qk-norm + dual attention) and
                              the float32 MMDiT forward pass (spec §2),
  tools/gen-sampling-golden.py the flow model sampling, schedulers and the KSampler pipeline (§5.2),
  tools/sampling_reference.py  the k-diffusion samplers (euler, euler_ancestral).
The denoiser is ComfyUI's CONST wrapper (§2.10) with CFG batching as ComfyUI does it (uncond chunk
first). Noise is ComfyUI's on a CPU: prepare_noise = torch.manual_seed(seed) + randn(latent shape);
ancestral step noise from a generator seeded seed + 1 (§5.8).

Each run: an empty SD3 latent [1, 16, 8, 8] (64×64 px), positive/negative conditioning from the
hash generator (stored in the golden file), the sampled latent after process_out, and the x0
prediction of every step (model space).
"""
import importlib.util
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, os.path.join(ROOT, 'tools'))
OUT_DIR = os.path.join(ROOT, 'test', 'golden', 'ksampler')
GENERATOR = 'tools/gen-ksampler-golden.py v1'


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, 'tools', file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mmdit = load('mmdit_golden', 'gen-mmdit-golden.py')
sampling = load('sampling_golden', 'gen-sampling-golden.py')

VARIANT = next(v for v in mmdit.VARIANTS if v['name'] == 'sd35m-tiny-bf16')
LATENT_SHAPE = (1, 16, 8, 8)
TOKENS = 6

RUNS = [
    dict(name='euler', sampler='euler', scheduler='simple', steps=4, cfg=4.0, shift=2.0, seed=42),
    dict(name='euler_ancestral', sampler='euler_ancestral', scheduler='sgm_uniform', steps=4, cfg=3.0, shift=3.0, seed=7),
]


def conditioning(tag):
    ctx = mmdit.hash_uniform(f'ksampler:{tag}:context', TOKENS * VARIANT['context_in']).reshape(1, TOKENS, VARIANT['context_in'])
    pooled = mmdit.hash_uniform(f'ksampler:{tag}:pooled', VARIANT['adm_in']).reshape(1, VARIANT['adm_in'])
    return torch.from_numpy(ctx.copy()), torch.from_numpy(pooled.copy())


def cfg_mmdit_denoiser(weights, pos, neg, cfg, x0_log):
    """sampling_function for one cond + one uncond batched into a single model call (uncond first)."""
    def denoise(x, sigma):
        xb = torch.cat([x, x])
        sb = torch.cat([sigma, sigma])
        ctx = torch.cat([neg[0], pos[0]])
        y = torch.cat([neg[1], pos[1]])
        with torch.no_grad():
            v = mmdit.forward(weights, VARIANT, xb, sb * 1000, ctx, y)[0]['out']
        out = xb - v * sb.view(-1, 1, 1, 1)
        out_uncond, out_cond = out.chunk(2)
        zero = torch.zeros_like(x)
        c = (zero + out_cond * 1.0) / (torch.ones_like(x) * 1e-37 + 1.0)
        u = (zero + out_uncond * 1.0) / (torch.ones_like(x) * 1e-37 + 1.0)
        guided = u + (c - u) * cfg
        x0_log.append(guided.clone())
        return guided
    return denoise


def run(weights, spec, pos, neg):
    ms = sampling.FlowSampling(spec['shift'])
    sigmas = sampling.ksampler_sigmas(ms, spec['scheduler'], spec['sampler'], spec['steps'])
    latent = torch.zeros(LATENT_SHAPE)
    noise = torch.randn(LATENT_SHAPE, generator=torch.manual_seed(spec['seed']))
    step_gen = torch.Generator().manual_seed(spec['seed'] + 1)
    ns = lambda s, sn: torch.randn(LATENT_SHAPE, generator=step_gen)  # noqa: E731
    x0_log = []
    den = cfg_mmdit_denoiser(weights, pos, neg, spec['cfg'], x0_log)
    samples = sampling.ksampler_pipeline(ms, den, latent, noise, sigmas, spec['sampler'], ns)
    return {'noise': noise, 'sigmas': sigmas, 'samples': samples, 'x0': torch.stack(x0_log)}


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    _, weights = mmdit.build_checkpoint(VARIANT)
    pos, neg = conditioning('positive'), conditioning('negative')
    entries = {
        'positive.context': pos[0], 'positive.pooled': pos[1],
        'negative.context': neg[0], 'negative.pooled': neg[1],
    }
    for spec in RUNS:
        for k, v in run(weights, spec, pos, neg).items():
            entries[f"{spec['name']}/{k}"] = v
    blob = mmdit.safetensors_bytes({k: ('F32', list(v.shape), v.numpy().astype(np.float32)) for k, v in entries.items()})
    with open(os.path.join(OUT_DIR, 'ksampler-tiny.golden.safetensors'), 'wb') as f:
        f.write(blob)
    manifest = {'generator': GENERATOR, 'torch': torch.__version__, 'variant': VARIANT['name'], 'latent_shape': list(LATENT_SHAPE),
                'tokens': TOKENS, 'runs': RUNS, 'golden': 'ksampler-tiny.golden.safetensors'}
    with open(os.path.join(OUT_DIR, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write('\n')
    print(f'golden {len(blob)} B, runs {[r["name"] for r in RUNS]}')


if __name__ == '__main__':
    torch.set_num_threads(1)
    main()
