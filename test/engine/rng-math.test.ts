/**
 * The building blocks of the torch-compatible RNG: exact float32 FMA, hex-float parsing, glibc's
 * float math ports, seed normalisation and generator argument checks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fma32, float32Bits, float32FromBits, parseHexDouble } from '../../engine/rng/float32-math.js';
import { glibcCosf, glibcLogf, glibcSinf } from '../../engine/rng/glibc-mathf.js';
import { mtSeed32, normalizeSeed } from '../../engine/rng/seed.js';
import { TorchGenerator } from '../../engine/rng/torch-generator.js';
import { readRngGolden } from './rng-golden.js';

/** Exact value of a finite normal float32 as integer mantissa · 2^exponent. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const bits = float32Bits(x);
  const sign = bits >>> 31 ? -1n : 1n;
  const field = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  if (field === 0) return { mantissa: sign * BigInt(fraction), exponent: -149 };
  return { mantissa: sign * BigInt(fraction | 0x800000), exponent: field - 150 };
}

/** Reference fma: the exact a·b + c in BigInt, rounded once to nearest-even float32 (normal results). */
function exactFma32(a: number, b: number, c: number): number {
  const pa = decompose(a);
  const pb = decompose(b);
  const pc = decompose(c);
  const productExp = pa.exponent + pb.exponent;
  const exp = Math.min(productExp, pc.exponent);
  const total =
    pa.mantissa * pb.mantissa * 2n ** BigInt(productExp - exp) + pc.mantissa * 2n ** BigInt(pc.exponent - exp);
  if (total === 0n) {
    // IEEE 754 round-to-nearest: an exact zero is −0 only when a·b and c are both −0; else +0.
    const negative = (x: number) => x < 0 || Object.is(x, -0);
    const productIsZero = pa.mantissa === 0n || pb.mantissa === 0n;
    return productIsZero && c === 0 && negative(a) !== negative(b) && negative(c) ? -0 : 0;
  }
  const magnitude = total < 0n ? -total : total;
  const shift = magnitude.toString(2).length - 24;
  if (shift <= 0) return Number(total) * 2 ** exp;
  let kept = magnitude >> BigInt(shift);
  const rest = magnitude - (kept << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  if (rest > half || (rest === half && (kept & 1n) === 1n)) kept += 1n;
  return (total < 0n ? -1 : 1) * Number(kept) * 2 ** (exp + shift);
}

const f32 = (min: number, max: number) =>
  fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true });

describe('fma32', () => {
  it('matches an exact BigInt fused multiply-add on random float32 triples', () => {
    fc.assert(
      fc.property(f32(-64, 64), f32(-64, 64), f32(-4096, 4096), (a, b, c) => {
        const expected = exactFma32(a, b, c);
        if (Math.abs(expected) < 2 ** -126 && expected !== 0) return; // subnormal results are out of scope
        expect(fma32(a, b, c)).toBe(expected);
      }),
      { numRuns: 20000 },
    );
  });

  it('signed zeros follow IEEE 754 (fast-check once found 0·(−0) + (−0) = −0 against a reference that said +0)', () => {
    expect(Object.is(fma32(0, -0, -0), -0)).toBe(true);
    expect(Object.is(exactFma32(0, -0, -0), -0)).toBe(true);
    expect(Object.is(fma32(-0, -0, -0), 0)).toBe(true);
    expect(Object.is(fma32(2, 3, -6), 0)).toBe(true);
    expect(Object.is(exactFma32(2, 3, -6), 0)).toBe(true);
  });

  it('rounds correctly where the double sum lands exactly on a float32 midpoint', () => {
    const a = Math.fround(2 ** -16 * (1 + 2 ** -23));
    const b = Math.fround(1 - 2 ** -23);
    // a·b = 2^-16 − 2^-62: double rounding would give the midpoint and then round to even.
    const below = 256 + 2 ** -15;
    expect(fma32(a, b, below)).toBe(exactFma32(a, b, below));
    expect(fma32(a, b, below)).toBe(below);
    expect(Math.fround(a * b + below)).not.toBe(below); // the naive double-then-float result is wrong
    const above = 256 + 3 * 2 ** -15;
    expect(fma32(-a, b, above)).toBe(exactFma32(-a, b, above));
    expect(fma32(-a, b, above)).toBe(above);
  });
});

