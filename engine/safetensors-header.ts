/**
 * The safetensors header: dtype table, parsing and validation (pure; no I/O).
 *
 * File layout (https://github.com/huggingface/safetensors): u64 little-endian N, N bytes of UTF-8
 * JSON `{"__metadata__": {str: str}?, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}}`,
 * then the data section; offsets are relative to its start. Validation follows the Rust crate:
 * offsets sorted by begin must tile the data section exactly (no gap, no overlap, no tail) and
 * each tensor's byte length must equal numel × element size.
 */
import type { DType } from './tensor.js';
import { SafetensorsError } from './safetensors-errors.js';

/** Same cap as the Rust crate (MAX_HEADER_SIZE): a corrupt length never becomes a huge allocation. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface StorageDtype {
  /** Element size in the file. */
  bytes: number;
  /** The engine dtype `read()` returns. F64 narrows to float32; I16/I8/U16 widen to int32, U32 to int64. */
  dtype: DType;
}

export const SAFETENSORS_DTYPES: Readonly<Record<string, StorageDtype>> = {
  F64: { bytes: 8, dtype: 'float32' },
  F32: { bytes: 4, dtype: 'float32' },
  F16: { bytes: 2, dtype: 'float16' },
  BF16: { bytes: 2, dtype: 'bfloat16' },
  F8_E4M3: { bytes: 1, dtype: 'float8_e4m3fn' },
  F8_E5M2: { bytes: 1, dtype: 'float8_e5m2' },
  I64: { bytes: 8, dtype: 'int64' },
  I32: { bytes: 4, dtype: 'int32' },
  U32: { bytes: 4, dtype: 'int64' },
  I16: { bytes: 2, dtype: 'int32' },
  U16: { bytes: 2, dtype: 'int32' },
  I8: { bytes: 1, dtype: 'int32' },
  U8: { bytes: 1, dtype: 'uint8' },
  BOOL: { bytes: 1, dtype: 'bool' },
};

export interface HeaderEntry {
  name: string;
  storageDtype: string;
  shape: number[];
  /** Relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface ParsedHeader {
  metadata: Record<string, string>;
  entries: Map<string, HeaderEntry>;
}

function parseJson(file: string, bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new SafetensorsError(file, 'bad-json', 'header is not valid UTF-8', undefined, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError(file, 'bad-json', `header is not valid JSON (${(cause as Error).message})`, undefined, { cause });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (!isPlainObject(value)) throw new SafetensorsError(file, 'bad-header', '__metadata__ must be an object of strings');
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(file, 'bad-header', `__metadata__ value of '${key}' must be a string, got ${typeof v}`);
    }
  }
  return value as Record<string, string>;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function elementCount(shape: number[]): bigint {
  let n = 1n;
  for (const dim of shape) n *= BigInt(dim);
  return n;
}

function parseEntry(file: string, name: string, value: unknown): HeaderEntry {
  if (!isPlainObject(value)) throw new SafetensorsError(file, 'bad-header', 'entry must be an object', name);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw new SafetensorsError(file, 'bad-header', 'dtype must be a string', name);
  const storage = Object.hasOwn(SAFETENSORS_DTYPES, dtype) ? SAFETENSORS_DTYPES[dtype] : undefined;
  if (!storage) {
    const valid = Object.keys(SAFETENSORS_DTYPES).join(', ');
    throw new SafetensorsError(file, 'unsupported-dtype', `dtype '${dtype}' is not supported; valid: ${valid}`, name);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new SafetensorsError(file, 'bad-shape', `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`, name);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw new SafetensorsError(file, 'bad-offsets', `data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`, name);
  }
  const [begin, end] = offsets as number[];
  const expected = elementCount(shape) * BigInt(storage.bytes);
  if (expected !== BigInt(end - begin)) {
    throw new SafetensorsError(
      file,
      'bad-shape',
      `shape [${shape.join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      name,
    );
  }
  return { name, storageDtype: dtype, shape: shape as number[], begin, end };
}

/** Sorted by begin, the entries must tile [0, dataBytes) exactly, as the Rust crate requires. */
function checkTiling(file: string, entries: HeaderEntry[], dataBytes: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: HeaderEntry | undefined;
  for (const e of sorted) {
    if (e.begin < cursor) {
      throw new SafetensorsError(file, 'bad-offsets', `data_offsets [${e.begin}, ${e.end}] overlap tensor '${previous?.name}' (ends at ${cursor})`, e.name);
    }
    if (e.begin > cursor) {
      throw new SafetensorsError(file, 'bad-offsets', `data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${cursor} of the data section`, e.name);
    }
    if (e.end > dataBytes) {
      throw new SafetensorsError(file, 'bad-offsets', `data_offsets [${e.begin}, ${e.end}] run past the data section (${dataBytes} bytes; file truncated?)`, e.name);
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataBytes) {
    throw new SafetensorsError(file, 'bad-offsets', `data_offsets cover ${cursor} of the ${dataBytes} data bytes (trailing bytes after the last tensor)`);
  }
}

/** Parses and validates header bytes; `dataBytes` is the size of the data section after the header. */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, dataBytes: number): ParsedHeader {
  const json = parseJson(file, headerBytes);
  if (!isPlainObject(json)) {
    throw new SafetensorsError(file, 'bad-header', `header must be a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  let metadata: Record<string, string> = {};
  const entries = new Map<string, HeaderEntry>();
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(file, value);
    else entries.set(name, parseEntry(file, name, value));
  }
  checkTiling(file, [...entries.values()], dataBytes);
  return { metadata, entries };
}
