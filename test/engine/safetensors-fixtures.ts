/** Builders of raw safetensors bytes for tests, including deliberately broken ones. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RawEntry {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

/** 8-byte length (or `lengthOverride`), the header text as given, then `data`. */
export function rawSafetensors(header: string | object | Uint8Array, data: Uint8Array, lengthOverride?: bigint): Buffer {
  const text =
    header instanceof Uint8Array
      ? Buffer.from(header)
      : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(lengthOverride ?? BigInt(text.length));
  return Buffer.concat([prefix, text, data]);
}

export interface TempDir {
  path: string;
  file(name: string, bytes: Uint8Array): string;
  remove(): void;
}

/** `inMemory`: under /dev/shm where it exists — thousands of small rewrites are slow on overlay disks. */
export function tempDir(prefix: string, inMemory = false): TempDir {
  const base = inMemory && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = mkdtempSync(join(base, prefix));
  return {
    path,
    file(name, bytes) {
      const p = join(path, name);
      writeFileSync(p, bytes);
      return p;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
