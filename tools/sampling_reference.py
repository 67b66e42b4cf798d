"""k-diffusion samplers as ComfyUI runs them for a CONST (flow) model, re-stated in torch float32.

Used by tools/gen-sampling-golden.py. Each function: fn(model, x, sigmas, ms, noise_sampler, cb) -> x,
where model(x, sigma_vector) returns the CFG'd denoised prediction, ms is the flow model sampling,
noise_sampler(sigma, sigma_next) returns N(0,1) of x's shape and cb(i) is called once per step.
eta = 1, s_noise = 1 (ComfyUI defaults); CONST branches taken wherever ComfyUI takes them.
"""
import math

import numpy as np
import torch


def to_d(x, sigma, denoised):
    return (x - denoised) / sigma


def get_ancestral_step(sigma_from, sigma_to, eta=1.):
    if not eta:
        return sigma_to, 0.
    sigma_up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
    sigma_down = (sigma_to ** 2 - sigma_up ** 2) ** 0.5
    return sigma_down, sigma_up


def half_log_snr(sigma):  # CONST
    return sigma.logit().neg()


def half_log_snr_to_sigma(h):  # CONST
    return h.neg().sigmoid()


def offset_first_sigma(sigmas, ms):
    if len(sigmas) <= 1:
        return sigmas
    if sigmas[0] >= 1:
        sigmas = sigmas.clone()
        sigmas[0] = ms.percent_to_sigma(1e-4)
    return sigmas


def s_in(x):
    return x.new_ones([x.shape[0]])


def euler(model, x, sigmas, ms, ns, cb):
    for i in range(len(sigmas) - 1):
        sigma_hat = sigmas[i]
        denoised = model(x, sigma_hat * s_in(x))
        d = to_d(x, sigma_hat, denoised)
        cb(i)
        x = x + d * (sigmas[i + 1] - sigma_hat)
    return x


def euler_ancestral(model, x, sigmas, ms, ns, cb, eta=1.0, s_noise=1.0):
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        cb(i)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            downstep_ratio = 1 + (sigmas[i + 1] / sigmas[i] - 1) * eta
            sigma_down = sigmas[i + 1] * downstep_ratio
            alpha_ip1 = 1 - sigmas[i + 1]
            alpha_down = 1 - sigma_down
            renoise = (sigmas[i + 1] ** 2 - sigma_down ** 2 * alpha_ip1 ** 2 / alpha_down ** 2) ** 0.5
            ratio = sigma_down / sigmas[i]
            x = ratio * x + (1 - ratio) * denoised
            if eta > 0:
                x = (alpha_ip1 / alpha_down) * x + ns(sigmas[i], sigmas[i + 1]) * s_noise * renoise
    return x


def heun(model, x, sigmas, ms, ns, cb):
    for i in range(len(sigmas) - 1):
        sigma_hat = sigmas[i]
        denoised = model(x, sigma_hat * s_in(x))
        d = to_d(x, sigma_hat, denoised)
        cb(i)
        dt = sigmas[i + 1] - sigma_hat
        if sigmas[i + 1] == 0:
            x = x + d * dt
        else:
            x_2 = x + d * dt
            denoised_2 = model(x_2, sigmas[i + 1] * s_in(x))
            d_2 = to_d(x_2, sigmas[i + 1], denoised_2)
            x = x + (d + d_2) / 2 * dt
    return x


def dpm_2(model, x, sigmas, ms, ns, cb):
    for i in range(len(sigmas) - 1):
        sigma_hat = sigmas[i]
        denoised = model(x, sigma_hat * s_in(x))
        d = to_d(x, sigma_hat, denoised)
        cb(i)
        if sigmas[i + 1] == 0:
            x = x + d * (sigmas[i + 1] - sigma_hat)
        else:
            sigma_mid = sigma_hat.log().lerp(sigmas[i + 1].log(), 0.5).exp()
            x_2 = x + d * (sigma_mid - sigma_hat)
            denoised_2 = model(x_2, sigma_mid * s_in(x))
            d_2 = to_d(x_2, sigma_mid, denoised_2)
            x = x + d_2 * (sigmas[i + 1] - sigma_hat)
    return x


