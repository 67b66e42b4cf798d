/**
 * `--enable-compress-response-body`: gzip JSON and text bodies when the client accepts gzip.
 */
import zlib from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';

const COMPRESSIBLE = /^(application\/json|text\/|application\/javascript)/i;

export function compressResponses() {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!/\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''))) return next();
    const send = res.send.bind(res);
    res.send = ((body?: unknown) => {
      const type = String(res.getHeader('Content-Type') ?? (typeof body === 'string' ? 'text/html' : ''));
      if ((typeof body === 'string' || Buffer.isBuffer(body)) && COMPRESSIBLE.test(type) && !res.getHeader('Content-Encoding')) {
        if (!res.getHeader('Content-Type')) res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.setHeader('Content-Encoding', 'gzip');
        res.setHeader('Vary', 'Accept-Encoding');
        return send(zlib.gzipSync(typeof body === 'string' ? Buffer.from(body) : body));
      }
      return send(body);
    }) as typeof res.send;
    next();
  };
}
