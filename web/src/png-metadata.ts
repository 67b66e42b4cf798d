/**
 * Reads the text chunks ComfyUI's SaveImage writes (`workflow`, `prompt`) from a PNG, client-side.
 * tEXt payloads are decoded as UTF-8 like the official frontend does; uncompressed iTXt is read too.
 */

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export class NotAPngError extends Error {}

function readTextChunk(type: string, data: Uint8Array): { key: string; text: string } | null {
  const nul = data.indexOf(0);
  if (nul < 0) return null;
  const key = new TextDecoder('latin1').decode(data.subarray(0, nul));
  if (type === 'tEXt') return { key, text: new TextDecoder().decode(data.subarray(nul + 1)) };
  // iTXt: keyword \0 compression-flag compression-method language \0 translated-keyword \0 text
  if (data[nul + 1] !== 0) return null;
  let pos = nul + 3;
  for (let skip = 0; skip < 2; skip++) pos = data.indexOf(0, pos) + 1;
  if (pos <= 0) return null;
  return { key, text: new TextDecoder().decode(data.subarray(pos)) };
}

export function readPngTextChunks(bytes: Uint8Array): Record<string, string> {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new NotAPngError('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, string> = {};
  let pos = 8;
  while (pos + 8 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === 'tEXt' || type === 'iTXt') {
      const chunk = readTextChunk(type, data);
      if (chunk) out[chunk.key] = chunk.text;
    }
    if (type === 'IEND') break;
    pos += 12 + length;
  }
  return out;
}
