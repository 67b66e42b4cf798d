#!/usr/bin/python3
"""Writes test/golden/rng/torch_rng_vectors.json: reference outputs of PyTorch's CPU generator.

Run with Debian's python (torch 1.13):  /usr/bin/python3 tools/gen-rng-golden.py
The script runs itself twice in child processes, once with ATen's default CPU capability (AVX2 on
x86-64) and once with ATEN_CPU_CAPABILITY=default (the generic kernel), and merges the results.
Small tensors are stored in full as hex of the little-endian float32 bytes; larger ones as the
sha256 of those bytes plus a few values.
"""
import hashlib
import json
import os
import subprocess
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'golden', 'rng', 'torch_rng_vectors.json')
FULL_VALUES_MAX = 64
SEEDS = [0, 1, 42, 2**32 - 1, 2**32, 2**63 + 5, 2**64 - 1, -1, -2**63, 1234567890123]
SMALL_SHAPES = [[1], [2], [7], [15], [16], [17], [31], [32], [33], [2, 3, 5], [4, 16]]
BIG_SHAPES = [[1, 16, 8, 8], [1, 16, 7, 9], [2, 16, 13, 11], [1, 4, 64, 64]]


def describe(tensor):
    import numpy as np
    data = tensor.detach().contiguous().numpy().astype('<f4')
    raw = data.tobytes()
    entry = {'shape': list(tensor.shape), 'sha256_f32le': hashlib.sha256(raw).hexdigest()}
    if data.size <= FULL_VALUES_MAX:
        entry['f32le_hex'] = raw.hex()
    else:
        flat = data.reshape(-1)
        entry['first4'] = [float(v) for v in flat[:4]]
        entry['last2'] = [float(v) for v in flat[-2:]]
    return entry


def prepare_noise(latent_shape, seed, noise_inds=None):
    """comfy/sample.py prepare_noise, verbatim in behaviour (latent dtype float32)."""
    import numpy as np
    import torch
    generator = torch.manual_seed(seed)
    if noise_inds is None:
        return torch.randn(latent_shape, dtype=torch.float32, generator=generator, device='cpu')
    unique_inds, inverse = np.unique(noise_inds, return_inverse=True)
    noises = []
    for i in range(unique_inds[-1] + 1):
        noise = torch.randn([1] + list(latent_shape)[1:], dtype=torch.float32, generator=generator, device='cpu')
        if i in unique_inds:
            noises.append(noise)
    noises = [noises[i] for i in inverse]
    return torch.cat(noises, axis=0)


def child():
    import numpy as np
    import torch
    capability = torch.__config__.show().split('CPU capability usage:')[1].splitlines()[0].strip()
    result = {'cpu_capability': capability, 'randn': [], 'sequences': [], 'rand': [], 'prepare_noise': [],
              'cpu_noise_sampler': []}
    for seed in SEEDS:
        for shape in SMALL_SHAPES + BIG_SHAPES:
            entry = describe(torch.randn(shape, generator=torch.manual_seed(seed)))
            result['randn'].append({'seed': str(seed), **entry})
    # One generator, consecutive calls: the double-precision path caches the second Box-Muller value.
    for seed, shapes in [(5, [[5], [3], [20], [1], [16], [7], [2]]), (2**32 + 9, [[17], [1], [33], [15], [4, 4]])]:
        g = torch.Generator().manual_seed(seed)
        result['sequences'].append({'seed': str(seed), 'draws': [describe(torch.randn(s, generator=g)) for s in shapes]})
    # manual_seed drops the cached normal.
    g = torch.Generator().manual_seed(11)
    first = torch.randn([1], generator=g)
    g.manual_seed(11)
    again = torch.randn([3], generator=g)
    result['sequences'].append({'seed': '11', 'reseed_between': True, 'draws': [describe(first), describe(again)]})
    for seed in [0, 42, 2**64 - 1]:
        g = torch.Generator().manual_seed(seed)
        draws = [describe(torch.rand([10], generator=g)), describe(torch.randn([17], generator=g)),
                 describe(torch.rand([3], generator=g)), describe(torch.randn([3], generator=g))]
        result['rand'].append({'seed': str(seed), 'draws': draws})
    for shape, seed, inds in [([3, 16, 4, 4], 7, [2, 0, 2]), ([2, 16, 3, 5], 2**40 + 3, [4, 1]),
                              ([2, 16, 4, 4], 99, None), ([1, 16, 4, 4], 99, [0])]:
        noise = prepare_noise(shape, seed, inds)
        result['prepare_noise'].append({'seed': str(seed), 'latent_shape': shape, 'batch_index': inds, **describe(noise)})
    # k-diffusion default_noise_sampler on CPU: Generator seeded with seed + 1, randn(x.shape) per step.
    for seed, shape in [(42, [1, 16, 4, 4]), (0, [1, 3, 5])]:
        g = torch.Generator(device='cpu')
        g.manual_seed(seed + 1)
        steps = [describe(torch.randn(shape, dtype=torch.float32, generator=g)) for _ in range(3)]
        result['cpu_noise_sampler'].append({'seed': str(seed), 'shape': shape, 'steps': steps})
    json.dump(result, sys.stdout)


