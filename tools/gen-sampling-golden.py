#!/usr/bin/python3
"""Writes the golden files for engine/sampling (test/golden/sampling/*.json).

Run with Debian's torch: `/usr/bin/python3 tools/gen-sampling-golden.py` (torch 1.13, numpy, mpmath;
no scipy, no comfy package). This is an independent re-statement of ComfyUI's sampling code
(comfy/model_sampling.py, comfy/samplers.py, comfy/k_diffusion/sampling.py,
comfy/extra_samplers/uni_pc.py) in torch float32, following the spec (shared/spec/sd3-engine.md §5):
every sigma and latent is a float32 tensor, so the rounding is torch's own.

Stand-ins for what is not installed here:
* scipy.stats.beta.ppf (beta scheduler) -> mpmath: betainc(regularized) inverted with findroot at 50 digits.
* scipy.integrate.quad (lms coefficients) -> exact integral of the Lagrange polynomial (numpy poly).
* torchsde Brownian tree (SDE samplers) -> pre-drawn N(0,1) arrays fed through the noise sampler,
  identical on both sides.
"""
import json
import math
import os

import mpmath
import numpy as np
import torch

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'golden', 'sampling')


# --------------------------------------------------------------------------- model sampling
def time_snr_shift(alpha, t):
    if alpha == 1.0:
        return t
    return alpha * t / (1 + (alpha - 1) * t)


class FlowSampling:
    """ModelSamplingDiscreteFlow + CONST (multiplier 1000)."""

    def __init__(self, shift):
        self.shift = shift
        self.multiplier = 1000
        self.sigmas = self.sigma((torch.arange(1, 1001, 1) / 1000) * self.multiplier)

    @property
    def sigma_min(self):
        return self.sigmas[0]

    @property
    def sigma_max(self):
        return self.sigmas[-1]

    def timestep(self, sigma):
        return sigma * self.multiplier

    def sigma(self, timestep):
        return time_snr_shift(self.shift, timestep / self.multiplier)

    def percent_to_sigma(self, percent):
        if percent <= 0.0:
            return 1.0
        if percent >= 1.0:
            return 0.0
        return time_snr_shift(self.shift, 1.0 - percent)

    def noise_scaling(self, sigma, noise, latent):
        return sigma * noise + (1.0 - sigma) * latent

    def inverse_noise_scaling(self, sigma, latent):
        return latent / (1.0 - sigma)


# --------------------------------------------------------------------------- schedulers
def simple_scheduler(ms, steps):
    ss = len(ms.sigmas) / steps
    sigs = [float(ms.sigmas[-(1 + int(x * ss))]) for x in range(steps)]
    return torch.FloatTensor(sigs + [0.0])


