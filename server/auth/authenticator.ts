/**
 * Who a request is: credentials from `Authorization: Basic|Bearer`, `?token=`, or (WebSocket
 * upgrades) a `bearer.<token>` entry of `Sec-WebSocket-Protocol`. Tokens starting `c8k_` are
 * API keys; other tokens are JWTs. Works on a plain IncomingMessage so HTTP and the WS upgrade
 * share it.
 */
import type http from 'node:http';
import type { AuthMode } from '../config.js';
import { CredentialStore, type Role } from './credentials.js';
import { verifyJwt, type JwtSettings } from './jwt.js';

export interface Identity {
  user: string;
  role: Role;
  via: AuthMode;
}

export type AuthResult = { ok: true; identity: Identity } | { ok: false; reason: string };

export const WS_TOKEN_PROTOCOL_PREFIX = 'bearer.';

export interface AuthenticatorOptions {
  modes: readonly AuthMode[];
  credentials: CredentialStore;
  jwt: JwtSettings | null;
}

export class Authenticator {
  constructor(private readonly opts: AuthenticatorOptions) {}

  get enabled(): boolean {
    return this.opts.modes.length > 0;
  }

  get credentials(): CredentialStore {
    return this.opts.credentials;
  }

  /** The `WWW-Authenticate` challenge(s) for a 401. */
  challenge(): string {
    const out: string[] = [];
    if (this.opts.modes.includes('basic')) out.push('Basic realm="comfy8", charset="UTF-8"');
    if (this.opts.modes.includes('jwt') || this.opts.modes.includes('key')) out.push('Bearer realm="comfy8"');
    return out.join(', ');
  }

  authenticate(req: http.IncomingMessage): AuthResult {
    const header = req.headers.authorization;
    if (header) {
      const [scheme, value = ''] = header.split(/\s+/, 2) as [string, string?];
      if (scheme.toLowerCase() === 'basic') return this.basic(value);
      if (scheme.toLowerCase() === 'bearer') return this.token(value.trim());
      return { ok: false, reason: `unsupported Authorization scheme ${JSON.stringify(scheme)}` };
    }
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
    if (query) return this.token(query);
    const offered = wsTokenProtocol(req);
    if (offered) return this.token(offered.slice(WS_TOKEN_PROTOCOL_PREFIX.length));
    return { ok: false, reason: 'no credentials were sent' };
  }

  private basic(encoded: string): AuthResult {
    if (!this.opts.modes.includes('basic')) return { ok: false, reason: 'Basic authentication is not enabled' };
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'malformed Basic credentials' };
    const user = decoded.slice(0, colon);
    const role = this.opts.credentials.checkPassword(user, decoded.slice(colon + 1));
    return role ? { ok: true, identity: { user, role, via: 'basic' } } : { ok: false, reason: 'wrong user name or password' };
  }

  private token(token: string): AuthResult {
    if (token.startsWith('c8k_')) {
      if (!this.opts.modes.includes('key')) return { ok: false, reason: 'API keys are not enabled' };
      const found = this.opts.credentials.checkKey(token);
      return found ? { ok: true, identity: { ...found, via: 'key' } } : { ok: false, reason: 'unknown or revoked API key' };
    }
    if (!this.opts.modes.includes('jwt') || !this.opts.jwt) return { ok: false, reason: 'bearer tokens (JWT) are not enabled' };
    const r = verifyJwt(token, this.opts.jwt);
    return r.ok ? { ok: true, identity: { user: r.user, role: r.role, via: 'jwt' } } : { ok: false, reason: `invalid token: ${r.reason}` };
  }
}

/** The `bearer.<token>` entry a browser WebSocket can offer as a subprotocol. */
export function wsTokenProtocol(req: http.IncomingMessage): string | undefined {
  const raw = req.headers['sec-websocket-protocol'];
  if (typeof raw !== 'string') return undefined;
  return raw.split(',').map((p) => p.trim()).find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX));
}
