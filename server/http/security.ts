/**
 * Security middleware of spec §5.4: the loopback origin check (default), or CORS headers with
 * `--enable-cors-header`; the `--offline` Content-Security-Policy.
 */
import type http from 'node:http';
import net from 'node:net';
import type { NextFunction, Request, Response } from 'express';

export const OFFLINE_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data: blob:; font-src 'self'; connect-src 'self' data:; frame-src 'self'; object-src 'self';";

interface Authority {
  host: string;
  port: string | null;
}

/** `host[:port]` or `[v6]:port`, lower-cased. */
export function parseAuthority(value: string): Authority | null {
  const v = value.trim().toLowerCase();
  if (!v) return null;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) return { host: bracket[1]!, port: bracket[2] ?? null };
  const parts = v.split(':');
  if (parts.length > 2) return { host: v, port: null }; // bare IPv6
  return { host: parts[0]!, port: parts[1] ?? null };
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || host.startsWith('::ffff:127.');
  return false;
}

/**
 * The origin check; returns 403 to refuse, or null to accept.
 * 1. `Sec-Fetch-Site: cross-site` → 403.
 * 2. Host and Origin both present, Host on loopback: authorities must match (ports compared only
 *    when both carry one).
 */
export function originCheck(req: http.IncomingMessage): number | null {
  if (String(req.headers['sec-fetch-site'] ?? '').toLowerCase() === 'cross-site') return 403;
  const hostHeader = req.headers.host;
  const originHeader = req.headers.origin;
  if (!hostHeader || !originHeader) return null;
  const host = parseAuthority(hostHeader);
  if (!host || !isLoopbackHost(host.host)) return null;
  let origin: Authority | null = null;
  try {
    const u = new URL(originHeader);
    origin = parseAuthority(u.host);
  } catch {
    return 403; // "null" or garbage origin on a loopback host
  }
  if (!origin) return 403;
  if (origin.host !== host.host) return 403;
  if (origin.port !== null && host.port !== null && origin.port !== host.port) return 403;
  return null;
}

export function securityMiddleware(opts: { corsOrigin: string | null; offline: boolean }) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (opts.offline) res.setHeader('Content-Security-Policy', OFFLINE_CSP);
    if (opts.corsOrigin !== null) {
      res.setHeader('Access-Control-Allow-Origin', opts.corsOrigin);
      res.setHeader('Access-Control-Allow-Methods', 'POST, GET, DELETE, PUT, OPTIONS, PATCH');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    } else {
      const refused = originCheck(req);
      if (refused !== null) {
        res.status(refused).end();
        return;
      }
    }
    if (req.method === 'OPTIONS') {
      res.status(200).end();
      return;
    }
    next();
  };
}