def dpm_2_ancestral(model, x, sigmas, ms, ns, cb, eta=1.0, s_noise=1.0):
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        downstep_ratio = 1 + (sigmas[i + 1] / sigmas[i] - 1) * eta
        sigma_down = sigmas[i + 1] * downstep_ratio
        alpha_ip1 = 1 - sigmas[i + 1]
        alpha_down = 1 - sigma_down
        renoise = (sigmas[i + 1] ** 2 - sigma_down ** 2 * alpha_ip1 ** 2 / alpha_down ** 2) ** 0.5
        cb(i)
        d = to_d(x, sigmas[i], denoised)
        if sigma_down == 0:
            x = x + d * (sigma_down - sigmas[i])
        else:
            sigma_mid = sigmas[i].log().lerp(sigma_down.log(), 0.5).exp()
            x_2 = x + d * (sigma_mid - sigmas[i])
            denoised_2 = model(x_2, sigma_mid * s_in(x))
            d_2 = to_d(x_2, sigma_mid, denoised_2)
            x = x + d_2 * (sigma_down - sigmas[i])
            x = (alpha_ip1 / alpha_down) * x + ns(sigmas[i], sigmas[i + 1]) * s_noise * renoise
    return x


def lms_coeff(order, t, i, j):
    # Exact integral of the Lagrange basis polynomial (ComfyUI uses scipy quad, exact for polynomials).
    poly = np.poly1d([1.0])
    for k in range(order):
        if j == k:
            continue
        poly = poly * np.poly1d([1.0, -float(t[i - k])]) / (float(t[i - j]) - float(t[i - k]))
    integ = poly.integ()
    return float(integ(float(t[i + 1])) - integ(float(t[i])))


def lms(model, x, sigmas, ms, ns, cb, order=4):
    sigmas_cpu = sigmas.detach().cpu().numpy()
    ds = []
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        d = to_d(x, sigmas[i], denoised)
        ds.append(d)
        if len(ds) > order:
            ds.pop(0)
        cb(i)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            cur = min(i + 1, order)
            coeffs = [lms_coeff(cur, sigmas_cpu, i, j) for j in range(cur)]
            x = x + sum(c * dd for c, dd in zip(coeffs, reversed(ds)))
    return x


def dpmpp_2s_ancestral(model, x, sigmas, ms, ns, cb, eta=1.0, s_noise=1.0):
    sigma_fn = lambda lbda: (lbda.exp() + 1) ** -1
    lambda_fn = lambda sigma: ((1 - sigma) / sigma).log()
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        downstep_ratio = 1 + (sigmas[i + 1] / sigmas[i] - 1) * eta
        sigma_down = sigmas[i + 1] * downstep_ratio
        alpha_ip1 = 1 - sigmas[i + 1]
        alpha_down = 1 - sigma_down
        renoise = (sigmas[i + 1] ** 2 - sigma_down ** 2 * alpha_ip1 ** 2 / alpha_down ** 2) ** 0.5
        cb(i)
        if sigmas[i + 1] == 0:
            d = to_d(x, sigmas[i], denoised)
            x = x + d * (sigma_down - sigmas[i])
        else:
            if sigmas[i] == 1.0:
                sigma_s = 0.9999
            else:
                t_i, t_down = lambda_fn(sigmas[i]), lambda_fn(sigma_down)
                h = t_down - t_i
                sigma_s = sigma_fn(t_i + 0.5 * h)
            r_s = sigma_s / sigmas[i]
            u = r_s * x + (1 - r_s) * denoised
            D_i = model(u, sigma_s * s_in(x))
            r_d = sigma_down / sigmas[i]
            x = r_d * x + (1 - r_d) * D_i
        if sigmas[i + 1] > 0 and eta > 0:
            x = (alpha_ip1 / alpha_down) * x + ns(sigmas[i], sigmas[i + 1]) * s_noise * renoise
    return x


