/**
 * Request bodies as ComfyUI reads them: the raw bytes, JSON-parsed whatever the Content-Type
 * (spec §0). Multipart bodies are left to multer. Anything over `--max-upload-size` → 413.
 */
import type { NextFunction, Request, Response } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The raw body (empty for GET/HEAD and multipart requests). */
    rawBody?: Buffer;
  }
}

function isMultipart(req: Request): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/');
}

/** Reads the whole body into `req.rawBody`, refusing more than `maxBytes`. */
export function rawBodyReader(maxBytes: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return next(new HttpError(ERRORS.BODY_TOO_LARGE));
    if (req.method === 'GET' || req.method === 'HEAD' || isMultipart(req)) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes && !failed) {
        failed = true;
        req.removeAllListeners('data');
        req.resume();
        next(new HttpError(ERRORS.BODY_TOO_LARGE));
        return;
      }
      if (!failed) chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      req.rawBody = Buffer.concat(chunks);
      next();
    });
    req.on('error', (err) => {
      if (!failed) next(err);
    });
  };
}

/**
 * Deepest nesting ComfyUI's Python parser takes (its recursion limit, 1000, gives RecursionError
 * → 500). JSON.parse would accept far deeper values, which JSON.stringify (history, /queue,
 * settings files) then cannot write back: one such prompt made /history answer 500 for everyone.
 */
export const MAX_JSON_DEPTH = 1000;

/** Deepest `[`/`{` nesting of JSON text, strings skipped. */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** The body parsed as JSON; malformed, empty or nested too deep → ERRORS.BODY_INVALID_JSON (500, as ComfyUI). */
export function jsonBody(req: Request): unknown {
  const text = (req.rawBody ?? Buffer.alloc(0)).toString('utf8');
  if (jsonNestingDepth(text) > MAX_JSON_DEPTH) {
    throw new HttpError(ERRORS.BODY_INVALID_JSON, { details: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(ERRORS.BODY_INVALID_JSON, { details: (err as Error).message });
  }
}

/** The body as a JSON object, or `fallback` when it is malformed or not an object. */
export function jsonObjectOr(req: Request, fallback: Record<string, unknown>): Record<string, unknown> {
  try {
    const v = jsonBody(req);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fallback;
  } catch {
    return fallback;
  }
}

/** The body as a JSON object; malformed → 500, any other JSON value → 400. */
export function jsonObject(req: Request): Record<string, unknown> {
  const v = jsonBody(req);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(ERRORS.BODY_NOT_OBJECT, { details: `got ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v}` });
  return v as Record<string, unknown>;
}

/** First value of a query parameter (aiohttp's `query.get`). */
export function queryParam(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (Array.isArray(v)) return v.length ? String(v[0]) : undefined;
  return v === undefined ? undefined : String(v);
}
