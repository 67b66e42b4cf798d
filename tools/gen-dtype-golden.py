#!/usr/bin/env python3
"""Golden values for engine/dtypes.ts, engine/quantize.ts and engine/safetensors.ts.

Regenerate (from the repository root; Debian's PyTorch, not the pyenv python on PATH):

    /usr/bin/python3 tools/gen-dtype-golden.py            # writes test/golden/dtypes/*
    DTYPE_GOLDEN_OUT=/tmp/x python3 tools/gen-dtype-golden.py --check-port   # torch >= 2.1: compare

Output is deterministic (fixed seed, sorted JSON, no versions or timestamps inside).

float16/bfloat16 values come from torch itself. torch 1.13 (the Debian one) has no float8 dtypes,
so FP8 values then come from `C10Fp8`, a line-by-line numpy port of c10's
`fp8e4m3fn_from_fp32_value` / `fp8e5m2_from_fp32_value` / `*_to_fp32_value`. Where torch >= 2.1
is available the script uses torch's native float8 casts instead and, with `--check-port`,
asserts that the port gives identical bits (done on torch 2.11; see test/golden/dtypes/SOURCES.md).

`torch-written.safetensors` is written by the `safetensors` package when importable (FP8 tensors
need torch >= 2.1); otherwise by `write_safetensors_by_hand`, which reproduces the library's
layout byte for byte (dtype-descending then name order, compact JSON, space padding to 8).
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np
import torch

OUT_DIR = os.environ.get('DTYPE_GOLDEN_OUT') or os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test',
                                                             'golden', 'dtypes')
SEED = 20261125
HAS_NATIVE_FP8 = hasattr(torch, 'float8_e4m3fn')


class C10Fp8:
    """numpy port of c10/util/Float8_e4m3fn.h and Float8_e5m2.h (uint32/float32 arithmetic)."""

    @staticmethod
    def _denorm(abs_bits, magic_exp):
        magic = np.uint32(magic_exp << 23)
        summed = abs_bits.view(np.float32) + np.array([magic], dtype=np.uint32).view(np.float32)[0]
        return (summed.astype(np.float32).view(np.uint32) - magic) & np.uint32(0xFF)

    @staticmethod
    def from_f32(bits, fmt):
        bits = np.asarray(bits, dtype=np.uint32)
        sign = ((bits >> 24) & 0x80).astype(np.uint32)
        ab = bits & np.uint32(0x7FFFFFFF)
        if fmt == 'e4m3fn':
            over, small, magic, shift, bias = 1087 << 20, 121 << 23, 141, 20, 7
            over_code = np.full_like(ab, 0x7F)
        else:
            over, small, magic, shift, bias = 143 << 23, 113 << 23, 134, 21, 15
            over_code = np.where(ab > 0x7F800000, 0x7F, 0x7C).astype(np.uint32)
        mant_odd = (ab >> shift) & 1
        normal = ((ab.astype(np.int64) + ((bias - 127) << 23) + ((1 << (shift - 1)) - 1) + mant_odd) >> shift) & 0xFF
        res = np.where(ab >= over, over_code, np.where(ab < small, C10Fp8._denorm(ab, magic), normal))
        return (res.astype(np.uint32) | sign).astype(np.uint8)

    @staticmethod
    def to_f32_bits(codes, fmt):
        codes = np.asarray(codes, dtype=np.uint32)
        if fmt == 'e5m2':
            return half_bits_to_f32_bits(codes << 8)
        w = codes << 24
        sign = w & np.uint32(0x80000000)
        nonsign = (w & np.uint32(0x7FFFFFFF)).astype(np.int64)
        clz = np.array([32 - int(v).bit_length() for v in nonsign], dtype=np.int64)
        renorm = np.where(clz > 4, clz - 4, 0)
        inf_nan = (((nonsign + 0x01000000) & 0xFFFFFFFF).astype(np.uint32).view(np.int32) >> 8) & 0x7F800000
        zero_mask = ((nonsign - 1) & 0xFFFFFFFF).astype(np.uint32).view(np.int32) >> 31
        norm = (((nonsign << renorm) & 0xFFFFFFFF) >> 4) + ((0x78 - renorm) << 23)
        res = (norm.astype(np.int64) | inf_nan.astype(np.int64)) & ~zero_mask.astype(np.int64)
        return (res.astype(np.uint32) | sign).astype(np.uint32)


def half_bits_to_f32_bits(half_bits):
    h = torch.from_numpy(np.asarray(half_bits, dtype=np.uint32).astype(np.uint16).view(np.int16).copy())
    return h.view(torch.float16).to(torch.float32).view(torch.int32).numpy().view(np.uint32)


def f32_tensor(bits):
    return torch.from_numpy(np.asarray(bits, dtype=np.uint32).view(np.float32).copy())


def cast_bits(bits, target):
    """torch `.to(target)` of float32 bit patterns -> unsigned bit patterns of the result."""
    x = f32_tensor(bits)
    if target in ('float16', 'bfloat16'):
        y = x.to(getattr(torch, target)).view(torch.int16).numpy().view(np.uint16)
        return y.astype(np.uint32)
    fmt = 'e4m3fn' if target == 'float8_e4m3fn' else 'e5m2'
    if HAS_NATIVE_FP8:
        return x.to(getattr(torch, target)).view(torch.uint8).numpy().astype(np.uint32)
    return C10Fp8.from_f32(bits, fmt).astype(np.uint32)


def fp8_decode_bits(codes, target):
    fmt = 'e4m3fn' if target == 'float8_e4m3fn' else 'e5m2'
    if HAS_NATIVE_FP8:
        t = torch.from_numpy(np.asarray(codes, dtype=np.uint8).copy()).view(getattr(torch, target))
        return t.to(torch.float32).view(torch.int32).numpy().view(np.uint32)
    return C10Fp8.to_f32_bits(codes, fmt)


def f32(x):
    return int(np.array([x], dtype=np.float32).view(np.uint32)[0])


def next_up(bits):
    return [b + 1 for b in bits if (b & 0x7FFFFFFF) < 0x7F800000]


def fp8_tie_inputs(target, max_code):
    """Every midpoint between neighbouring positive codes, and the floats either side of it."""
    values = fp8_decode_bits(np.arange(0, max_code + 1), target).view(np.float32).astype(np.float64)
    mids = [f32((a + b) / 2) for a, b in zip(values[:-1], values[1:])]
    mids += [f32(values[-1] + (values[-1] - values[-2]) / 2)]  # first overflow tie
    out = []
    for m in mids:
        out += [m, m - 1, m + 1]
    return out


def edge_inputs():
    specials = [0.0, -0.0, 1.0, -1.0, 448.0, 449.0, 463.99, 464.0, 464.00003, 470.0, 479.99, 480.0, 1000.0,
                57344.0, 61439.0, 61440.0, 65504.0, 65519.0, 65520.0, 65536.0, 3.4028234e38, -3.4028234e38,
                2.0 ** -9, 2.0 ** -10, 3 * 2.0 ** -11, 2.0 ** -16, 2.0 ** -17, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26,
                2.0 ** -14, 2.0 ** -6, 1e-45, 1e-40, 1.17549435e-38, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8]
    bits = [f32(v) for v in specials]
    bits += [f32(-v) for v in specials]
    bits += [0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF, 0xFFFFFFFF]
    bits += fp8_tie_inputs('float8_e4m3fn', 0x7E) + fp8_tie_inputs('float8_e5m2', 0x7B)
    bits += [b | 0x80000000 for b in bits if b < 0x80000000][:400]
    bits += next_up(bits)[:200]
    return sorted(set(int(b) & 0xFFFFFFFF for b in bits))


def random_inputs(rng, n):
    """Random float32 across magnitudes 2^-30..2^20 (fp8/f16 range) plus fully random bit patterns."""
    sign = rng.integers(0, 2, n).astype(np.uint32) << 31
    exponent = rng.integers(127 - 30, 127 + 21, n).astype(np.uint32) << 23
    mantissa = rng.integers(0, 1 << 23, n).astype(np.uint32)
    spread = (sign | exponent | mantissa).tolist()
    anything = rng.integers(0, 1 << 32, n // 4, dtype=np.uint64).astype(np.uint32).tolist()
    return [int(b) for b in spread + anything]


def cast_golden(rng):
    inputs = edge_inputs() + random_inputs(rng, 4000)
    out = {'inputs_f32_bits': inputs}
    for target in ('float16', 'bfloat16', 'float8_e4m3fn', 'float8_e5m2'):
        out[target] = [int(v) for v in cast_bits(inputs, target)]
    return out


def fp8_codes_golden():
    out = {}
    for target in ('float8_e4m3fn', 'float8_e5m2'):
        decoded = fp8_decode_bits(np.arange(256), target)
        out[target] = {'f32_bits': [int(v) for v in decoded],
                       'reencoded': [int(v) for v in cast_bits(decoded, target)]}
    return out


def sha256_hex(array):
    return hashlib.sha256(np.ascontiguousarray(array).astype(array.dtype.newbyteorder('<')).tobytes()).hexdigest()


def half_tables_golden():
    codes = np.arange(65536, dtype=np.uint32)
    out = {}
    for target in ('float16', 'bfloat16'):
        t = torch.from_numpy(codes.astype(np.uint16).view(np.int16).copy()).view(getattr(torch, target))
        decoded = t.to(torch.float32)
        reencoded = decoded.to(getattr(torch, target)).view(torch.int16).numpy().view(np.uint16)
        out[target] = {'decoded_f32_sha256': sha256_hex(decoded.view(torch.int32).numpy().view(np.uint32)),
                       'reencoded_sha256': sha256_hex(reencoded)}
    return out


def quantize_reference(w, target, granularity):
    fp8_max = torch.finfo(getattr(torch, target)).max if HAS_NATIVE_FP8 else (448.0 if 'e4m3' in target else 57344.0)
    amax = w.abs().amax() if granularity == 'tensor' else w.abs().amax(dim=1, keepdim=True)
    scale = torch.where(amax == 0, torch.ones_like(amax), amax / fp8_max)
    scaled = (w / scale).clamp(-fp8_max, fp8_max)
    codes = cast_bits(scaled.contiguous().view(torch.int32).numpy().view(np.uint32).ravel(), target)
    dequant = torch.from_numpy(fp8_decode_bits(codes, target).view(np.float32).copy()).reshape(w.shape) * scale
    return {'codes': [int(c) for c in codes],
            'scale_f32_bits': [int(b) for b in scale.contiguous().view(torch.int32).numpy().view(np.uint32).ravel()],
            'dequant_f32_bits': [int(b) for b in dequant.contiguous().view(torch.int32).numpy().view(np.uint32).ravel()]}


def quantize_golden(rng):
    rows, cols = 8, 16
    row_scale = np.array([1e-3, 0.02, 0.5, 1.0, 3.0, 100.0, 2000.0, 0.0], dtype=np.float32)[:, None]
    w = torch.from_numpy((rng.standard_normal((rows, cols)).astype(np.float32) * row_scale).astype(np.float32))
    cases = {}
    for target in ('float8_e4m3fn', 'float8_e5m2'):
        for granularity in ('tensor', 'channel'):
            cases[f'{target}/{granularity}'] = quantize_reference(w, target, granularity)
    return {'shape': [rows, cols],
            'weight_f32_bits': [int(b) for b in w.view(torch.int32).numpy().view(np.uint32).ravel()],
            'cases': cases}


def scaled_fp8_golden(rng):
    """ComfyUI float32 mode: weight.to(float32) * scale_weight.to(float32)."""
    shape = [6, 10]
    codes = rng.integers(0, 256, shape[0] * shape[1]).astype(np.uint32)
    codes[(codes & 0x7F) == 0x7F] = 0x3C  # keep the test free of NaN codes
    scale = np.float32(rng.uniform(1e-4, 1e-2))
    decoded = torch.from_numpy(fp8_decode_bits(codes, 'float8_e4m3fn').view(np.float32).copy())
    effective = decoded * torch.tensor(scale, dtype=torch.float32)
    return {'shape': shape, 'codes': [int(c) for c in codes], 'scale_weight_f32_bits': f32(scale),
            'effective_f32_bits': [int(b) for b in effective.view(torch.int32).numpy().view(np.uint32)]}


# safetensors dtype strings in the order of the Rust `Dtype` enum (the writer sorts descending).
ST_DTYPE_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64',
                  'I64', 'U64']
NUMPY_STORAGE = {'F64': np.float64, 'F32': np.float32, 'F16': np.uint16, 'BF16': np.uint16, 'F8_E4M3': np.uint8,
                 'F8_E5M2': np.uint8, 'I64': np.int64, 'I32': np.int32, 'I16': np.int16, 'I8': np.int8, 'U8': np.uint8,
                 'BOOL': np.bool_}


def safetensors_fixture_tensors(engine_dtypes_only):
    """name -> (safetensors dtype, shape, numpy storage array)."""
    def arr(dtype, values):
        return np.array(values, dtype=NUMPY_STORAGE[dtype])
    t = {
        'f32': ('F32', [2, 3], arr('F32', [1.5, -2.25, 0.0, 3.0e-39, 65504.0, -1e10])),
        'f16': ('F16', [2, 2], arr('F16', [0x3C00, 0x8001, 0x7C00, 0x7BFF])),
        'bf16': ('BF16', [4], arr('BF16', [0x3F80, 0xC049, 0x0001, 0xFF80])),
        'f8_e4m3': ('F8_E4M3', [2, 4], arr('F8_E4M3', [0x00, 0x01, 0x38, 0x7E, 0x7F, 0x80, 0xB8, 0xFE])),
        'f8_e5m2': ('F8_E5M2', [3], arr('F8_E5M2', [0x3C, 0x7C, 0x7D])),
        'i64': ('I64', [3], arr('I64', [2 ** 62 + 1, -5, 0])),
        'i32': ('I32', [2], arr('I32', [-(2 ** 31), 7])),
        'u8': ('U8', [2], arr('U8', [0, 255])),
        'bool': ('BOOL', [3], arr('BOOL', [True, False, True])),
        'scalar': ('F32', [], arr('F32', [7.5])),
        'empty': ('F32', [0, 3], arr('F32', [])),
        'model.diffusion_model.x_embedder.proj.weight': ('F16', [1, 1, 1], arr('F16', [0x4000])),
    }
    if not engine_dtypes_only:
        t['f64'] = ('F64', [4], arr('F64', [1 / 3, -1e300, 1e-50, 65504.1]))
        t['i16'] = ('I16', [3], arr('I16', [-32768, 1, 32767]))
        t['i8'] = ('I8', [2], arr('I8', [-128, 127]))
    return t


def st_sort_key(item):
    name, (dtype, _shape, _data) = item
    return (-ST_DTYPE_ORDER.index(dtype), name.encode('utf-8'))


def write_safetensors_by_hand(path, tensors, metadata):
    header, offset, blobs = {}, 0, []
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, (dtype, shape, data) in sorted(tensors.items(), key=st_sort_key):
        blob = data.astype(data.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def write_safetensors_with_library(path, tensors, metadata):
    from safetensors.torch import save_file
    torch_tensors = {}
    for name, (dtype, shape, data) in tensors.items():
        t = torch.from_numpy(data.copy()).reshape(shape)
        view_as = {'F16': torch.float16, 'BF16': torch.bfloat16, 'F8_E4M3': getattr(torch, 'float8_e4m3fn', None),
                   'F8_E5M2': getattr(torch, 'float8_e5m2', None)}.get(dtype)
        if view_as is not None:
            t = t.view(torch.int16 if data.dtype == np.uint16 else torch.uint8).view(view_as)
        torch_tensors[name] = t
    save_file(torch_tensors, path, metadata=metadata)


def write_safetensors_fixture(path, tensors, metadata):
    try:
        import safetensors  # noqa: F401
        usable = HAS_NATIVE_FP8
    except ImportError:
        usable = False
    (write_safetensors_with_library if usable else write_safetensors_by_hand)(path, tensors, metadata)
    return 'safetensors library' if usable else 'hand-written'


def expected_values(tensors):
    """What engine/safetensors.ts read() returns: float storage as float32 bits, ints as numbers/strings."""
    out = {}
    for name, (dtype, shape, data) in sorted(tensors.items()):
        if dtype == 'F64':
            values = [int(b) for b in data.astype(np.float32).view(np.uint32)]
        elif dtype == 'F32':
            values = [int(b) for b in data.view(np.uint32)]
        elif dtype == 'I64':
            values = [str(int(v)) for v in data]
        else:
            values = [int(v) for v in data]
        out[name] = {'dtype': dtype, 'shape': shape, 'values': values}
    return out


def write_json(name, obj):
    with open(os.path.join(OUT_DIR, name), 'w') as f:
        json.dump(obj, f, sort_keys=True, separators=(',', ':'))
        f.write('\n')


def main():
    np.seterr(all='ignore')  # the port adds NaN/inf on purpose
    os.makedirs(OUT_DIR, exist_ok=True)
    if '--check-port' in sys.argv:
        check_port_against_native()
    rng = np.random.default_rng(SEED)
    write_json('casts.json', cast_golden(rng))
    write_json('fp8-codes.json', fp8_codes_golden())
    write_json('half-tables.json', half_tables_golden())
    write_json('quantize.json', quantize_golden(rng))
    write_json('scaled-fp8.json', scaled_fp8_golden(rng))
    metadata = {'format': 'pt'}
    writers = {}
    for fixture, engine_only in (('torch-written', False), ('torch-written-engine-dtypes', True)):
        tensors = safetensors_fixture_tensors(engine_only)
        writers[fixture] = write_safetensors_fixture(os.path.join(OUT_DIR, fixture + '.safetensors'), tensors, metadata)
        write_json(fixture + '.expected.json', {'metadata': metadata, 'tensors': expected_values(tensors)})
    print('fp8 reference:', 'torch native' if HAS_NATIVE_FP8 else 'c10 port', '| safetensors:', writers)


def check_port_against_native():
    """The port must agree with torch's float8 casts bit for bit (needs torch >= 2.1)."""
    assert HAS_NATIVE_FP8, 'torch has no float8 dtypes; nothing to check the port against'
    rng = np.random.default_rng(SEED)
    inputs = np.array(edge_inputs() + random_inputs(rng, 200000), dtype=np.uint32)
    for target, fmt in (('float8_e4m3fn', 'e4m3fn'), ('float8_e5m2', 'e5m2')):
        native = cast_bits(inputs, target)
        port = C10Fp8.from_f32(inputs, fmt).astype(np.uint32)
        bad = np.nonzero(native != port)[0]
        assert len(bad) == 0, f'{target} encode differs at {[hex(int(inputs[i])) for i in bad[:8]]}'
        small = np.array([int(cast_bits(inputs[i:i + 1], target)[0]) for i in range(0, len(inputs), 997)])
        assert (small == native[::997]).all(), f'{target}: 1-element casts differ from vectorised ones'
        native_dec = fp8_decode_bits(np.arange(256), target)
        port_dec = C10Fp8.to_f32_bits(np.arange(256), fmt)
        assert (native_dec == port_dec).all(), f'{target} decode differs: ' + str(
            [(i, hex(int(native_dec[i])), hex(int(port_dec[i]))) for i in np.nonzero(native_dec != port_dec)[0][:8]])
    print(f'port check: {len(inputs)} inputs, e4m3fn and e5m2 encode + all 256 decodes identical to torch')


if __name__ == '__main__':
    main()