def dpmpp_sde(model, x, sigmas, ms, ns, cb, eta=1.0, s_noise=1.0, r=1 / 2):
    if len(sigmas) <= 1:
        return x
    sigmas = offset_first_sigma(sigmas, ms)
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        cb(i)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            lambda_s, lambda_t = half_log_snr(sigmas[i]), half_log_snr(sigmas[i + 1])
            h = lambda_t - lambda_s
            lambda_s_1 = lambda_s + r * h
            fac = 1 / (2 * r)
            sigma_s_1 = half_log_snr_to_sigma(lambda_s_1)
            alpha_s = sigmas[i] * lambda_s.exp()
            alpha_s_1 = sigma_s_1 * lambda_s_1.exp()
            alpha_t = sigmas[i + 1] * lambda_t.exp()
            sd, su = get_ancestral_step(lambda_s.neg().exp(), lambda_s_1.neg().exp(), eta)
            lambda_s_1_ = sd.log().neg()
            h_ = lambda_s_1_ - lambda_s
            x_2 = (alpha_s_1 / alpha_s) * (-h_).exp() * x - alpha_s_1 * (-h_).expm1() * denoised
            if eta > 0 and s_noise > 0:
                x_2 = x_2 + alpha_s_1 * ns(sigmas[i], sigma_s_1) * s_noise * su
            denoised_2 = model(x_2, sigma_s_1 * s_in(x))
            sd, su = get_ancestral_step(lambda_s.neg().exp(), lambda_t.neg().exp(), eta)
            lambda_t_ = sd.log().neg()
            h_ = lambda_t_ - lambda_s
            denoised_d = (1 - fac) * denoised + fac * denoised_2
            x = (alpha_t / alpha_s) * (-h_).exp() * x - alpha_t * (-h_).expm1() * denoised_d
            if eta > 0 and s_noise > 0:
                x = x + alpha_t * ns(sigmas[i], sigmas[i + 1]) * s_noise * su
    return x


def dpmpp_2m(model, x, sigmas, ms, ns, cb):
    sigma_fn = lambda t: t.neg().exp()
    t_fn = lambda sigma: sigma.log().neg()
    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        cb(i)
        t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
        h = t_next - t
        if old_denoised is None or sigmas[i + 1] == 0:
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised
        else:
            h_last = t - t_fn(sigmas[i - 1])
            r = h_last / h
            denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised_d
        old_denoised = denoised
    return x


def dpmpp_2m_sde(model, x, sigmas, ms, ns, cb, eta=1.0, s_noise=1.0, solver_type='midpoint'):
    if len(sigmas) <= 1:
        return x
    sigmas = offset_first_sigma(sigmas, ms)
    old_denoised = None
    h, h_last = None, None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        cb(i)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            lambda_s, lambda_t = half_log_snr(sigmas[i]), half_log_snr(sigmas[i + 1])
            h = lambda_t - lambda_s
            h_eta = h * (eta + 1)
            alpha_t = sigmas[i + 1] * lambda_t.exp()
            x = sigmas[i + 1] / sigmas[i] * (-h * eta).exp() * x + alpha_t * (-h_eta).expm1().neg() * denoised
            if old_denoised is not None:
                r = h_last / h
                x = x + 0.5 * alpha_t * (-h_eta).expm1().neg() * (1 / r) * (denoised - old_denoised)
            if eta > 0 and s_noise > 0:
                x = x + ns(sigmas[i], sigmas[i + 1]) * sigmas[i + 1] * (-2 * h * eta).expm1().neg().sqrt() * s_noise
        old_denoised = denoised
        h_last = h
    return x


def dpmpp_3m_sde(model, x, sigmas, ms, ns, cb, eta=1.0, s_noise=1.0):
    if len(sigmas) <= 1:
        return x
    sigmas = offset_first_sigma(sigmas, ms)
    denoised_1, denoised_2 = None, None
    h, h_1, h_2 = None, None, None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        cb(i)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            lambda_s, lambda_t = half_log_snr(sigmas[i]), half_log_snr(sigmas[i + 1])
            h = lambda_t - lambda_s
            h_eta = h * (eta + 1)
            alpha_t = sigmas[i + 1] * lambda_t.exp()
            x = sigmas[i + 1] / sigmas[i] * (-h * eta).exp() * x + alpha_t * (-h_eta).expm1().neg() * denoised
            if h_2 is not None:
                r0 = h_1 / h
                r1 = h_2 / h
                d1_0 = (denoised - denoised_1) / r0
                d1_1 = (denoised_1 - denoised_2) / r1
                d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1)
                d2 = (d1_0 - d1_1) / (r0 + r1)
                phi_2 = h_eta.neg().expm1() / h_eta + 1
                phi_3 = phi_2 / h_eta - 0.5
                x = x + (alpha_t * phi_2) * d1 - (alpha_t * phi_3) * d2
            elif h_1 is not None:
                r = h_1 / h
                d = (denoised - denoised_1) / r
                phi_2 = h_eta.neg().expm1() / h_eta + 1
                x = x + (alpha_t * phi_2) * d
            if eta > 0 and s_noise > 0:
                x = x + ns(sigmas[i], sigmas[i + 1]) * sigmas[i + 1] * (-2 * h * eta).expm1().neg().sqrt() * s_noise
        denoised_1, denoised_2 = denoised, denoised_1
        h_1, h_2 = h, h_1
    return x


