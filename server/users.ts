/**
 * Users (spec §1.9, ComfyUI's app/user_manager.py): `default` unless `--multi-user`, where the
 * `Comfy-User` header picks a user listed in `<user dir>/users.json`. Names starting with `__`
 * are system users, never reachable over HTTP.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { ERRORS, HttpError } from '../compat/errors.js';
import { containedPath } from '../compat/safe-path.js';

const SYSTEM_USER_PREFIX = '__';

export class UserStore {
  private users: Record<string, string>;

  constructor(
    readonly userDir: string,
    readonly multiUser: boolean,
  ) {
    this.users = multiUser ? this.readUsersFile() : { default: 'default' };
  }

  private get usersFile(): string {
    return path.join(this.userDir, 'users.json');
  }

  private readUsersFile(): Record<string, string> {
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(this.usersFile, 'utf8'));
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, string>) : {};
    } catch {
      return {};
    }
  }

  list(): Record<string, string> {
    return { ...this.users };
  }

  /**
   * The user a request acts as; unknown (or system) users → 401. With authentication and
   * `--multi-user` it is the authenticated user (no users.json entry needed).
   */
  requestUser(req: Request): string {
    if (this.multiUser && req.identity) return req.identity.user;
    let user = 'default';
    const header = req.headers['comfy-user'];
    if (this.multiUser && typeof header === 'string') user = header;
    if (user.startsWith(SYSTEM_USER_PREFIX) || !Object.hasOwn(this.users, user)) {
      throw new HttpError(ERRORS.USER_UNKNOWN, { vars: { value: user } });
    }
    return user;
  }

  /** `<user dir>/<user>`; the user id itself must not escape the user dir. */
  userRoot(user: string): string {
    const c = containedPath(this.userDir, [user]);
    if (!c.ok || c.path === path.resolve(this.userDir)) throw new HttpError(ERRORS.USERDATA_FORBIDDEN);
    return c.path;
  }

  /**
   * A user-relative path for a request. Like ComfyUI, a name still holding `%` is URL-decoded
   * once more (clients double-encode nested paths). Escapes → 403.
   */
  requestPath(req: Request, file: string): { root: string; path: string } {
    const root = this.userRoot(this.requestUser(req));
    let name = file;
    if (name.includes('%')) {
      try {
        name = decodeURIComponent(name);
      } catch {
        throw new HttpError(ERRORS.USERDATA_FORBIDDEN);
      }
    }
    const c = containedPath(root, [name]);
    if (!c.ok) throw new HttpError(ERRORS.USERDATA_FORBIDDEN);
    return { root, path: c.path };
  }

  /** `POST /users`: `"<name with runs of other chars as ->_<uuid4>"`. */
  addUser(name: string): string {
    const trimmed = name.trim();
    if (!trimmed) throw new HttpError(ERRORS.USER_NAME_MISSING);
    if (Object.values(this.users).includes(trimmed)) throw new HttpError(ERRORS.USER_DUPLICATE);
    const id = `${trimmed.replace(/[^a-zA-Z0-9\-_]+/g, '-')}_${randomUUID()}`;
    this.users[id] = trimmed;
    fs.mkdirSync(this.userDir, { recursive: true });
    fs.writeFileSync(this.usersFile, JSON.stringify(this.users));
    return id;
  }
}
