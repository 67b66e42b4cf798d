/**
 * Password and API-key hashing. Passwords: scrypt (N=16384, r=8, p=1, 16-byte salt), stored as
 * `scrypt$<salt b64>$<hash b64>`. API keys are 32 random bytes, so a plain SHA-256 is enough
 * to store them (nothing to brute-force); comparison is constant-time either way.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 32;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = scryptSync(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A new API key: `c8k_<key id>_<secret>`; the id is public (list/revoke), the secret is not. */
export function newApiKey(): { id: string; key: string } {
  const id = randomBytes(6).toString('hex');
  return { id, key: `c8k_${id}_${randomBytes(32).toString('base64url')}` };
}

export function apiKeyId(key: string): string | null {
  const m = /^c8k_([0-9a-f]{12})_[A-Za-z0-9_-]{20,}$/.exec(key);
  return m ? m[1]! : null;
}
