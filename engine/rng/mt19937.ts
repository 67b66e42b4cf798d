/**
 * MT19937 exactly as PyTorch's CPU generator uses it (at::mt19937): the standard Mersenne Twister
 * (Matsumoto & Nishimura 1998) seeded with `init_genrand(seed32)`, standard tempering.
 *
 * Example: new Mt19937(0).nextUint32() === 2357136044
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed32: number) {
    const s = this.state;
    s[0] = seed32 >>> 0;
    for (let j = 1; j < N; j++) {
      const prev = s[j - 1];
      s[j] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + j) >>> 0;
    }
  }

  /** Copy of the full engine state, so a generator can be snapshotted and restored. */
  clone(): Mt19937 {
    const copy = new Mt19937(0);
    copy.state.set(this.state);
    copy.index = this.index;
    return copy;
  }

  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let k = 0; k < N; k++) {
      const y = (s[k] & UPPER_MASK) | (s[(k + 1) % N] & LOWER_MASK);
      const mag = y & 1 ? MATRIX_A : 0;
      s[k] = (s[(k + M) % N] ^ (y >>> 1) ^ mag) >>> 0;
    }
    this.index = 0;
  }
}
