/**
 * Lazy safetensors reader: `openSafetensors` reads the 8-byte length and the JSON header only;
 * each tensor is read on demand with `fs.readSync` at its offset, so a multi-GB checkpoint is
 * never read whole. Validation and the dtype table live in safetensors-header.ts, the writer in
 * safetensors-writer.ts, errors (all `SafetensorsError`, naming file and tensor) in
 * safetensors-errors.ts.
 *
 * dtypes: F32/F16/BF16/F8_E4M3/F8_E5M2/I64/I32/U8/BOOL read as themselves. The engine has no
 * float64/int16/int8 tensors, so F64 reads as float32 (round to nearest even, as torch's
 * `.float()`), and I16/I8/U16 widen to int32, U32 to int64 — `info(key).storageDtype` keeps the
 * file's own dtype string and `byteOffset`/`byteLength` describe the stored bytes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { toFloat32 } from './dtypes.js';
import { BYTES_PER_ELEMENT, numel, type DType, type Tensor, type TensorDataMap } from './tensor.js';
import { SafetensorsError } from './safetensors-errors.js';
import { MAX_HEADER_BYTES, SAFETENSORS_DTYPES, parseSafetensorsHeader, type HeaderEntry } from './safetensors-header.js';

export { SafetensorsError, type SafetensorsErrorReason } from './safetensors-errors.js';
export { SAFETENSORS_DTYPES } from './safetensors-header.js';
export { encodeSafetensors, writeSafetensors } from './safetensors-writer.js';

export interface SafetensorsTensorInfo {
  /** The dtype `read()` returns. */
  dtype: DType;
  /** The dtype string in the file (`F8_E4M3`, `F64`, …). */
  storageDtype: string;
  shape: number[];
  /** Absolute position of the tensor's bytes in the file (e.g. for onnxruntime external data). */
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  /** Tensor names, sorted (as Python's `safe_open(...).keys()`). */
  keys(): string[];
  has(key: string): boolean;
  info(key: string): SafetensorsTensorInfo;
  read(key: string): Tensor;
  readFloat32(key: string): Tensor<'float32'>;
  /** The stored bytes of one tensor, unconverted. */
  readBytes(key: string): Uint8Array;
  /**
   * `count` elements from flat index `start` of a tensor stored in its own width (not F64/I16/…),
   * as `read()` would give them: a slice of a large table without reading the rest.
   */
  readElements(key: string, start: number, count: number): Tensor;
  close(): void;
}

const READ_CHUNK = 1 << 30; // readSync reads at most 2 GiB per call

function readExactly(fd: number, target: Uint8Array, position: number, file: string, tensor?: string): void {
  let done = 0;
  while (done < target.length) {
    let n: number;
    try {
      n = readSync(fd, target, done, Math.min(READ_CHUNK, target.length - done), position + done);
    } catch (cause) {
      throw new SafetensorsError(file, 'io', `read failed: ${(cause as Error).message}`, tensor, { cause });
    }
    if (n === 0) {
      throw new SafetensorsError(file, 'truncated', `file ended after ${position + done} bytes; expected ${position + target.length}`, tensor);
    }
    done += n;
  }
}

