/**
 * The Config fields of authentication, isolation limits, audit log and persistence
 * (docs/security.md), parsed from the flags `cli-flags.ts` declares in `securityFlags()`.
 */
import path from 'node:path';
import { CliError, type ParsedArgs } from './cli-args.js';

export type AuthMode = 'jwt' | 'key' | 'basic';
export const AUTH_MODES: readonly AuthMode[] = ['jwt', 'key', 'basic'];

export interface SecurityConfig {
  /** Authentication modes (`--auth`); empty = none. */
  readonly authModes: readonly AuthMode[];
  readonly allowUnauthenticated: boolean;
  /** `--auth-file`; null = `<user dir>/comfy8-auth.json`. */
  readonly authFile: string | null;
  readonly jwtSecretFile: string | null;
  readonly jwtPublicKeyFile: string | null;
  readonly jwtAudience: string | null;
  readonly jwtIssuer: string | null;
  /** `--audit-log`; null = `<user dir>/comfy8-audit.log`; false = off. */
  readonly auditLog: string | null | false;
  readonly auditLogMaxBytes: number;
  /** Per-user POST /prompt limit per minute; 0 = none. */
  readonly maxPromptsPerMinute: number;
  /** Per-user cap on pending prompts; 0 = none. */
  readonly maxQueuedPerUser: number;
  readonly maxHistorySize: number;
  /** Queue and history in SQLite under the user directory (false: in memory). */
  readonly persistQueue: boolean;
  readonly shutdownTimeoutMs: number;
  readonly maxUploadPixels: number;
}

export const DEFAULT_SECURITY_CONFIG: SecurityConfig = {
  authModes: [],
  allowUnauthenticated: false,
  authFile: null,
  jwtSecretFile: null,
  jwtPublicKeyFile: null,
  jwtAudience: null,
  jwtIssuer: null,
  auditLog: null,
  auditLogMaxBytes: 10 * 1024 * 1024,
  maxPromptsPerMinute: 0,
  maxQueuedPerUser: 0,
  maxHistorySize: 10000,
  persistQueue: true,
  shutdownTimeoutMs: 30_000,
  maxUploadPixels: 128 * 1024 * 1024,
};

export function securityFromParsed(parsed: ParsedArgs, cwd: string): SecurityConfig {
  const v = parsed.values;
  const file = (k: string) => (v[k] == null ? null : path.resolve(cwd, String(v[k])));
  const opt = (k: string) => (v[k] == null ? null : String(v[k]));
  return {
    authModes: parseAuthModes(String(v['auth'])),
    allowUnauthenticated: v['allow-unauthenticated'] as boolean,
    authFile: file('auth-file'),
    jwtSecretFile: file('jwt-secret-file'),
    jwtPublicKeyFile: file('jwt-public-key'),
    jwtAudience: opt('jwt-audience'),
    jwtIssuer: opt('jwt-issuer'),
    auditLog: (v['disable-audit-log'] as boolean) ? false : file('audit-log'),
    auditLogMaxBytes: Math.round((v['audit-log-max-size'] as number) * 1024 * 1024),
    maxPromptsPerMinute: v['max-prompts-per-minute'] as number,
    maxQueuedPerUser: v['max-queued-per-user'] as number,
    maxHistorySize: v['max-history-size'] as number,
    persistQueue: !(v['in-memory-queue'] as boolean),
    shutdownTimeoutMs: Math.round((v['shutdown-timeout'] as number) * 1000),
    maxUploadPixels: Math.round((v['max-upload-pixels'] as number) * 1024 * 1024),
  };
}

/** `basic,key` → ['basic', 'key']; `none` → []; unknown modes throw CliError (exit 2). */
export function parseAuthModes(value: string): AuthMode[] {
  const modes = value.split(',').map((m) => m.trim().toLowerCase()).filter((m) => m && m !== 'none');
  for (const m of modes) {
    if (!(AUTH_MODES as readonly string[]).includes(m)) throw new CliError(`argument --auth: invalid mode '${m}' (choose from none, ${AUTH_MODES.join(', ')})`);
  }
  return [...new Set(modes)] as AuthMode[];
}
