/**
 * Bearer JWTs (jsonwebtoken): HS256 with `--jwt-secret-file`, or RS256/ES256 with
 * `--jwt-public-key`. `exp` and `nbf` are always checked; `aud`/`iss` when configured. The user
 * id is `sub` (else `user`/`preferred_username`); the role is `role` (or `admin` in `roles`).
 */
import fs from 'node:fs';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { USER_NAME, type Role } from './credentials.js';

export interface JwtSettings {
  secret: string | null;
  publicKey: string | null;
  audience: string | null;
  issuer: string | null;
}

export function readJwtSettings(opts: { secretFile: string | null; publicKeyFile: string | null; audience: string | null; issuer: string | null }): JwtSettings {
  const secret = opts.secretFile ? fs.readFileSync(opts.secretFile, 'utf8').trim() : null;
  const publicKey = opts.publicKeyFile ? fs.readFileSync(opts.publicKeyFile, 'utf8') : null;
  if (!secret && !publicKey) throw new Error('--auth jwt needs --jwt-secret-file (HS256) or --jwt-public-key (RS256/ES256)');
  if (secret !== null && secret.length < 32) throw new Error('--jwt-secret-file: the secret must be at least 32 characters');
  return { secret, publicKey, audience: opts.audience, issuer: opts.issuer };
}

export type JwtResult = { ok: true; user: string; role: Role } | { ok: false; reason: string };

export function verifyJwt(token: string, s: JwtSettings): JwtResult {
  const key = s.publicKey ?? s.secret!;
  const algorithms: Algorithm[] = s.publicKey ? ['RS256', 'ES256'] : ['HS256'];
  let payload: JwtPayload;
  try {
    const decoded = jwt.verify(token, key, { algorithms, audience: s.audience ?? undefined, issuer: s.issuer ?? undefined });
    if (typeof decoded === 'string') return { ok: false, reason: 'token payload is not a JSON object' };
    payload = decoded;
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (payload.exp === undefined) return { ok: false, reason: 'token has no exp claim' };
  const user = [payload.sub, payload['user'], payload['preferred_username']].find((v) => typeof v === 'string' && v) as string | undefined;
  if (!user) return { ok: false, reason: 'token has no sub claim' };
  if (!USER_NAME.test(user)) return { ok: false, reason: `sub ${JSON.stringify(user)} is not usable as a user id (letters, digits, '.', '_', '-')` };
  const roles = Array.isArray(payload['roles']) ? (payload['roles'] as unknown[]) : [];
  const role: Role = payload['role'] === 'admin' || roles.includes('admin') ? 'admin' : 'user';
  return { ok: true, user, role };
}

export interface MintOptions {
  user: string;
  role: Role;
  expiresInSeconds: number;
  key: string;
  algorithm: Algorithm;
  audience?: string;
  issuer?: string;
}

export function mintJwt(o: MintOptions): string {
  return jwt.sign({ role: o.role }, o.key, {
    algorithm: o.algorithm,
    subject: o.user,
    expiresIn: o.expiresInSeconds,
    ...(o.audience ? { audience: o.audience } : {}),
    ...(o.issuer ? { issuer: o.issuer } : {}),
  });
}
