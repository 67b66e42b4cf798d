/** Loads the RNG golden files (test/golden/rng/) and compares float32 tensors by their bytes. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RNG_GOLDEN_DIR = fileURLToPath(new URL('../golden/rng/', import.meta.url));

export function readRngGolden<T>(name: string): T {
  return JSON.parse(readFileSync(RNG_GOLDEN_DIR + name, 'utf8')) as T;
}

/** A tensor as tools/gen-rng-golden.py describes it. */
export interface TensorDigest {
  readonly shape: number[];
  readonly sha256_f32le: string;
  readonly f32le_hex?: string;
  readonly first4?: number[];
  readonly last2?: number[];
}

export function sha256F32le(values: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

export function f32leHex(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex');
}

/** Everything the digest records, in a form whose mismatch shows the differing values. */
export function digestOf(values: Float32Array, shape: readonly number[], like: TensorDigest): TensorDigest {
  return {
    shape: [...shape],
    sha256_f32le: sha256F32le(values),
    ...(like.f32le_hex !== undefined ? { f32le_hex: f32leHex(values) } : {}),
    ...(like.first4 !== undefined ? { first4: Array.from(values.subarray(0, 4)) } : {}),
    ...(like.last2 !== undefined ? { last2: Array.from(values.subarray(values.length - 2)) } : {}),
  };
}