describe('parseHexDouble', () => {
  it('parses C hex float literals exactly', () => {
    expect(parseHexDouble('0x1p+0')).toBe(1);
    expect(parseHexDouble('-0x1.8p-3')).toBe(-0.1875);
    expect(parseHexDouble('0x1.62e42fefa39efp-1')).toBe(Math.LN2);
    expect(parseHexDouble('0x1.921FB54442D18p0')).toBe(Math.PI / 2);
  });
  it('names the bad literal', () => {
    expect(() => parseHexDouble('1.5e3')).toThrow(/'1.5e3' is not a hex float literal/);
  });
});

describe('glibc logf / cosf / sinf ports', () => {
  const golden = readRngGolden<{ glibc_mathf: Record<'logf' | 'cosf' | 'sinf', Array<[number, number]>> }>(
    'torch_rng_vectors.json',
  ).glibc_mathf;
  const ports = { logf: glibcLogf, cosf: glibcCosf, sinf: glibcSinf };
  for (const name of ['logf', 'cosf', 'sinf'] as const) {
    it(`${name} reproduces glibc bit for bit, including where glibc is not correctly rounded`, () => {
      const got = golden[name].map(([input]) => float32Bits(ports[name](float32FromBits(input))));
      expect(got).toEqual(golden[name].map(([, output]) => output));
    });
  }
  it('logf refuses inputs outside its supported range', () => {
    expect(() => glibcLogf(0)).toThrow(/positive normal finite/);
    expect(() => glibcSinf(1000)).toThrow(/\|x\| < 120/);
  });
});

describe('seeds', () => {
  it('wraps negative seeds to 64-bit two\'s complement like torch', () => {
    expect(normalizeSeed(-1)).toBe(2n ** 64n - 1n);
    expect(normalizeSeed(-(2n ** 63n))).toBe(2n ** 63n);
    expect(mtSeed32(2n ** 32n + 5n)).toBe(5);
  });
  it('rejects seeds torch rejects and unsafe JS numbers, listing the valid range', () => {
    expect(() => normalizeSeed(2n ** 64n)).toThrow(/−2\^63 … 2\^64−1/);
    expect(() => normalizeSeed(-(2n ** 63n) - 1n)).toThrow(/out of range/);
    expect(() => normalizeSeed(2 ** 60)).toThrow(/as a bigint/);
    expect(() => normalizeSeed(1.5)).toThrow(/not a safe integer/);
  });
  it('keeps the full seed for initialSeed()', () => {
    expect(new TorchGenerator(2n ** 63n + 5n).initialSeed()).toBe(2n ** 63n + 5n);
    expect(new TorchGenerator().initialSeed()).toBe(67280421310721n);
  });
});

describe('TorchGenerator arguments and state', () => {
  it('rejects an unknown kernel, listing the valid ones', () => {
    expect(() => new TorchGenerator(0, { kernel: 'sse' as never })).toThrow(/valid: avx2, scalar/);
  });
  it('rejects bad shapes', () => {
    expect(() => new TorchGenerator(0).randn([2, -1])).toThrow(/non-negative integers/);
  });
  it('an empty tensor draws nothing from the stream', () => {
    const generator = new TorchGenerator(3);
    expect(generator.randn([0, 16]).data.length).toBe(0);
    expect(generator.randn([20]).data).toEqual(new TorchGenerator(3).randn([20]).data);
  });
  it('clone() continues independently from the same state, cached normal included', () => {
    const generator = new TorchGenerator(8);
    generator.randn([3]); // leaves half a Box–Muller pair cached
    const copy = generator.clone();
    expect(copy.randn([5]).data).toEqual(generator.randn([5]).data);
    expect(copy.randn([40]).data).toEqual(generator.randn([40]).data);
  });
});
