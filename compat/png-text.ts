/**
 * PNG text chunks (`tEXt`, `iTXt`, `zTXt`): read them from a PNG and add them to one.
 *
 * ComfyUI saves the API prompt and the UI workflow as text chunks through PIL's `PngInfo.add_text`,
 * which writes `tEXt` when keyword and text are Latin-1 and `iTXt` (uncompressed, UTF-8) otherwise,
 * and places them after IHDR, before the image data. `insertPngTextChunks` does the same so that
 * PNGs written here read back identically in ComfyUI (and in the frontend's drag-and-drop loader).
 *
 * Example:
 *   const png = insertPngTextChunks(await sharp(raw, ...).png().toBuffer(), [{ keyword: 'prompt', text: '{}' }]);
 *   readPngTextChunks(png) // → [{ keyword: 'prompt', text: '{}', kind: 'tEXt' }]
 */
import zlib from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngTextEntry {
  keyword: string;
  text: string;
}

export interface PngTextChunk extends PngTextEntry {
  kind: 'tEXt' | 'iTXt' | 'zTXt';
}

export interface PngChunk {
  type: string;
  data: Buffer;
}

export class PngFormatError extends Error {}

const CRC_TABLE = buildCrcTable();

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 as PNG (and zlib) define it. */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) c = CRC_TABLE[(c ^ part[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

export function isPng(buf: Uint8Array): boolean {
  return buf.length >= 8 && Buffer.from(buf.subarray(0, 8)).equals(PNG_SIGNATURE);
}

/** Splits a PNG into its chunks; checks the signature, lengths and CRCs. */
export function parsePngChunks(png: Uint8Array): PngChunk[] {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!isPng(buf)) throw new PngFormatError('not a PNG file (bad signature)');
  const chunks: PngChunk[] = [];
  let pos = 8;
  while (pos < buf.length) {
    if (pos + 12 > buf.length) throw new PngFormatError(`truncated chunk header at byte ${pos}`);
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + length;
    if (end > buf.length) throw new PngFormatError(`chunk ${type} at byte ${pos} runs past the end of the file`);
    const data = buf.subarray(pos + 8, pos + 8 + length);
    const crc = buf.readUInt32BE(pos + 8 + length);
    if (crc !== crc32(buf.subarray(pos + 4, pos + 8), data)) throw new PngFormatError(`bad CRC in chunk ${type}`);
    chunks.push({ type, data });
    pos = end;
    if (type === 'IEND') break;
  }
  return chunks;
}

export function encodePngChunk(type: string, data: Uint8Array): Buffer {
  const typeBytes = Buffer.from(type, 'latin1');
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  typeBytes.copy(out, 4);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(typeBytes, data), 8 + data.length);
  return out;
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** One text entry as PIL's `add_text` encodes it: `tEXt` if Latin-1, else uncompressed `iTXt`. */
export function encodeTextChunk(entry: PngTextEntry): Buffer {
  const { keyword, text } = entry;
  if (keyword.length < 1 || keyword.length > 79 || keyword.includes('\0')) {
    throw new PngFormatError(`invalid PNG text keyword ${JSON.stringify(keyword)} (1–79 characters, no NUL)`);
  }
  if (isLatin1(keyword) && isLatin1(text)) {
    return encodePngChunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.of(0), Buffer.from(text, 'latin1')]));
  }
  // iTXt: keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, text.
  const head = Buffer.concat([Buffer.from(keyword, 'utf8'), Buffer.of(0, 0, 0, 0, 0)]);
  return encodePngChunk('iTXt', Buffer.concat([head, Buffer.from(text, 'utf8')]));
}

/**
 * Adds text chunks to an encoded PNG, right before the first IDAT (after IHDR and any other
 * header chunks), which is where PIL writes them.
 */
export function insertPngTextChunks(png: Uint8Array, entries: readonly PngTextEntry[]): Buffer {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (entries.length === 0) return Buffer.from(buf);
  parsePngChunks(buf); // validates the file before we splice into it
  const idat = findChunkOffset(buf, 'IDAT');
  if (idat < 0) throw new PngFormatError('PNG has no IDAT chunk');
  const text = entries.map(encodeTextChunk);
  return Buffer.concat([buf.subarray(0, idat), ...text, buf.subarray(idat)]);
}

/** The PNG without the named ancillary chunks (e.g. sharp's `pHYs`, which PIL does not write). */
export function removePngChunks(png: Uint8Array, types: readonly string[]): Buffer {
  const kept = parsePngChunks(png).filter((c) => !types.includes(c.type));
  return Buffer.concat([PNG_SIGNATURE, ...kept.map((c) => encodePngChunk(c.type, c.data))]);
}

function findChunkOffset(buf: Buffer, wanted: string): number {
  let pos = 8;
  while (pos + 12 <= buf.length) {
    const length = buf.readUInt32BE(pos);
    if (buf.toString('latin1', pos + 4, pos + 8) === wanted) return pos;
    pos += 12 + length;
  }
  return -1;
}

function decodeTextChunk(chunk: PngChunk): PngTextChunk | null {
  const data = chunk.data;
  const nul = data.indexOf(0);
  if (nul < 1) return null;
  if (chunk.type === 'tEXt') {
    return { kind: 'tEXt', keyword: data.toString('latin1', 0, nul), text: data.toString('latin1', nul + 1) };
  }
  if (chunk.type === 'zTXt') {
    if (data[nul + 1] !== 0) return null; // only zlib is defined
    const text = zlib.inflateSync(data.subarray(nul + 2)).toString('latin1');
    return { kind: 'zTXt', keyword: data.toString('latin1', 0, nul), text };
  }
  if (chunk.type === 'iTXt') return decodeItxt(data, nul);
  return null;
}

function decodeItxt(data: Buffer, nul: number): PngTextChunk | null {
  const compressed = data[nul + 1] === 1;
  const langEnd = data.indexOf(0, nul + 3);
  if (langEnd < 0) return null;
  const transEnd = data.indexOf(0, langEnd + 1);
  if (transEnd < 0) return null;
  const body = data.subarray(transEnd + 1);
  const text = (compressed ? zlib.inflateSync(body) : body).toString('utf8');
  return { kind: 'iTXt', keyword: data.toString('utf8', 0, nul), text };
}

/** Every text chunk in file order (tEXt, zTXt, iTXt); unreadable ones are skipped. */
export function readPngTextChunks(png: Uint8Array): PngTextChunk[] {
  const out: PngTextChunk[] = [];
  for (const chunk of parsePngChunks(png)) {
    if (chunk.type !== 'tEXt' && chunk.type !== 'zTXt' && chunk.type !== 'iTXt') continue;
    try {
      const entry = decodeTextChunk(chunk);
      if (entry) out.push(entry);
    } catch {
      // a corrupt compressed chunk should not make the image unreadable
    }
  }
  return out;
}

/** Text chunks as a keyword → text map (a later chunk with the same keyword wins, as in PIL). */
export function readPngText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of readPngTextChunks(png)) out[c.keyword] = c.text;
  return out;
}
