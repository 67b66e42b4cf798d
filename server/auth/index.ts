/**
 * Authentication wiring (docs/security.md): the Authenticator from a Config, the Express
 * middleware that answers 401 for every route, and the start-up guard refusing an open server
 * on a non-loopback address.
 */
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import type { Config } from '../config.js';
import { isLoopbackHost } from '../http/security.js';
import { Authenticator, type Identity } from './authenticator.js';
import { CredentialStore } from './credentials.js';
import { readJwtSettings } from './jwt.js';

export { Authenticator, type Identity } from './authenticator.js';
export { CredentialStore } from './credentials.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the auth middleware when authentication is on. */
      identity?: Identity;
    }
  }
}

export function credentialsFile(config: Config, userDir: string): string {
  return config.authFile ?? path.join(userDir, 'comfy8-auth.json');
}

export function createAuthenticator(config: Config, userDir: string): Authenticator {
  const jwt = config.authModes.includes('jwt')
    ? readJwtSettings({ secretFile: config.jwtSecretFile, publicKeyFile: config.jwtPublicKeyFile, audience: config.jwtAudience, issuer: config.jwtIssuer })
    : null;
  return new Authenticator({ modes: config.authModes, credentials: new CredentialStore(credentialsFile(config, userDir)), jwt });
}

/** Sends the ComfyUI-shaped 401 with its challenge. */
export function sendUnauthorized(auth: Authenticator, res: Response, reason: string): void {
  const err = new HttpError(ERRORS.AUTH_REQUIRED, { vars: { details: reason } });
  res.setHeader('WWW-Authenticate', auth.challenge());
  res.status(err.status).json(err.body());
}

/** The same 401 as raw HTTP on a refused WebSocket upgrade. */
export function sendUnauthorizedUpgrade(auth: Authenticator, socket: Duplex, reason: string): void {
  const body = JSON.stringify(new HttpError(ERRORS.AUTH_REQUIRED, { vars: { details: reason } }).body());
  const challenge = auth.challenge();
  socket.end(
    `HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json; charset=utf-8\r\n${challenge ? `WWW-Authenticate: ${challenge}\r\n` : ''}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function authMiddleware(auth: Authenticator) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!auth.enabled) return next();
    const result = auth.authenticate(req);
    if (!result.ok) return sendUnauthorized(auth, res, result.reason);
    req.identity = result.identity;
    next();
  };
}

/** Null if the server may start; else why not (auth off on a non-loopback address). */
export function refuseOpenListen(config: Config): string | null {
  if (config.authModes.length > 0 || config.allowUnauthenticated) return null;
  const open = config.listen.filter((h) => !isLoopbackHost(h));
  if (open.length === 0) return null;
  return `refusing to listen on ${open.join(', ')} without authentication: choose --auth basic|key|jwt (see docs/security.md) or pass --allow-unauthenticated`;
}
