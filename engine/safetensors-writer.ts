/**
 * safetensors writer, byte-identical to the Python/Rust `safetensors` library for the same tensors
 * (checked against a file the library wrote, test/golden/dtypes/torch-written-engine-dtypes.*):
 * data ordered by dtype (the Rust `Dtype` enum, descending) then by name (byte order), header keys
 * in that order after `__metadata__`, compact JSON padded with spaces to a multiple of 8. Metadata
 * keys are sorted (the library's HashMap order is arbitrary).
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { numel, type DType, type Tensor } from './tensor.js';
import { SafetensorsError } from './safetensors-errors.js';

const STORAGE_NAME: Readonly<Record<DType, string>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float8_e4m3fn: 'F8_E4M3',
  float8_e5m2: 'F8_E5M2',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

// Position in the Rust crate's `Dtype` enum (derive(Ord)); the writer sorts by it, descending.
const RUST_DTYPE_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

interface Planned {
  name: string;
  storage: string;
  tensor: Tensor;
  bytes: Uint8Array;
}

function checkTensor(file: string, name: string, t: Tensor): void {
  if (name === '' || name === '__metadata__') throw new SafetensorsError(file, 'bad-input', `'${name}' cannot name a tensor`);
  if (!Object.hasOwn(STORAGE_NAME, t.dtype)) {
    throw new SafetensorsError(file, 'bad-input', `dtype '${t.dtype}' cannot be stored; valid: ${Object.keys(STORAGE_NAME).join(', ')}`, name);
  }
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(file, 'bad-input', `shape [${t.shape.join(', ')}] must hold non-negative integers`, name);
  }
  if (numel(t.shape) !== t.data.length) {
    throw new SafetensorsError(file, 'bad-input', `shape [${t.shape.join(', ')}] needs ${numel(t.shape)} elements, data holds ${t.data.length}`, name);
  }
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function plan(file: string, tensors: Record<string, Tensor>): Planned[] {
  const planned = Object.entries(tensors).map(([name, tensor]) => {
    checkTensor(file, name, tensor);
    const { buffer, byteOffset, byteLength } = tensor.data;
    return { name, storage: STORAGE_NAME[tensor.dtype], tensor, bytes: new Uint8Array(buffer, byteOffset, byteLength) };
  });
  const rank = (p: Planned): number => RUST_DTYPE_ORDER.indexOf(p.storage);
  return planned.sort((a, b) => rank(b) - rank(a) || compareUtf8(a.name, b.name));
}

function sortedMetadata(file: string, metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(metadata).sort(compareUtf8)) {
    if (typeof metadata[key] !== 'string') throw new SafetensorsError(file, 'bad-input', `metadata value of '${key}' must be a string`);
    out[key] = metadata[key];
  }
  return out;
}

/** The 8-byte length and the padded JSON header for `planned`, in order. */
function headerBytes(file: string, planned: Planned[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = sortedMetadata(file, metadata);
  let offset = 0;
  for (const p of planned) {
    header[p.name] = { dtype: p.storage, shape: [...p.tensor.shape], data_offsets: [offset, offset + p.bytes.length] };
    offset += p.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.alloc(8 + Math.ceil(json.length / 8) * 8, 0x20);
  padded.writeBigUInt64LE(BigInt(padded.length - 8), 0);
  json.copy(padded, 8);
  return padded;
}

/** The whole file in memory; for small files and tests. Use writeSafetensors for big ones. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Buffer {
  const planned = plan('<memory>', tensors);
  return Buffer.concat([headerBytes('<memory>', planned, metadata), ...planned.map((p) => p.bytes)]);
}

/** Streams header and tensors to `path` through a temporary file renamed into place at the end. */
export function writeSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): void {
  const planned = plan(path, tensors);
  const header = headerBytes(path, planned, metadata);
  const temporary = `${path}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'w');
    writeAll(fd, header);
    for (const p of planned) writeAll(fd, p.bytes);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (cause) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    throw new SafetensorsError(path, 'io', `write failed: ${(cause as Error).message}`, undefined, { cause });
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, Math.min(1 << 30, bytes.length - done));
}
