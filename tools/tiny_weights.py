"""Procedural weights for tiny test checkpoints, reproduced bit for bit by
test/engine/helpers/tiny-weights.ts (so the checkpoints need not be committed, only a manifest).

Every value comes from a 32-bit integer hash of (tensor id, element index), so it is the same in
numpy and in JavaScript, and lies on a grid that float32, float16 and (for 'fp8') e4m3fn hold exactly:
  kind 'weight': ((x >> 21) - 1024) / 1024 * scale        (scale a power of two)
  kind 'norm'  : 1 + ((x >> 25) - 64) / 256                (values in [0.75, 1.25))
  kind 'fp8'   : e4m3fn code ((x >> 8) % 0x28) | (x & 0x80) (|value| <= 0.234375)
  kind 'const' : every element = value
"""
import numpy as np

M32 = 0xFFFFFFFF


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode('utf-8'):
        h ^= b
        h = (h * 0x01000193) & M32
    return h


def hash_stream(tensor_id, n):
    h = np.uint32(fnv1a32(tensor_id))
    i = np.arange(1, n + 1, dtype=np.uint64)
    x = (h ^ ((i * 0x9E3779B1) & M32).astype(np.uint32)).astype(np.uint32)
    x ^= x >> np.uint32(16)
    x = ((x.astype(np.uint64) * 0x85EBCA6B) & M32).astype(np.uint32)
    x ^= x >> np.uint32(13)
    x = ((x.astype(np.uint64) * 0xC2B2AE35) & M32).astype(np.uint32)
    x ^= x >> np.uint32(16)
    return x


def fp8_e4m3fn_decode(codes):
    codes = codes.astype(np.int64)
    sign = np.where(codes & 0x80, -1.0, 1.0)
    e = (codes >> 3) & 0xF
    m = codes & 7
    val = np.where(e == 0, m * 2.0 ** -9, (1 + m / 8.0) * np.power(2.0, e - 7))
    return sign * val


def generate(spec):
    """spec: {id, shape, kind, scale?, value?} → (float64 values, fp8 codes or None)."""
    n = int(np.prod(spec['shape'])) if spec['shape'] else 1
    kind = spec['kind']
    if kind == 'const':
        return np.full(n, spec['value'], dtype=np.float64).reshape(spec['shape']), None
    x = hash_stream(spec['id'], n)
    if kind == 'weight':
        v = ((x >> np.uint32(21)).astype(np.float64) - 1024) / 1024 * spec['scale']
        return v.reshape(spec['shape']), None
    if kind == 'norm':
        v = 1 + ((x >> np.uint32(25)).astype(np.float64) - 64) / 256
        return v.reshape(spec['shape']), None
    if kind == 'fp8':
        codes = (((x >> np.uint32(8)) % 0x28) | (x & np.uint32(0x80))).astype(np.uint8)
        return fp8_e4m3fn_decode(codes).reshape(spec['shape']), codes.reshape(spec['shape'])
    raise ValueError('unknown kind %r' % kind)