def glibc_hard_cases(per_function=60):
    """Inputs of the generic kernel where glibc's logf/cosf/sinf differ from the correctly rounded
    double result (so a port of glibc is needed), plus a few ordinary ones; as float32 bit patterns."""
    import ctypes
    import numpy as np
    libm = ctypes.CDLL('libm.so.6')
    funcs = {}
    for name in ['logf', 'cosf', 'sinf']:
        fn = getattr(libm, name)
        fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
        funcs[name] = fn
    bits = lambda x: int(np.float32(x).view(np.uint32))
    rng = np.random.RandomState(1)
    ks = rng.randint(0, 2**24, size=200000)
    u = ks.astype(np.float32) * np.float32(2**-24)
    inputs = {'logf': np.float32(1) - u, 'cosf': (2 * np.pi * u.astype(np.float64)).astype(np.float32)}
    inputs['sinf'] = inputs['cosf']
    exact = {'logf': np.log, 'cosf': np.cos, 'sinf': np.sin}
    out = {}
    for name, xs in inputs.items():
        hard, easy = [], []
        for x in xs:
            got = np.float32(funcs[name](float(x)))
            rounded = np.float32(exact[name](np.float64(x)))
            target = hard if got != rounded else easy
            if (len(hard) < per_function or len(easy) < 8) and len(target) < (per_function if target is hard else 8):
                target.append([bits(x), bits(got)])
            if len(hard) >= per_function and len(easy) >= 8:
                break
        out[name] = hard + easy
    return out


def main():
    import numpy as np
    import torch
    kernels = {}
    for name, env_value in [('avx2', None), ('scalar', 'default')]:
        env = dict(os.environ)
        env.pop('ATEN_CPU_CAPABILITY', None)
        if env_value:
            env['ATEN_CPU_CAPABILITY'] = env_value
        out = subprocess.run([sys.executable, __file__, '--child'], env=env, check=True, capture_output=True)
        kernels[name] = json.loads(out.stdout)
    assert kernels['avx2']['cpu_capability'] == 'AVX2', kernels['avx2']['cpu_capability']
    assert kernels['scalar']['cpu_capability'] == 'NO AVX', kernels['scalar']['cpu_capability']
    mt = {str(seed): [int(v) for v in np.random.RandomState(seed).randint(0, 2**32, size=1300, dtype=np.uint64)[
        [0, 1, 2, 3, 4, 622, 623, 624, 625, 1247, 1248, 1299]]] for seed in [0, 1, 42, 4294967295]}
    doc = {
        '_what': 'PyTorch CPU generator reference outputs (torch.manual_seed + torch.randn / torch.rand).',
        '_how_generated': f'tools/gen-rng-golden.py with torch {torch.__version__} (Debian build); kernel avx2 = default '
                          'ATen capability, scalar = ATEN_CPU_CAPABILITY=default. MT19937 outputs from numpy '
                          'RandomState (same init_genrand).',
        '_format': 'f32le_hex: full tensor as little-endian float32 bytes; sha256_f32le over the same bytes. '
                   'Seeds are decimal strings (may exceed 2^53).',
        'mt19937_outputs_at': [0, 1, 2, 3, 4, 622, 623, 624, 625, 1247, 1248, 1299],
        'mt19937_outputs': mt,
        'kernels': kernels,
        '_glibc_note': 'glibc_mathf: [input bits, glibc result bits] for logf/cosf/sinf of this machine\'s libm '
                       '(glibc 2.28+ algorithms); most are inputs where glibc is not correctly rounded.',
        'glibc_mathf': glibc_hard_cases(),
    }
    with open(OUT, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    print(f'wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    child() if '--child' in sys.argv else main()