def ddim_scheduler(ms, steps):
    x = 1
    sigs = [0.0]
    ss = max(len(ms.sigmas) // steps, 1)
    while x < len(ms.sigmas):
        sigs += [float(ms.sigmas[x])]
        x += ss
    return torch.FloatTensor(sigs[::-1])


def normal_scheduler(ms, steps, sgm=False):
    start = ms.timestep(ms.sigma_max)
    end = ms.timestep(ms.sigma_min)
    append_zero = True
    if sgm:
        timesteps = torch.linspace(start, end, steps + 1)[:-1]
    else:
        if math.isclose(float(ms.sigma(end)), 0, abs_tol=0.00001):
            steps += 1
            append_zero = False
        timesteps = torch.linspace(start, end, steps)
    sigs = [float(ms.sigma(ts)) for ts in timesteps]
    if append_zero:
        sigs += [0.0]
    return torch.FloatTensor(sigs)


def beta_ppf(q, a, b):
    if q <= 0:
        return 0.0
    if q >= 1:
        return 1.0
    mpmath.mp.dps = 50
    f = lambda x: mpmath.betainc(a, b, 0, x, regularized=True) - q
    return float(mpmath.findroot(f, (mpmath.mpf('1e-30'), mpmath.mpf(1) - mpmath.mpf('1e-30')), solver='anderson'))


def beta_scheduler(ms, steps, alpha=0.6, beta=0.6):
    total = len(ms.sigmas) - 1
    ts = 1 - np.linspace(0, 1, steps, endpoint=False)
    ts = np.rint(np.array([beta_ppf(float(t), alpha, beta) for t in ts]) * total)
    sigs = []
    last_t = -1
    for t in ts:
        if t != last_t:
            sigs += [float(ms.sigmas[int(t)])]
        last_t = t
    return torch.FloatTensor(sigs + [0.0])


def linear_quadratic(ms, steps, threshold_noise=0.025, linear_steps=None):
    if steps == 1:
        sched = [1.0, 0.0]
    else:
        if linear_steps is None:
            linear_steps = steps // 2
        lin = [i * threshold_noise / linear_steps for i in range(linear_steps)]
        diff = linear_steps - threshold_noise * steps
        qsteps = steps - linear_steps
        qcoef = diff / (linear_steps * qsteps ** 2)
        lcoef = threshold_noise / linear_steps - 2 * diff / (qsteps ** 2)
        const = qcoef * (linear_steps ** 2)
        quad = [qcoef * (i ** 2) + lcoef * i + const for i in range(linear_steps, steps)]
        sched = [1.0 - x for x in lin + quad + [1.0]]
    return torch.FloatTensor(sched) * ms.sigma_max.cpu()


def kl_optimal(n, sigma_min, sigma_max):
    adj = torch.arange(n, dtype=torch.float).div_(n - 1)
    sigmas = adj.new_zeros(n + 1)
    sigmas[:-1] = (adj * math.atan(sigma_min) + (1 - adj) * math.atan(sigma_max)).tan_()
    return sigmas


def karras(n, sigma_min, sigma_max, rho=7.):
    ramp = torch.linspace(0, 1, n)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return torch.cat([sigmas, sigmas.new_zeros([1])])


def exponential(n, sigma_min, sigma_max):
    sigmas = torch.linspace(math.log(sigma_max), math.log(sigma_min), n).exp()
    return torch.cat([sigmas, sigmas.new_zeros([1])])


SCHEDULERS = {
    'simple': (simple_scheduler, True),
    'sgm_uniform': (lambda ms, n: normal_scheduler(ms, n, sgm=True), True),
    'karras': (karras, False),
    'exponential': (exponential, False),
    'ddim_uniform': (ddim_scheduler, True),
    'beta': (beta_scheduler, True),
    'normal': (normal_scheduler, True),
    'linear_quadratic': (linear_quadratic, True),
    'kl_optimal': (kl_optimal, False),
}
DISCARD_PENULTIMATE = {'dpm_2', 'dpm_2_ancestral', 'uni_pc', 'uni_pc_bh2'}


def calculate_sigmas(ms, name, steps):
    fn, use_ms = SCHEDULERS[name]
    if use_ms:
        return fn(ms, steps)
    return fn(n=steps, sigma_min=float(ms.sigma_min), sigma_max=float(ms.sigma_max))


def ksampler_sigmas(ms, scheduler, sampler, steps, denoise=1.0):
    def calc(n):
        discard = sampler in DISCARD_PENULTIMATE
        s = calculate_sigmas(ms, scheduler, n + 1 if discard else n)
        return torch.cat([s[:-2], s[-1:]]) if discard else s
    if denoise is None or denoise > 0.9999:
        return calc(steps)
    if denoise <= 0.0:
        return torch.FloatTensor([])
    return calc(int(steps / denoise))[-(steps + 1):]


def advanced_sigmas(sigmas, start_step, last_step, force_full_denoise):
    sigmas = sigmas.clone()
    if last_step is not None and last_step < len(sigmas) - 1:
        sigmas = sigmas[:last_step + 1]
        if force_full_denoise:
            sigmas[-1] = 0
    if start_step is not None:
        if start_step < len(sigmas) - 1:
            sigmas = sigmas[start_step:]
        else:
            return None
    return sigmas


# --------------------------------------------------------------------------- samplers
from sampling_reference import SAMPLERS  # noqa: E402  (the k-diffusion transcription)


# --------------------------------------------------------------------------- toy model + CFG
class ToyModel:
    """v = tanh(W·x + c + t/1000·u) * 0.8 + 0.1·x per batch item; denoised = x − σ·v (CONST)."""

    def __init__(self, n, gen):
        self.W = (torch.randn(n, n, generator=gen) / math.sqrt(n)).float()
        self.u = torch.randn(n, generator=gen).float()
        self.calls = 0

    def apply(self, x_batch, sigma_batch, conds):
        self.calls += 1
        b = x_batch.shape[0]
        flat = x_batch.reshape(b, -1)
        t = sigma_batch * 1000
        v = torch.tanh(flat @ self.W.T + conds + (t / 1000)[:, None] * self.u[None, :]) * 0.8 + 0.1 * flat
        v = v.reshape(x_batch.shape)
        return x_batch - v * sigma_batch.view(b, 1, 1, 1)


def cfg_denoiser(model, cond, uncond, cfg):
    def denoise(x, sigma):
        # ComfyUI batches the runnable conds in reverse order (uncond first, then cond).
        if math.isclose(cfg, 1.0):
            out = model.apply(x, sigma, cond[None, :])
            return out / (1.0 + 1e-37)
        xb = torch.cat([x, x])
        sb = torch.cat([sigma, sigma])
        out = model.apply(xb, sb, torch.stack([uncond, cond]))
        out_uncond, out_cond = out.chunk(2)
        zero = torch.zeros_like(x)
        c = (zero + out_cond * 1.0) / (torch.ones_like(x) * 1e-37 + 1.0)
        u = (zero + out_uncond * 1.0) / (torch.ones_like(x) * 1e-37 + 1.0)
        return u + (c - u) * cfg
    return denoise


def f32list(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def hexlist(t):
    return [format(v, '08x') for v in t.reshape(-1).contiguous().view(torch.int32).tolist()]


def scheduler_golden():
    out = {'_note': 'sigma tables (float32 bit patterns as unsigned hex) from tools/gen-sampling-golden.py', 'tables': []}
    for shift in (1.0, 3.0):
        ms = FlowSampling(shift)
        out.setdefault('model_sampling', []).append({
            'shift': shift, 'sigmas_hex': hexlist(ms.sigmas),
        })
        for name in SCHEDULERS:
            for steps in (1, 4, 9, 20, 33):
                if name == 'kl_optimal' and steps == 1:
                    continue  # ComfyUI divides by n-1 = 0 there (NaN schedule)
                s = calculate_sigmas(ms, name, steps)
                out['tables'].append({'shift': shift, 'scheduler': name, 'steps': steps, 'hex': hexlist(s)})
    cases = []
    ms = FlowSampling(3.0)
    for sampler, sched, steps, denoise in (('euler', 'sgm_uniform', 20, 0.6), ('euler', 'simple', 10, 0.35),
                                           ('dpm_2', 'karras', 8, 0.5), ('uni_pc', 'beta', 6, 1.0),
                                           ('euler', 'normal', 5, 0.0), ('heun', 'simple', 7, 0.99995)):
        s = ksampler_sigmas(ms, sched, sampler, steps, denoise)
        cases.append({'sampler': sampler, 'scheduler': sched, 'steps': steps, 'denoise': denoise, 'hex': hexlist(s)})
    out['ksampler'] = cases
    adv = []
    for start, end, leftover in ((0, 10000, False), (2, 10000, False), (0, 3, False), (0, 3, True), (1, 4, True), (6, 10000, False)):
        base = ksampler_sigmas(ms, 'simple', 'euler', 6)
        s = advanced_sigmas(base, start, end, not leftover)
        adv.append({'scheduler': 'simple', 'steps': 6, 'start_at_step': start, 'end_at_step': end,
                    'return_with_leftover_noise': leftover, 'hex': None if s is None else hexlist(s)})
    out['advanced'] = adv
    out['percent_to_sigma'] = [{'shift': 3.0, 'percent': p, 'sigma': FlowSampling(3.0).percent_to_sigma(p)}
                               for p in (0.0, 1e-4, 0.1, 0.5, 0.9, 1.0)]
    return out


def sampler_golden():
    gen = torch.Generator().manual_seed(1234)
    shape = (1, 4, 4, 4)
    n = 64
    model = ToyModel(n, gen)
    cond = torch.randn(n, generator=gen).float() * 0.5
    uncond = torch.randn(n, generator=gen).float() * 0.5
    latent = torch.randn(shape, generator=gen).float() * 0.7
    noise = torch.randn(shape, generator=gen).float()
    step_noise = torch.randn((24,) + shape, generator=gen).float()
    cfg = 3.0
    ms = FlowSampling(3.0)
    runs = []
    for name, fn in SAMPLERS.items():
        sigmas = ksampler_sigmas(ms, 'simple', name, 4)
        used = {'n': 0}

        def noise_sampler(sigma, sigma_next):
            k = used['n']
            used['n'] += 1
            return step_noise[k].clone()

        model.calls = 0
        steps_seen = []
        x = ms.noise_scaling(sigmas[0], noise, latent)
        den = cfg_denoiser(model, cond, uncond, cfg)
        sig = sigmas.clone()
        x = fn(den, x, sig, ms, noise_sampler, lambda i: steps_seen.append(i))
        x = ms.inverse_noise_scaling(sig[-1], x)
        runs.append({'sampler': name, 'sigmas_hex': hexlist(sigmas), 'noise_draws': used['n'],
                     'model_calls': model.calls, 'callback_steps': steps_seen, 'out': f32list(x)})
    pipeline = pipeline_golden({'shape': list(shape), 'latent': f32list(latent), 'noise': f32list(noise),
                                'cond': f32list(cond), 'uncond': f32list(uncond), 'cfg': cfg,
                                'step_noise': f32list(step_noise)}, model, ms)
    return {
        'pipeline': pipeline,
        '_note': 'complete 4-step KSampler runs (shift 3, simple scheduler, cfg 3.0) of a toy flow model; '
                 'see tools/gen-sampling-golden.py',
        'shape': list(shape), 'cfg': cfg, 'shift': 3.0, 'scheduler': 'simple', 'steps': 4,
        'W': f32list(model.W), 'u': f32list(model.u), 'cond': f32list(cond), 'uncond': f32list(uncond),
        'latent': f32list(latent), 'noise': f32list(noise), 'step_noise': f32list(step_noise),
        'runs': runs,
    }


SD3_SCALE, SD3_SHIFT = 1.5305, 0.0609


def ksampler_pipeline(ms, den, latent, noise, sigmas, sampler, ns, mask=None):
    """CFGGuider.sample + KSAMPLER.sample + KSamplerX0Inpaint for a CONST model, SD3 latent format."""
    if sigmas is None or sigmas.shape[-1] == 0:
        return latent
    x0 = (latent - SD3_SHIFT) * SD3_SCALE if torch.count_nonzero(latent) > 0 else latent
    model = den
    if mask is not None:
        keep = 1. - mask

        def model(x, sigma):
            x = x * mask + ms.noise_scaling(sigma.reshape([1, 1, 1, 1]), noise, x0) * keep
            out = den(x, sigma)
            return out * mask + x0 * keep
    sig = sigmas.clone()
    x = ms.noise_scaling(sig[0], noise, x0)
    x = SAMPLERS[sampler](model, x, sig, ms, ns, lambda i: None)
    x = ms.inverse_noise_scaling(sig[-1], x)
    return x / SD3_SCALE + SD3_SHIFT


def pipeline_golden(data, model, ms):
    shape = tuple(data['shape'])
    t = lambda k: torch.tensor(data[k], dtype=torch.float32).reshape(shape)
    latent, noise = t('latent'), t('noise')
    cond = torch.tensor(data['cond'], dtype=torch.float32)
    uncond = torch.tensor(data['uncond'], dtype=torch.float32)
    step_noise = torch.tensor(data['step_noise'], dtype=torch.float32).reshape((-1,) + shape)
    den = cfg_denoiser(model, cond, uncond, data['cfg'])
    mask = torch.zeros((1, 1, 4, 4))
    mask[:, :, 1:3, :] = 1.0
    cases = []
    specs = [
        dict(name='euler full', sampler='euler', scheduler='sgm_uniform', steps=5),
        dict(name='euler_ancestral denoise 0.6', sampler='euler_ancestral', scheduler='simple', steps=4, denoise=0.6),
        dict(name='dpmpp_2m masked', sampler='dpmpp_2m', scheduler='karras', steps=5, mask=True),
        dict(name='uni_pc full', sampler='uni_pc', scheduler='beta', steps=5),
        dict(name='euler empty latent', sampler='euler', scheduler='simple', steps=3, empty=True),
        dict(name='advanced pass 1 (0-2, leftover)', sampler='euler', scheduler='simple', steps=4, start=0, end=2, leftover=True),
    ]
    for spec in specs:
        used = {'n': 0}

        def ns(a, b):
            used['n'] += 1
            return step_noise[used['n'] - 1].clone()
        sig = ksampler_sigmas(ms, spec['scheduler'], spec['sampler'], spec['steps'], spec.get('denoise', 1.0))
        if 'start' in spec:
            sig = advanced_sigmas(sig, spec['start'], spec['end'], not spec['leftover'])
        lat = torch.zeros(shape) if spec.get('empty') else latent
        out = ksampler_pipeline(ms, den, lat, noise, sig, spec['sampler'], ns, mask if spec.get('mask') else None)
        cases.append({**{k: v for k, v in spec.items() if k != 'mask'}, 'masked': bool(spec.get('mask')), 'out': f32list(out)})
    # Second pass of the two-pass KSamplerAdvanced chain: add_noise disabled, start at step 2.
    first = torch.tensor(cases[-1]['out'], dtype=torch.float32).reshape(shape)
    sig = advanced_sigmas(ksampler_sigmas(ms, 'simple', 'euler', 4), 2, 10000, True)
    out = ksampler_pipeline(ms, den, first, torch.zeros(shape), sig, 'euler', None)
    cases.append({'name': 'advanced pass 2 (2-end, no noise)', 'sampler': 'euler', 'scheduler': 'simple', 'steps': 4,
                  'start': 2, 'end': 10000, 'leftover': False, 'add_noise': False, 'input': 'previous', 'out': f32list(out)})
    return {'mask_rows': [1, 2], 'cases': cases}


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, 'schedulers.json'), 'w') as f:
        json.dump(scheduler_golden(), f, separators=(',', ':'))
    with open(os.path.join(OUT_DIR, 'samplers.json'), 'w') as f:
        json.dump(sampler_golden(), f, separators=(',', ':'))


if __name__ == '__main__':
    torch.set_num_threads(1)
    main()
