/**
 * The credentials file (`--auth-file`, default `<user dir>/comfy8-auth.json`, mode 0600): users
 * with scrypt-hashed passwords and roles, and API keys stored as SHA-256 hashes. The server
 * re-reads it when its modification time changes, so `comfy8 key revoke` takes effect at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { apiKeyId, hashPassword, newApiKey, sameHash, sha256Hex, verifyPassword } from './passwords.js';

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];

export interface UserRecord {
  password: string;
  role: Role;
  created: string;
}

export interface KeyRecord {
  id: string;
  user: string;
  hash: string;
  label: string;
  created: string;
  revoked: string | null;
}

interface CredentialsFile {
  users: Record<string, UserRecord>;
  keys: KeyRecord[];
}

/** Names usable as a user id and a folder name: no `__` system prefix, no path characters. */
const VERIFIED_TTL_MS = 5 * 60_000;

export const USER_NAME = /^(?!__)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class CredentialStore {
  private data: CredentialsFile = { users: {}, keys: [] };
  private loadedMtime = -1;
  /**
   * Verified Basic credentials (SHA-256 of user:password → role): a browser resends them on every
   * request, and scrypt per request would stall the server. Dropped whenever the file changes.
   */
  private readonly verified = new Map<string, { role: Role; until: number }>();

  constructor(readonly file: string) {}

  private load(): CredentialsFile {
    let mtime = 0;
    try {
      mtime = fs.statSync(this.file).mtimeMs;
    } catch {
      this.data = { users: {}, keys: [] };
      this.loadedMtime = -1;
      return this.data;
    }
    if (mtime !== this.loadedMtime) {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<CredentialsFile>;
      this.data = { users: parsed.users ?? {}, keys: parsed.keys ?? [] };
      this.loadedMtime = mtime;
      this.verified.clear();
    }
    return this.data;
  }

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    this.loadedMtime = -1;
  }

  users(): Array<{ name: string; role: Role; created: string }> {
    return Object.entries(this.load().users).map(([name, u]) => ({ name, role: u.role, created: u.created }));
  }

  user(name: string): UserRecord | undefined {
    const users = this.load().users;
    return Object.hasOwn(users, name) ? users[name] : undefined;
  }

  addUser(name: string, password: string, role: Role): void {
    if (!USER_NAME.test(name)) throw new Error(`invalid user name ${JSON.stringify(name)}: use letters, digits, '.', '_', '-' (not starting with __)`);
    if (!ROLES.includes(role)) throw new Error(`invalid role ${JSON.stringify(role)}: choose from ${ROLES.join(', ')}`);
    if (password.length < 8) throw new Error('password too short: use at least 8 characters');
    this.load().users[name] = { password: hashPassword(password), role, created: new Date().toISOString() };
    this.save();
  }

  removeUser(name: string): boolean {
    const data = this.load();
    if (!Object.hasOwn(data.users, name)) return false;
    delete data.users[name];
    const now = new Date().toISOString();
    for (const k of data.keys) if (k.user === name && !k.revoked) k.revoked = now;
    this.save();
    return true;
  }

  /** The user's role if name and password match. */
  checkPassword(name: string, password: string): Role | null {
    const u = this.user(name);
    if (!u) return null;
    const cacheKey = sha256Hex(`${name}\0${password}`);
    const hit = this.verified.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.role;
    if (!verifyPassword(password, u.password)) return null;
    this.verified.set(cacheKey, { role: u.role, until: Date.now() + VERIFIED_TTL_MS });
    return u.role;
  }

  createKey(user: string, label = ''): { id: string; key: string } {
    if (!this.user(user)) throw new Error(`unknown user ${JSON.stringify(user)}: add it first with 'comfy8 user add'`);
    const { id, key } = newApiKey();
    this.load().keys.push({ id, user, hash: sha256Hex(key), label, created: new Date().toISOString(), revoked: null });
    this.save();
    return { id, key };
  }

  revokeKey(id: string): boolean {
    const k = this.load().keys.find((x) => x.id === id);
    if (!k || k.revoked) return false;
    k.revoked = new Date().toISOString();
    this.save();
    return true;
  }

  keys(): Array<Omit<KeyRecord, 'hash'>> {
    return this.load().keys.map(({ hash: _hash, ...rest }) => rest);
  }

  /** The key's user and role, or null for an unknown, revoked or orphaned key. */
  checkKey(key: string): { user: string; role: Role } | null {
    const id = apiKeyId(key);
    if (!id) return null;
    const k = this.load().keys.find((x) => x.id === id);
    if (!k || k.revoked || !sameHash(k.hash, sha256Hex(key))) return null;
    const u = this.user(k.user);
    return u ? { user: k.user, role: u.role } : null;
  }
}
