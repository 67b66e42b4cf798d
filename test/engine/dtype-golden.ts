/** Loads the torch golden files written by tools/gen-dtype-golden.py. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GOLDEN_DIR = fileURLToPath(new URL('../golden/dtypes/', import.meta.url));

export function readGolden<T>(name: string): T {
  return JSON.parse(readFileSync(GOLDEN_DIR + name, 'utf8')) as T;
}

export function floatsFromBits(bits: readonly number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

export function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

export const hex = (n: number): string => '0x' + (n >>> 0).toString(16);
