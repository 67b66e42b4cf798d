/**
 * ComfyUI's cache middleware (spec §1.1): no-store for scripts, styles and `index*.json`; a day
 * for images that exist, an hour for missing ones, no-cache on temporary redirects. Only set if
 * the handler did not set Cache-Control itself.
 */
import type { NextFunction, Request, Response } from 'express';

const IMAGE_EXT = /\.(jpg|jpeg|png|ppm|bmp|pgm|tif|tiff|webp)$/i;

export function cacheHeaderFor(urlPath: string, status: number): string | null {
  const last = urlPath.split('/').pop() ?? '';
  if (/\.(js|mjs|css)$/i.test(urlPath) || /^index.*\.json$/i.test(last)) return 'no-store';
  if (IMAGE_EXT.test(urlPath)) {
    if (status === 200 || status === 206 || status === 301 || status === 308 || (status >= 200 && status < 300)) return 'public, max-age=86400';
    if (status === 404) return 'public, max-age=3600';
    if (status === 302 || status === 303 || status === 307) return 'no-cache';
  }
  return null;
}

export function cacheHeaders() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const writeHead = res.writeHead;
    // Decide when the status is final, just before the head goes out.
    res.writeHead = function patched(this: Response, ...args: unknown[]) {
      if (!res.getHeader('Cache-Control')) {
        const value = cacheHeaderFor(req.path, typeof args[0] === 'number' ? args[0] : res.statusCode);
        if (value) res.setHeader('Cache-Control', value);
      }
      return (writeHead as (...a: unknown[]) => Response).apply(this, args);
    } as typeof res.writeHead;
    next();
  };
}
