"""Golden outputs of torch.nn.functional.interpolate (and a bislerp written from ComfyUI's
formula) for test/nodes/common-upscale.test.ts.

Run with Debian's torch:  /usr/bin/python3 tools/nodes-resize-golden.py
Writes test/golden/nodes/resize.json (small: a few hundred floats per case).
"""
import json
import math
import os

import torch

torch.set_num_threads(1)


def make_input(n, c, h, w):
    vals = [math.sin(0.37 * i) * 0.5 + 0.5 + (0.3 if i % 7 == 0 else 0.0) for i in range(n * c * h * w)]
    return torch.tensor(vals, dtype=torch.float32).reshape(n, c, h, w)


def center_crop(s, width, height):
    old_w, old_h = s.shape[-1], s.shape[-2]
    old_aspect, new_aspect = old_w / old_h, width / height
    x = y = 0
    if old_aspect > new_aspect:
        x = round((old_w - old_w * (new_aspect / old_aspect)) / 2)
    elif old_aspect < new_aspect:
        y = round((old_h - old_h * (old_aspect / new_aspect)) / 2)
    return s.narrow(-2, y, old_h - y * 2).narrow(-1, x, old_w - x * 2)


def slerp(b1, b2, r):
    c = b1.shape[-1]
    n1 = torch.norm(b1, dim=-1, keepdim=True)
    n2 = torch.norm(b2, dim=-1, keepdim=True)
    u1 = b1 / n1
    u2 = b2 / n2
    u1[n1.expand(-1, c) == 0.0] = 0.0
    u2[n2.expand(-1, c) == 0.0] = 0.0
    dot = (u1 * u2).sum(1)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    res = (torch.sin((1.0 - r.squeeze(1)) * omega) / so).unsqueeze(1) * u1 + (torch.sin(r.squeeze(1) * omega) / so).unsqueeze(1) * u2
    res *= (n1 * (1.0 - r) + n2 * r).expand(-1, c)
    res[dot > 1 - 1e-5] = b1[dot > 1 - 1e-5]
    res[dot < 1e-5 - 1] = (b1 * (1.0 - r) + b2 * r)[dot < 1e-5 - 1]
    return res


def bilinear_data(old, new):
    c1 = torch.nn.functional.interpolate(torch.arange(old, dtype=torch.float32).reshape(1, 1, 1, -1), size=(1, new), mode="bilinear")
    ratios = c1 - c1.floor()
    c1 = c1.to(torch.int64)
    c2 = torch.arange(old, dtype=torch.float32).reshape(1, 1, 1, -1) + 1
    c2[:, :, :, -1] -= 1
    c2 = torch.nn.functional.interpolate(c2, size=(1, new), mode="bilinear").to(torch.int64)
    return ratios, c1, c2


def bislerp(samples, width, height):
    n, c, h, w = samples.shape
    ratios, c1, c2 = bilinear_data(w, width)
    c1 = c1.expand((n, c, h, -1))
    c2 = c2.expand((n, c, h, -1))
    ratios = ratios.expand((n, 1, h, -1))
    p1 = samples.gather(-1, c1).movedim(1, -1).reshape((-1, c))
    p2 = samples.gather(-1, c2).movedim(1, -1).reshape((-1, c))
    r = ratios.movedim(1, -1).reshape((-1, 1))
    result = slerp(p1, p2, r).reshape(n, h, width, c).movedim(-1, 1)
    ratios, c1, c2 = bilinear_data(h, height)
    c1 = c1.reshape((1, 1, -1, 1)).expand((n, c, -1, width))
    c2 = c2.reshape((1, 1, -1, 1)).expand((n, c, -1, width))
    ratios = ratios.reshape((1, 1, -1, 1)).expand((n, 1, -1, width))
    p1 = result.gather(-2, c1).movedim(1, -1).reshape((-1, c))
    p2 = result.gather(-2, c2).movedim(1, -1).reshape((-1, c))
    r = ratios.movedim(1, -1).reshape((-1, 1))
    return slerp(p1, p2, r).reshape(n, height, width, c).movedim(-1, 1)


def run(x, width, height, method, crop, channels_last):
    s = center_crop(x, width, height) if crop == "center" else x
    if channels_last:
        s = s.contiguous(memory_format=torch.channels_last)
    if method == "bislerp":
        return bislerp(s, width, height)
    return torch.nn.functional.interpolate(s, size=(height, width), mode=method)


def main():
    cases = []
    x = make_input(1, 3, 5, 7)
    lat = make_input(2, 4, 4, 6) * 2.0 - 1.0
    for method in ["nearest-exact", "bilinear", "area", "bicubic"]:
        for (w, h) in [(11, 9), (4, 3), (3, 8), (7, 5)]:
            for cl in [False, True]:
                cases.append(dict(input="image", method=method, width=w, height=h, crop="disabled", channels_last=cl,
                                  output=run(x, w, h, method, "disabled", cl).flatten().tolist()))
    for method in ["bilinear", "bicubic"]:
        cases.append(dict(input="image", method=method, width=6, height=6, crop="center", channels_last=True,
                          output=run(x, 6, 6, method, "center", True).flatten().tolist()))
    for (w, h) in [(9, 6), (3, 2), (6, 4)]:
        cases.append(dict(input="latent", method="bislerp", width=w, height=h, crop="disabled", channels_last=False,
                          output=run(lat, w, h, "bislerp", "disabled", False).flatten().tolist()))
    out = dict(
        torch_version=torch.__version__,
        inputs=dict(image=dict(shape=list(x.shape), data=x.flatten().tolist()),
                    latent=dict(shape=list(lat.shape), data=lat.flatten().tolist())),
        cases=cases,
    )
    path = os.path.join(os.path.dirname(__file__), "..", "test", "golden", "nodes", "resize.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", path, len(cases), "cases")


if __name__ == "__main__":
    main()
