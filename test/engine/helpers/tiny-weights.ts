/**
 * Rebuilds the tiny procedural checkpoints described by test/golden/{textenc,vae}/manifest.json
 * (tools/gen-textenc-vae-golden.py), bit for bit as tools/tiny_weights.py generates them, so only
 * the manifests and expected outputs are committed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeFromFloat32 } from '../../../engine/dtypes.js';
import { writeSafetensors } from '../../../engine/safetensors.js';
import type { Tensor } from '../../../engine/tensor.js';
export { relL2 } from '../../helpers/rel-l2.js';

export interface GenSpec {
  id: string;
  shape: number[];
  kind: 'weight' | 'norm' | 'fp8' | 'const';
  scale?: number;
  value?: number;
  offset?: number;
}
export interface ManifestTensor extends GenSpec {
  key: string;
  dtype: 'F32' | 'F16' | 'F8_E4M3';
}

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function hashStream(id: string, n: number): Uint32Array {
  const h = fnv1a32(id);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let x = (h ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b) >>> 0;
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35) >>> 0;
    x ^= x >>> 16;
    out[i] = x;
  }
  return out;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Float values of a spec (exact in float32); for 'fp8', also the e4m3fn codes. */
export function generate(spec: GenSpec): { values: Float32Array; codes?: Uint8Array } {
  const n = numel(spec.shape);
  if (spec.kind === 'const') return { values: new Float32Array(n).fill(spec.value ?? 0) };
  const x = hashStream(spec.id, n);
  const values = new Float32Array(n);
  if (spec.kind === 'weight') for (let i = 0; i < n; i++) values[i] = (((x[i] >>> 21) - 1024) / 1024) * (spec.scale ?? 1) + (spec.offset ?? 0);
  else if (spec.kind === 'norm') for (let i = 0; i < n; i++) values[i] = 1 + ((x[i] >>> 25) - 64) / 256;
  else {
    const codes = new Uint8Array(n);
    for (let i = 0; i < n; i++) codes[i] = ((x[i] >>> 8) % 0x28) | (x[i] & 0x80);
    return { values: new Float32Array(0), codes }; // written as codes; values unused
  }
  return { values };
}

export function tensorOf(m: ManifestTensor): Tensor {
  const { values, codes } = generate(m);
  if (m.dtype === 'F8_E4M3') {
    if (codes) return { dtype: 'float8_e4m3fn', shape: m.shape, data: codes };
    return { dtype: 'float8_e4m3fn', shape: m.shape, data: encodeFromFloat32(values, 'float8_e4m3fn') };
  }
  if (m.dtype === 'F16') return { dtype: 'float16', shape: m.shape, data: encodeFromFloat32(values, 'float16') };
  return { dtype: 'float32', shape: m.shape, data: values };
}

export interface TinyFiles {
  dir: string;
  path(name: string): string;
  cleanup(): void;
}

/** Writes every file of a manifest into a fresh temporary folder. */
export function writeTinyFiles(manifestUrl: URL): TinyFiles {
  const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8')) as { files: Record<string, ManifestTensor[]> };
  const dir = mkdtempSync(path.join(tmpdir(), 'comfy8-tiny-'));
  for (const [name, tensors] of Object.entries(manifest.files)) {
    writeSafetensors(path.join(dir, name), Object.fromEntries(tensors.map((m) => [m.key, tensorOf(m)])));
  }
  return { dir, path: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function readManifest<T>(url: URL): T {
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

/** float32 values from base64 little-endian bytes (the golden files' compact form). */
export function fromBase64(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
