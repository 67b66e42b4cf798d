/**
 * Text metadata in WebP files as ComfyUI writes it. SaveAnimatedWEBP (and SaveWEBM's image
 * counterpart) stores `"prompt:" + json` in EXIF tag 0x0110 (Model) and each extra_pnginfo entry
 * as `"<key>:" + json` in tags 0x010F (Make), 0x010E, … counting down; PIL puts the TIFF block in
 * the RIFF `EXIF` chunk (sometimes behind an `Exif\0\0` prefix). Some tools use an `XMP ` chunk
 * with `workflow` / `prompt` properties instead; both are read.
 */

export interface RiffChunk {
  type: string;
  data: Buffer;
}

export function isWebp(buf: Uint8Array): boolean {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP';
}

/** The chunks of a WebP RIFF container (padding bytes skipped; a truncated tail is ignored). */
export function readRiffChunks(buf: Uint8Array): RiffChunk[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const chunks: RiffChunk[] = [];
  let pos = 12;
  while (pos + 8 <= b.length) {
    const type = b.toString('latin1', pos, pos + 4);
    const size = b.readUInt32LE(pos + 4);
    if (pos + 8 + size > b.length) break;
    chunks.push({ type, data: b.subarray(pos + 8, pos + 8 + size) });
    pos += 8 + size + (size % 2);
  }
  return chunks;
}

const ASCII = 2;
const UNDEFINED = 7;

/** Text values of the first IFD of a TIFF/EXIF block, keyed by tag number. */
export function readExifStrings(exif: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  const tiff = exif.toString('latin1', 0, 6) === 'Exif\0\0' ? exif.subarray(6) : exif;
  if (tiff.length < 8) return out;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return out;
  const little = order === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return out;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) break;
    const tag = u16(entry);
    const type = u16(entry + 2);
    const length = u32(entry + 4);
    if (type !== ASCII && type !== UNDEFINED) continue;
    const start = length <= 4 ? entry + 8 : u32(entry + 8);
    if (start + length > tiff.length) continue;
    out.set(tag, tiff.toString('utf8', start, start + length).replace(/\0+$/, ''));
  }
  return out;
}

function decodeXmlText(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** `workflow` / `prompt` properties of an XMP packet, as attributes or elements of any namespace. */
export function readXmpStrings(xmp: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['workflow', 'prompt']) {
    const attr = new RegExp(`(?:^|[\\s:])${key}="([^"]*)"`).exec(xmp);
    const element = new RegExp(`<(?:[\\w-]+:)?${key}>([\\s\\S]*?)</(?:[\\w-]+:)?${key}>`).exec(xmp);
    const raw = attr?.[1] ?? element?.[1];
    if (raw !== undefined) out[key] = decodeXmlText(raw.replace(/^<!\[CDATA\[([\s\S]*)\]\]>$/, '$1'));
  }
  return out;
}

/** Keyword → text, from EXIF `key:value` strings and XMP properties of a WebP file. */
export function readWebpText(buf: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const chunk of readRiffChunks(buf)) {
    if (chunk.type === 'EXIF') {
      for (const text of readExifStrings(chunk.data).values()) {
        const m = /^([A-Za-z_][\w-]*):([\s\S]*)$/.exec(text);
        if (m && !(m[1]! in out)) out[m[1]!] = m[2]!;
      }
    } else if (chunk.type === 'XMP ') {
      for (const [k, v] of Object.entries(readXmpStrings(chunk.data.toString('utf8')))) if (!(k in out)) out[k] = v;
    }
  }
  return out;
}
