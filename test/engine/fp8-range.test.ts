/**
 * normalizeFp8Range: codes moved by 2^k into the normal range decode, times 2^−k, to exactly the
 * original values for every code of both formats (NaN kept), the largest lands within a factor 2
 * of the format's maximum, and fullRangeFp8's effective weight code·scale is bit-identical.
 */
import { describe, expect, it } from 'vitest';
import { FP8_E4M3FN_TO_F32_BITS, FP8_E5M2_TO_F32_BITS } from '../../engine/fp8.js';
import { normalizeFp8Range } from '../../engine/fp8-range.js';
import { fullRangeFp8 } from '../../engine/models/mmdit-weights.js';
import type { Tensor } from '../../engine/tensor.js';

const FORMATS = [
  ['float8_e4m3fn', FP8_E4M3FN_TO_F32_BITS, 448],
  ['float8_e5m2', FP8_E5M2_TO_F32_BITS, 57344],
] as const;

const value = (bits: Uint32Array, code: number) => new Float32Array(Uint32Array.of(bits[code]).buffer)[0];
const isSubnormal = (code: number, format: string) => (format === 'float8_e4m3fn' ? (code & 0x78) === 0 : (code & 0x7c) === 0) && (code & 0x7f) !== 0;

describe('normalizeFp8Range', () => {
  for (const [format, bits, max] of FORMATS) {
    it(`${format}: exact for every code under every shift, NaN kept, largest near the maximum`, () => {
      // Tensors whose largest code ranges over every finite magnitude: each gives its own shift.
      for (let top = 1; top < 128; top++) {
        if (Number.isNaN(value(bits, top)) || !Number.isFinite(value(bits, top))) continue;
        const codes = Uint8Array.from({ length: 256 }, (_, c) => ((c & 0x7f) <= top || Number.isNaN(value(bits, c)) ? c : c & 0x80));
        const { codes: out, shift } = normalizeFp8Range(codes, format);
        expect(shift).toBeGreaterThanOrEqual(0);
        for (let i = 0; i < codes.length; i++) {
          const before = value(bits, codes[i]);
          const after = value(bits, out[i]);
          if (Number.isNaN(before)) expect(Number.isNaN(after)).toBe(true);
          else expect(after * 2 ** -shift).toBe(before);
        }
        const largest = Math.max(...Array.from(out, (c) => Math.abs(value(bits, c))).filter(Number.isFinite));
        expect(largest).toBeLessThanOrEqual(max);
        expect(largest * 2).toBeGreaterThan(max);
      }
    });
  }

  it('weights saved without a scale (≈ ±0.02: mostly subnormal E4M3 codes) become normal codes', () => {
    const codes = Uint8Array.from({ length: 4096 }, (_, i) => (i % 7) | ((i % 2) << 7) | ((i % 3) << 3)); // exponents 0–2
    const before = codes.filter((c) => isSubnormal(c, 'float8_e4m3fn')).length;
    const { codes: out, shift } = normalizeFp8Range(codes, 'float8_e4m3fn');
    expect(before).toBeGreaterThan(codes.length / 4);
    expect(shift).toBeGreaterThanOrEqual(10);
    expect(out.filter((c) => isSubnormal(c, 'float8_e4m3fn')).length).toBe(0);
  });

  it('all-zero or already full-range tensors are returned as they are', () => {
    const zeros = new Uint8Array(16);
    expect(normalizeFp8Range(zeros, 'float8_e4m3fn')).toEqual({ codes: zeros, shift: 0 });
    const full = Uint8Array.of(0x7e, 0x01, 0xfe);
    expect(normalizeFp8Range(full, 'float8_e4m3fn').codes).toBe(full);
  });

  it('fullRangeFp8: code·scale in float32 is bit-identical before and after', () => {
    const codes = Uint8Array.from({ length: 512 }, (_, i) => (i * 37) & 0x97); // exponents 0–2, both signs
    const weight: Tensor = { dtype: 'float8_e4m3fn', shape: [16, 32], data: codes };
    const scale: Tensor<'float32'> = { dtype: 'float32', shape: [], data: Float32Array.of(0.7310000061988831) };
    const [w2, s2] = fullRangeFp8(weight, scale);
    expect(s2.data[0]).not.toBe(scale.data[0]);
    for (let i = 0; i < codes.length; i++) {
      const a = Math.fround(value(FP8_E4M3FN_TO_F32_BITS, codes[i]) * scale.data[0]);
      const b = Math.fround(value(FP8_E4M3FN_TO_F32_BITS, (w2.data as Uint8Array)[i]) * s2.data[0]);
      if (!Number.isNaN(a)) expect(b).toBe(a);
    }
  });
});
