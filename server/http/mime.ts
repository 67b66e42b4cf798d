/**
 * Content types by extension (Python's `mimetypes.guess_type` for the files ComfyUI serves), and
 * which of them a browser would execute or render as a document if served inline.
 */
import path from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif',
  '.bmp': 'image/bmp', '.tif': 'image/tiff', '.tiff': 'image/tiff', '.svg': 'image/svg+xml', '.ico': 'image/vnd.microsoft.icon',
  '.avif': 'image/avif', '.mp4': 'video/mp4', '.webm': 'video/webm', '.mov': 'video/quicktime', '.mkv': 'video/x-matroska',
  '.avi': 'video/x-msvideo', '.mp3': 'audio/mpeg', '.wav': 'audio/x-wav', '.flac': 'audio/flac', '.ogg': 'audio/ogg',
  '.opus': 'audio/opus', '.m4a': 'audio/mp4', '.json': 'application/json', '.txt': 'text/plain', '.md': 'text/markdown',
  '.csv': 'text/csv', '.html': 'text/html', '.htm': 'text/html', '.xhtml': 'application/xhtml+xml', '.js': 'text/javascript',
  '.mjs': 'text/javascript', '.css': 'text/css', '.xml': 'application/xml', '.eml': 'message/rfc822', '.mht': 'message/rfc822',
  '.pdf': 'application/pdf', '.glb': 'model/gltf-binary', '.gltf': 'model/gltf+json', '.obj': 'model/obj', '.zip': 'application/zip',
};

export function guessContentType(filename: string): string {
  return TYPES[path.extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

/** HTML, JS, CSS, XML (`*+xml`), SVG and `message/rfc822`: never served inline. */
export function isDangerousContentType(type: string): boolean {
  const t = type.toLowerCase();
  return (
    t === 'text/html' || t === 'text/html-sandboxed' || t === 'text/javascript' || t === 'application/javascript' ||
    t === 'application/x-javascript' || t === 'application/ecmascript' || t === 'text/css' || t.endsWith('/xml') ||
    t.endsWith('+xml') || t === 'message/rfc822'
  );
}