function readHeader(fd: number, file: string, fileSize: number): { headerBytes: Uint8Array; dataStart: number } {
  if (fileSize < 8) throw new SafetensorsError(file, 'truncated', `file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const prefix = new Uint8Array(8);
  readExactly(fd, prefix, 0, file);
  const headerLength = new DataView(prefix.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(fileSize - 8)) {
    throw new SafetensorsError(file, 'header-length', `header length ${headerLength} runs past the end of the file (${fileSize} bytes)`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(file, 'header-length', `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerBytes = new Uint8Array(Number(headerLength));
  readExactly(fd, headerBytes, 8, file);
  return { headerBytes, dataStart: 8 + headerBytes.length };
}

function widen(entry: HeaderEntry, raw: Uint8Array): Tensor {
  const n = numel(entry.shape);
  const { dtype } = SAFETENSORS_DTYPES[entry.storageDtype];
  const buffer = raw.buffer;
  switch (entry.storageDtype) {
    case 'F64':
      return { dtype, shape: entry.shape, data: Float32Array.from(new Float64Array(buffer, 0, n)) };
    case 'I16':
      return { dtype, shape: entry.shape, data: Int32Array.from(new Int16Array(buffer, 0, n)) };
    case 'U16':
      return { dtype, shape: entry.shape, data: Int32Array.from(new Uint16Array(buffer, 0, n)) };
    case 'I8':
      return { dtype, shape: entry.shape, data: Int32Array.from(new Int8Array(buffer, 0, n)) };
    case 'U32':
      return { dtype, shape: entry.shape, data: BigInt64Array.from(new Uint32Array(buffer, 0, n), (v) => BigInt(v)) };
    default:
      throw new Error(`widen: no conversion for ${entry.storageDtype}`);
  }
}

type StorageView<D extends DType> = new (buffer: ArrayBuffer, byteOffset: number, length: number) => TensorDataMap[D];

const STORAGE_VIEW: { [D in DType]: StorageView<D> } = {
  float32: Float32Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  float8_e4m3fn: Uint8Array,
  float8_e5m2: Uint8Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

class LazySafetensorsFile implements SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  private fd: number | undefined;
  private readonly entries: Map<string, HeaderEntry>;
  private readonly dataStart: number;
  private readonly sortedKeys: string[];

  constructor(path: string, fd: number, dataStart: number, metadata: Record<string, string>, entries: Map<string, HeaderEntry>) {
    this.path = path;
    this.fd = fd;
    this.dataStart = dataStart;
    this.metadata = metadata;
    this.entries = entries;
    this.sortedKeys = [...entries.keys()].sort();
  }

  keys(): string[] {
    return [...this.sortedKeys];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  private entry(key: string): HeaderEntry {
    const e = this.entries.get(key);
    if (!e) {
      const near = this.sortedKeys.filter((k) => k.includes(key.split('.').pop() ?? key)).slice(0, 5);
      const hint = near.length ? `; similar keys: ${near.join(', ')}` : '';
      throw new SafetensorsError(this.path, 'unknown-tensor', `no such tensor (file holds ${this.entries.size})${hint}`, key);
    }
    return e;
  }

  info(key: string): SafetensorsTensorInfo {
    const e = this.entry(key);
    const { dtype } = SAFETENSORS_DTYPES[e.storageDtype];
    return { dtype, storageDtype: e.storageDtype, shape: [...e.shape], byteOffset: this.dataStart + e.begin, byteLength: e.end - e.begin };
  }

  readBytes(key: string): Uint8Array {
    const e = this.entry(key);
    if (this.fd === undefined) throw new SafetensorsError(this.path, 'closed', 'file was closed', key);
    // An 8-aligned fresh buffer, so typed-array views of any element size fit it.
    const bytes = new Uint8Array(new ArrayBuffer(e.end - e.begin));
    readExactly(this.fd, bytes, this.dataStart + e.begin, this.path, key);
    return bytes;
  }

  readElements(key: string, start: number, count: number): Tensor {
    const e = this.entry(key);
    if (this.fd === undefined) throw new SafetensorsError(this.path, 'closed', 'file was closed', key);
    const { dtype, bytes: width } = SAFETENSORS_DTYPES[e.storageDtype];
    if (width !== BYTES_PER_ELEMENT[dtype]) throw new Error(`readElements: '${key}' is stored as ${e.storageDtype}, which reads widened; read it whole`);
    const total = numel(e.shape);
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > total) {
      throw new Error(`readElements: elements ${start}…${start + count} of '${key}', which holds ${total}`);
    }
    const bytes = new Uint8Array(new ArrayBuffer(count * width));
    readExactly(this.fd, bytes, this.dataStart + e.begin + start * width, this.path, key);
    const View = STORAGE_VIEW[dtype];
    return { dtype, shape: [count], data: new View(bytes.buffer as ArrayBuffer, 0, count) } as Tensor;
  }

  read(key: string): Tensor {
    const e = this.entry(key);
    const raw = this.readBytes(key);
    const { dtype, bytes } = SAFETENSORS_DTYPES[e.storageDtype];
    if (bytes !== BYTES_PER_ELEMENT[dtype]) return widen(e, raw);
    const View = STORAGE_VIEW[dtype];
    return { dtype, shape: [...e.shape], data: new View(raw.buffer as ArrayBuffer, 0, numel(e.shape)) } as Tensor;
  }

  readFloat32(key: string): Tensor<'float32'> {
    return toFloat32(this.read(key));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function openSafetensors(path: string): SafetensorsFile {
  if (endianness() !== 'LE') throw new SafetensorsError(path, 'io', 'safetensors data is little-endian; this host is big-endian');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new SafetensorsError(path, 'io', `cannot open: ${(cause as Error).message}`, undefined, { cause });
  }
  try {
    const fileSize = fstatSync(fd).size;
    const { headerBytes, dataStart } = readHeader(fd, path, fileSize);
    const { metadata, entries } = parseSafetensorsHeader(path, headerBytes, fileSize - dataStart);
    return new LazySafetensorsFile(path, fd, dataStart, metadata, entries);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
