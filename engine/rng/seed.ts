/**
 * Seed handling of `torch.manual_seed` / `Generator.manual_seed` on the CPU.
 *
 * PyTorch accepts integers in [−2⁶³, 2⁶⁴ − 1]; a negative seed is reinterpreted as its 64-bit two's
 * complement. The Mersenne Twister then keeps only the low 32 bits, so seeds that differ by a
 * multiple of 2³² give identical noise (ComfyUI's seed widget allows 0 … 0xffffffffffffffff).
 */
export type Seed = number | bigint;

const MIN_SEED = -(2n ** 63n);
const MAX_SEED = 2n ** 64n - 1n;

/** The seed as PyTorch stores it: an unsigned 64-bit integer. */
export function normalizeSeed(seed: Seed): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new RangeError(
      `seed ${seed} is not a safe integer; pass seeds above 2^53 as a bigint (valid range −2^63 … 2^64−1)`,
    );
  }
  const wide = BigInt(seed);
  if (wide < MIN_SEED || wide > MAX_SEED) {
    throw new RangeError(`seed ${wide} is out of range: torch accepts −2^63 … 2^64−1 (0 … 0xffffffffffffffff)`);
  }
  return BigInt.asUintN(64, wide);
}

/** The part of the seed the CPU Mersenne Twister actually uses. */
export function mtSeed32(seed: Seed): number {
  return Number(BigInt.asUintN(32, normalizeSeed(seed)));
}
