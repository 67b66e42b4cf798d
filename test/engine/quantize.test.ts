import { describe, expect, it } from 'vitest';
import { decodeToFloat32 } from '../../engine/dtypes.js';
import {
  dequantizeFp8,
  fp8MaxOf,
  isScaledFp8Checkpoint,
  quantizeFp8,
  scaledFp8EffectiveWeight,
  scaledFp8Layers,
  scaledFp8LinearOperands,
  scaledFp8Markers,
  scaledFp8StorageFormat,
  type Fp8Format,
  type Fp8Granularity,
} from '../../engine/quantize.js';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { bitsOf, floatsFromBits, readGolden } from './dtype-golden.js';

interface QuantCase {
  codes: number[];
  scale_f32_bits: number[];
  dequant_f32_bits: number[];
}
const golden = readGolden<{ shape: number[]; weight_f32_bits: number[]; cases: Record<string, QuantCase> }>(
  'quantize.json',
);
const scaled = readGolden<{ shape: number[]; codes: number[]; scale_weight_f32_bits: number; effective_f32_bits: number[] }>(
  'scaled-fp8.json',
);

/** Deterministic pseudo-random weights (xorshift32 → Box–Muller) with per-row magnitudes. */
function randomWeight(rows: number, cols: number, seed: number): Tensor<'float32'> {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 2 ** 32;
  };
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const magnitude = 10 ** (next() * 8 - 4);
    for (let c = 0; c < cols; c++) {
      data[r * cols + c] = magnitude * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
    }
  }
  return tensor('float32', [rows, cols], data);
}

describe('quantizeFp8 against torch', () => {
  const weight = tensor('float32', golden.shape, floatsFromBits(golden.weight_f32_bits));
  for (const [name, want] of Object.entries(golden.cases)) {
    const [format, granularity] = name.split('/') as [Fp8Format, Fp8Granularity];
    it(`${name}: codes, scales and dequantised values are bit-exact (incl. an all-zero row)`, () => {
      const q = quantizeFp8(weight, { format, granularity });
      expect(q.weight.dtype).toBe(format);
      expect(q.weight.shape).toEqual(golden.shape);
      expect(q.scale.shape).toEqual(granularity === 'tensor' ? [] : [golden.shape[0], 1]);
      expect(Array.from(q.weight.data)).toEqual(want.codes);
      expect(bitsOf(q.scale.data)).toEqual(want.scale_f32_bits);
      expect(bitsOf(dequantizeFp8(q.weight, q.scale).data)).toEqual(want.dequant_f32_bits);
    });
  }
});

describe('quantise / dequantise round trip error bounds', () => {
  // Relative spacing of normal values is 2^-m; RNE error ≤ half of it: 2^-4 (e4m3fn), 2^-3 (e5m2).
  // Values that land in the subnormal range of the scaled grid get an absolute bound instead.
  const cases: Array<{ format: Fp8Format; relative: number; subnormalStep: number }> = [
    { format: 'float8_e4m3fn', relative: 2 ** -4, subnormalStep: 2 ** -9 },
    { format: 'float8_e5m2', relative: 2 ** -3, subnormalStep: 2 ** -16 },
  ];
  for (const { format, relative, subnormalStep } of cases) {
    for (const granularity of ['tensor', 'channel'] as const) {
      it(`${format} per ${granularity}: every element within half a step of the FP8 grid`, () => {
        const w = randomWeight(64, 96, 7);
        const q = quantizeFp8(w, { format, granularity });
        const back = dequantizeFp8(q.weight, q.scale).data;
        const cols = w.shape[1];
        let worst = 0;
        for (let i = 0; i < w.data.length; i++) {
          const scale = q.scale.data[granularity === 'tensor' ? 0 : Math.floor(i / cols)];
          const bound = Math.max(Math.abs(w.data[i]) * relative, (subnormalStep / 2) * scale) * (1 + 1e-6);
          worst = Math.max(worst, Math.abs(back[i] - w.data[i]) / bound);
        }
        expect(worst).toBeLessThanOrEqual(1);
        expect(Math.max(...Array.from(q.weight.data, (c) => Math.abs(decodeToFloat32(Uint8Array.of(c), format)[0])))).toBe(
          fp8MaxOf(format),
        );
      });
    }
  }

  it('per-channel scaling is more accurate than per-tensor on rows of very different magnitude', () => {
    const w = randomWeight(32, 64, 11);
    const err = (g: Fp8Granularity): number => {
      const q = quantizeFp8(w, { format: 'float8_e4m3fn', granularity: g });
      const back = dequantizeFp8(q.weight, q.scale).data;
      return w.data.reduce((s, v, i) => s + (back[i] - v) ** 2, 0);
    };
    expect(err('channel')).toBeLessThan(err('tensor'));
  });

  it('accepts f16/bf16 weights and rejects non-finite ones naming the weight', () => {
    const h = tensor('float16', [2, 2], new Uint16Array([0x3c00, 0x4000, 0xbc00, 0x0000]));
    const q = quantizeFp8(h, { format: 'float8_e4m3fn', granularity: 'channel' });
    expect(Array.from(dequantizeFp8(q.weight, q.scale).data)).toEqual([1, 2, -1, 0]);
    const bad = tensor('float32', [1, 2], new Float32Array([1, Infinity]));
    expect(() => quantizeFp8(bad, { format: 'float8_e5m2', granularity: 'tensor', name: 'blk.w' })).toThrow(/'blk\.w'.*non-finite/);
    expect(() => quantizeFp8(bad, { format: 'int8' as Fp8Format, granularity: 'tensor' })).toThrow(/valid: float8_e4m3fn, float8_e5m2/);
    expect(() => dequantizeFp8(tensor('float8_e4m3fn', [2, 2], new Uint8Array(4)), tensor('float32', [3], new Float32Array(3)))).toThrow(/fits neither/);
  });
});