def lcm(model, x, sigmas, ms, ns, cb):
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        cb(i)
        x = denoised
        if sigmas[i + 1] > 0:
            x = ms.noise_scaling(sigmas[i + 1], ns(sigmas[i], sigmas[i + 1]), x)
    return x


def res_multistep(model, x, sigmas, ms, ns, cb, s_noise=1.0, eta=0.0):
    sigma_fn = lambda t: t.neg().exp()
    t_fn = lambda sigma: sigma.log().neg()
    phi1_fn = lambda t: torch.expm1(t) / t
    phi2_fn = lambda t: (phi1_fn(t) - 1.0) / t
    old_sigma_down = None
    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in(x))
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        cb(i)
        if sigma_down == 0 or old_denoised is None:
            d = to_d(x, sigmas[i], denoised)
            x = x + d * (sigma_down - sigmas[i])
        else:
            t, t_old, t_next, t_prev = t_fn(sigmas[i]), t_fn(old_sigma_down), t_fn(sigma_down), t_fn(sigmas[i - 1])
            h = t_next - t
            c2 = (t_prev - t_old) / h
            phi1_val, phi2_val = phi1_fn(-h), phi2_fn(-h)
            b1 = torch.nan_to_num(phi1_val - phi2_val / c2, nan=0.0)
            b2 = torch.nan_to_num(phi2_val / c2, nan=0.0)
            x = sigma_fn(h) * x + h * (b1 * denoised + b2 * old_denoised)
        if sigmas[i + 1] > 0:
            x = x + ns(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
        old_denoised = denoised
        old_sigma_down = sigma_down
    return x


# ---------------------------------------------------------------- UniPC (comfy/extra_samplers/uni_pc.py)
class SigmaConvert:
    def marginal_log_mean_coeff(self, sigma):
        return 0.5 * torch.log(1 / ((sigma * sigma) + 1))

    def marginal_alpha(self, t):
        return torch.exp(self.marginal_log_mean_coeff(t))

    def marginal_std(self, t):
        return torch.sqrt(1. - torch.exp(2. * self.marginal_log_mean_coeff(t)))

    def marginal_lambda(self, t):
        lmc = self.marginal_log_mean_coeff(t)
        log_std = 0.5 * torch.log(1. - torch.exp(2. * lmc))
        return lmc - log_std


def unipc_bh_update(ns, model_fn, variant, x, model_prev_list, t_prev_list, t, order, use_corrector):
    t_prev_0 = t_prev_list[-1]
    lambda_prev_0 = ns.marginal_lambda(t_prev_0)
    lambda_t = ns.marginal_lambda(t)
    model_prev_0 = model_prev_list[-1]
    sigma_prev_0, sigma_t = ns.marginal_std(t_prev_0), ns.marginal_std(t)
    alpha_t = torch.exp(ns.marginal_log_mean_coeff(t))
    h = lambda_t - lambda_prev_0
    rks, D1s = [], []
    for i in range(1, order):
        t_prev_i = t_prev_list[-(i + 1)]
        model_prev_i = model_prev_list[-(i + 1)]
        lambda_prev_i = ns.marginal_lambda(t_prev_i)
        rk = ((lambda_prev_i - lambda_prev_0) / h)[0]
        rks.append(rk)
        D1s.append((model_prev_i - model_prev_0) / rk)
    rks.append(1.)
    rks = torch.tensor(rks)
    R, b = [], []
    hh = -h[0]
    h_phi_1 = torch.expm1(hh)
    h_phi_k = h_phi_1 / hh - 1
    factorial_i = 1
    B_h = hh if variant == 'bh1' else torch.expm1(hh)
    for i in range(1, order + 1):
        R.append(torch.pow(rks, i - 1))
        b.append(h_phi_k * factorial_i / B_h)
        factorial_i *= (i + 1)
        h_phi_k = h_phi_k / hh - 1 / factorial_i
    R = torch.stack(R)
    b = torch.tensor(b)
    use_predictor = len(D1s) > 0
    if len(D1s) > 0:
        D1s = torch.stack(D1s, dim=1)
        rhos_p = torch.tensor([0.5]) if order == 2 else torch.linalg.solve(R[:-1, :-1], b[:-1])
    else:
        D1s = None
    if use_corrector:
        rhos_c = torch.tensor([0.5]) if order == 1 else torch.linalg.solve(R, b)
    model_t = None
    x_t_ = (sigma_t / sigma_prev_0)[:, None, None, None] * x - (alpha_t * h_phi_1)[:, None, None, None] * model_prev_0
    pred_res = torch.einsum('k,bkchw->bchw', rhos_p, D1s) if use_predictor else 0
    x_t = x_t_ - (alpha_t * B_h)[:, None, None, None] * pred_res
    if use_corrector:
        model_t = model_fn(x_t, t)
        corr_res = torch.einsum('k,bkchw->bchw', rhos_c[:-1], D1s) if D1s is not None else 0
        D1_t = model_t - model_prev_0
        x_t = x_t_ - (alpha_t * B_h)[:, None, None, None] * (corr_res + rhos_c[-1] * D1_t)
    return x_t, model_t


def uni_pc_sample(model, x, sigmas, ms, ns_unused, cb, variant='bh1'):
    timesteps = sigmas  # ComfyUI aliases sigmas here (timesteps = sigmas[:]), so the caller sees 0.001
    if sigmas[-1] == 0:
        timesteps[-1] = 0.001
    ns = SigmaConvert()
    x = x / torch.sqrt(1.0 + timesteps[0] ** 2.0)

    def model_fn(xx, t):  # predict_eps_sigma -> noise, then UniPC's data_prediction_fn
        sigma = t.view(t.shape[:1] + (1,) * (xx.ndim - 1))
        inp = xx * ((sigma ** 2 + 1.0) ** 0.5)
        noise = (inp - model(inp, t)) / sigma
        alpha_t, sigma_t = ns.marginal_alpha(t), ns.marginal_std(t)
        return (xx - sigma_t[:, None, None, None] * noise) / alpha_t[:, None, None, None]

    order = min(3, len(timesteps) - 2)
    steps = len(timesteps) - 1
    for step_index in range(steps):
        if step_index == 0:
            vec_t = timesteps[0].expand((x.shape[0]))
            model_prev_list = [model_fn(x, vec_t)]
            t_prev_list = [vec_t]
        elif step_index < order:
            vec_t = timesteps[step_index].expand(x.shape[0])
            x, model_x = unipc_bh_update(ns, model_fn, variant, x, model_prev_list, t_prev_list, vec_t, step_index, True)
            if model_x is None:
                model_x = model_fn(x, vec_t)
            model_prev_list.append(model_x)
            t_prev_list.append(vec_t)
        else:
            extra = 1 if step_index == steps - 1 else 0
            for step in range(step_index, step_index + 1 + extra):
                vec_t = timesteps[step].expand(x.shape[0])
                step_order = min(order, steps + 1 - step)
                use_corrector = step != steps
                x, model_x = unipc_bh_update(ns, model_fn, variant, x, model_prev_list, t_prev_list, vec_t, step_order, use_corrector)
                for i in range(order - 1):
                    t_prev_list[i] = t_prev_list[i + 1]
                    model_prev_list[i] = model_prev_list[i + 1]
                t_prev_list[-1] = vec_t
                if step < steps:
                    if model_x is None:
                        model_x = model_fn(x, vec_t)
                    model_prev_list[-1] = model_x
        cb(step_index)
    x /= ns.marginal_alpha(timesteps[-1])
    return x


SAMPLERS = {
    'euler': euler,
    'euler_ancestral': euler_ancestral,
    'heun': heun,
    'dpm_2': dpm_2,
    'dpm_2_ancestral': dpm_2_ancestral,
    'lms': lms,
    'dpmpp_2s_ancestral': dpmpp_2s_ancestral,
    'dpmpp_sde': dpmpp_sde,
    'dpmpp_2m': dpmpp_2m,
    'dpmpp_2m_sde': dpmpp_2m_sde,
    'dpmpp_3m_sde': dpmpp_3m_sde,
    'lcm': lcm,
    'res_multistep': res_multistep,
    'ddim': euler,
    'uni_pc': lambda *a: uni_pc_sample(*a, variant='bh1'),
    'uni_pc_bh2': lambda *a: uni_pc_sample(*a, variant='bh2'),
}
