/**
 * A PyTorch-compatible CPU generator: `torch.Generator()` / `torch.manual_seed(seed)` followed by
 * `torch.randn` / `torch.rand`, reproduced bit-for-bit (PyTorch 1.13 … 2.x CPU kernels).
 *
 * Like torch's generator it keeps state across calls: two `randn` calls give the same values as one
 * `torch.randn` call each on the same torch generator (not as one bigger tensor).
 *
 * Example:
 *   const g = new TorchGenerator(0);            // torch.manual_seed(0)
 *   g.randn([1, 16, 128, 128]).data[0];          // −1.1258398 (as torch.randn)
 */
import { allocData, numel, type Tensor } from '../tensor.js';
import { normalFill16Avx2 } from './avx2-box-muller.js';
import { Mt19937 } from './mt19937.js';
import { boxMullerDoublePair, normalFill16Scalar } from './scalar-box-muller.js';
import { normalizeSeed, type Seed } from './seed.js';

/**
 * Which ATen CPU kernel to imitate for float32 tensors of ≥ 16 elements: 'avx2' is what x86-64
 * builds with AVX2 pick by default; 'scalar' is the generic kernel (ATEN_CPU_CAPABILITY=default,
 * non-AVX2 CPUs, ARM / Apple Silicon). They differ in the last bit of ~38 % of values.
 */
export type RandnKernel = 'avx2' | 'scalar';
export const RANDN_KERNELS: readonly RandnKernel[] = ['avx2', 'scalar'];

export interface TorchGeneratorOptions {
  readonly kernel?: RandnKernel;
}

/** torch's `default_rng_seed_val`, the seed of a generator nobody seeded. */
export const TORCH_DEFAULT_SEED = 67280421310721n;

/** Tensors with fewer elements go through the double-precision scalar path. */
const VECTOR_PATH_MIN_ELEMENTS = 16;
const UNIFORM24_SCALE = 2 ** -24;
const UNIFORM53_SCALE = 2 ** -53;
const TWO_POW_32 = 2 ** 32;

export class TorchGenerator {
  readonly kernel: RandnKernel;
  private engine: Mt19937;
  private seed: bigint;
  /** Second half of the last double Box–Muller pair (torch's `next_double_normal_sample`). */
  private cachedDoubleNormal: number | undefined;

  constructor(seed: Seed = TORCH_DEFAULT_SEED, options: TorchGeneratorOptions = {}) {
    const kernel = options.kernel ?? 'avx2';
    if (!RANDN_KERNELS.includes(kernel)) {
      throw new Error(`TorchGenerator: unknown kernel '${String(kernel)}'; valid: ${RANDN_KERNELS.join(', ')}`);
    }
    this.kernel = kernel;
    this.seed = normalizeSeed(seed);
    this.engine = new Mt19937(Number(BigInt.asUintN(32, this.seed)));
  }

  /** `generator.manual_seed(seed)`: restarts the stream and drops any cached normal. */
  manualSeed(seed: Seed): this {
    this.seed = normalizeSeed(seed);
    this.engine = new Mt19937(Number(BigInt.asUintN(32, this.seed)));
    this.cachedDoubleNormal = undefined;
    return this;
  }

  /** `generator.initial_seed()`: the full 64-bit seed as given (after two's-complement wrapping). */
  initialSeed(): bigint {
    return this.seed;
  }

  /** An independent copy with the same state (like `get_state()` + `set_state()`). */
  clone(): TorchGenerator {
    const copy = new TorchGenerator(0, { kernel: this.kernel });
    copy.engine = this.engine.clone();
    copy.seed = this.seed;
    copy.cachedDoubleNormal = this.cachedDoubleNormal;
    return copy;
  }

  /** `generator->random()`: the next raw 32-bit Mersenne Twister output. */
  nextUint32(): number {
    return this.engine.nextUint32();
  }

  /** `torch.rand(shape)` in float32: 24 random bits per element, in [0, 1). */
  rand(shape: readonly number[]): Tensor<'float32'> {
    const data = allocData('float32', checkedNumel(shape, 'rand'));
    for (let i = 0; i < data.length; i++) data[i] = this.nextUniform24();
    return { dtype: 'float32', shape: [...shape], data };
  }

  /** `torch.randn(shape)` in float32 (contiguous), standard normal. */
  randn(shape: readonly number[]): Tensor<'float32'> {
    const data = allocData('float32', checkedNumel(shape, 'randn'));
    this.fillNormal(data);
    return { dtype: 'float32', shape: [...shape], data };
  }

  /** Fills `out` exactly as `torch.randn` would fill a contiguous float32 tensor of `out.length` elements. */
  fillNormal(out: Float32Array): void {
    const n = out.length;
    if (n < VECTOR_PATH_MIN_ELEMENTS) {
      for (let i = 0; i < n; i++) out[i] = Math.fround(this.nextDoubleNormal()) + 0;
      return;
    }
    const fillBlock = this.kernel === 'avx2' ? normalFill16Avx2 : normalFill16Scalar;
    for (let i = 0; i < n; i++) out[i] = this.nextUniform24();
    for (let i = 0; i + 16 <= n; i += 16) fillBlock(out, i);
    if (n % 16 !== 0) {
      // torch draws 16 fresh uniforms and recomputes the last 16 outputs, overlapping the last full block.
      const start = n - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.nextUniform24();
      fillBlock(out, start);
    }
  }

  private nextUniform24(): number {
    return (this.engine.nextUint32() & 0xffffff) * UNIFORM24_SCALE;
  }

  /** `uniform_real_distribution<double>` on `random64()` (high word drawn first): 53 bits. */
  private nextUniform53(): number {
    const high = this.engine.nextUint32();
    const low = this.engine.nextUint32();
    return ((high & 0x1fffff) * TWO_POW_32 + low) * UNIFORM53_SCALE;
  }

  private nextDoubleNormal(): number {
    if (this.cachedDoubleNormal !== undefined) {
      const cached = this.cachedDoubleNormal;
      this.cachedDoubleNormal = undefined;
      return cached;
    }
    const u1 = this.nextUniform53();
    const u2 = this.nextUniform53();
    const pair = boxMullerDoublePair(u1, u2);
    this.cachedDoubleNormal = pair.second;
    return pair.first;
  }
}

/** `torch.manual_seed(seed)`: a freshly seeded generator (ComfyUI's `generator = torch.manual_seed(seed)`). */
export function manualSeed(seed: Seed, options: TorchGeneratorOptions = {}): TorchGenerator {
  return new TorchGenerator(seed, options);
}

function checkedNumel(shape: readonly number[], what: string): number {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new RangeError(`${what}: shape [${shape.join(', ')}] must contain non-negative integers`);
    }
  }
  return numel(shape);
}