describe('ComfyUI scaled-FP8 convention', () => {
  const keys = [
    'model.diffusion_model.scaled_fp8',
    'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight',
    'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.scale_weight',
    'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.scale_input',
    'model.diffusion_model.final_layer.linear.weight',
    'text_encoders.t5xxl.transformer.scaled_fp8',
    'first_stage_model.decoder.conv_in.weight',
  ];

  it('finds markers with their prefixes and the scaled layers', () => {
    expect(isScaledFp8Checkpoint(keys)).toBe(true);
    expect(isScaledFp8Checkpoint(['scaled_fp8'])).toBe(true);
    expect(isScaledFp8Checkpoint(['model.not_scaled_fp8', 'a.weight'])).toBe(false);
    expect(scaledFp8Markers(keys).map((m) => m.prefix)).toEqual(['model.diffusion_model.', 'text_encoders.t5xxl.transformer.']);
    expect(scaledFp8Layers(keys)).toEqual([
      {
        layer: 'model.diffusion_model.joint_blocks.0.x_block.attn.qkv',
        weight: 'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight',
        scaleWeight: 'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.scale_weight',
        scaleInput: 'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.scale_input',
      },
    ]);
    expect(scaledFp8StorageFormat('float32')).toBe('float8_e4m3fn');
    expect(scaledFp8StorageFormat('float8_e5m2')).toBe('float8_e5m2');
  });

  it('effective weight = float(W_fp8) · scale_weight, bit-exact with torch', () => {
    const w = tensor('float8_e4m3fn', scaled.shape, Uint8Array.from(scaled.codes));
    const s = tensor('float32', [], floatsFromBits([scaled.scale_weight_f32_bits]));
    expect(bitsOf(scaledFp8EffectiveWeight(w, s).data)).toEqual(scaled.effective_f32_bits);
    expect(scaledFp8EffectiveWeight(w).data).toEqual(decodeToFloat32(w.data, 'float8_e4m3fn'));
  });

  it('scales the weight or the input by element count, as ComfyUI does', () => {
    const w = tensor('float8_e4m3fn', [2, 3], Uint8Array.of(0x38, 0x40, 0x44, 0xb8, 0x00, 0x30));
    const s = tensor('float32', [1], new Float32Array([0.1]));
    const small = tensor('float32', [1, 3], new Float32Array([1, 2, 3]));
    const big = tensor('float32', [3, 3], new Float32Array(9).fill(1));
    const a = scaledFp8LinearOperands(small, w, s);
    expect(a.scaled).toBe('input');
    expect(Array.from(a.input.data)).toEqual([Math.fround(0.1), Math.fround(0.2), Math.fround(Math.fround(0.1) * 3)]);
    expect(Array.from(a.weight.data)).toEqual([1, 2, 3, -1, 0, 0.5]);
    const b = scaledFp8LinearOperands(big, w, s);
    expect(b.scaled).toBe('weight');
    expect(b.input.data).toEqual(big.data);
    expect(b.weight.data[1]).toBe(Math.fround(0.2));
    expect(() => scaledFp8EffectiveWeight(w, tensor('float32', [2], new Float32Array(2)))).toThrow(/one value/);
  });
});
