/**
 * Sub-commands of `comfy8` (main.ts dispatches here when argv[0] is a command word; anything
 * else starts the server). Add a command by adding one entry to COMMANDS.
 *
 *   comfy8 user add NAME [--role admin|user] (--password P | --password-stdin)
 *   comfy8 user list | user remove NAME
 *   comfy8 key create --user NAME [--label TEXT] | key revoke ID | key list
 *   comfy8 token --user NAME [--role admin|user] [--expires-in 1h] (--secret-file F | --private-key F [--algorithm RS256|ES256])
 *                [--audience AUD] [--issuer ISS]
 * Common: --auth-file FILE, or --user-directory DIR / --base-directory DIR (default file:
 * <user dir>/comfy8-auth.json, the server's default).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Algorithm } from 'jsonwebtoken';
import { CredentialStore, ROLES, type Role } from './auth/credentials.js';
import { mintJwt } from './auth/jwt.js';

export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  readStdin: () => string;
}

type Command = (args: ParsedCommand, io: CommandIo) => number;

interface ParsedCommand {
  positional: string[];
  options: Record<string, string | true>;
}

const COMMANDS: Record<string, Command> = {
  user: userCommand,
  key: keyCommand,
  token: tokenCommand,
};

export function isCommand(word: string | undefined): boolean {
  return word !== undefined && Object.hasOwn(COMMANDS, word);
}

const defaultIo: CommandIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  readStdin: () => fs.readFileSync(0, 'utf8'),
};

/** Runs `argv` (argv[0] = the command word); returns the exit status. */
export function runCommand(argv: readonly string[], io: CommandIo = defaultIo): number {
  const [word, ...rest] = argv;
  try {
    return COMMANDS[word!]!(parseCommandArgs(rest), io);
  } catch (err) {
    io.err(`comfy8 ${word}: error: ${(err as Error).message}`);
    return 2;
  }
}

const FLAGS_WITHOUT_VALUE = new Set(['password-stdin', 'json']);

function parseCommandArgs(argv: readonly string[]): ParsedCommand {
  const out: ParsedCommand = { positional: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (eq >= 0) out.options[name] = a.slice(eq + 1);
    else if (FLAGS_WITHOUT_VALUE.has(name)) out.options[name] = true;
    else if (i + 1 < argv.length) out.options[name] = argv[++i]!;
    else throw new Error(`--${name} needs a value`);
  }
  return out;
}

function opt(args: ParsedCommand, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}

function need(args: ParsedCommand, name: string): string {
  const v = opt(args, name);
  if (!v) throw new Error(`--${name} is required`);
  return v;
}

export function authFileFor(args: ParsedCommand, cwd = process.cwd()): string {
  const explicit = opt(args, 'auth-file');
  if (explicit) return path.resolve(cwd, explicit);
  const userDir = opt(args, 'user-directory') ?? path.join(opt(args, 'base-directory') ?? '.', 'user');
  return path.resolve(cwd, userDir, 'comfy8-auth.json');
}

function role(args: ParsedCommand): Role {
  const r = opt(args, 'role') ?? 'user';
  if (!(ROLES as readonly string[]).includes(r)) throw new Error(`--role ${r}: choose from ${ROLES.join(', ')}`);
  return r as Role;
}

function userCommand(args: ParsedCommand, io: CommandIo): number {
  const store = new CredentialStore(authFileFor(args));
  const [action, name] = args.positional;
  if (action === 'add' && name) {
    const password = args.options['password-stdin'] ? io.readStdin().replace(/\r?\n$/, '') : need(args, 'password');
    store.addUser(name, password, role(args));
    io.out(`added user ${name} (${role(args)}) to ${store.file}`);
    return 0;
  }
  if (action === 'list') {
    for (const u of store.users()) io.out(`${u.name}\t${u.role}\t${u.created}`);
    return 0;
  }
  if (action === 'remove' && name) {
    if (!store.removeUser(name)) throw new Error(`no user ${JSON.stringify(name)}`);
    io.out(`removed user ${name} and revoked their keys`);
    return 0;
  }
  throw new Error('usage: comfy8 user add NAME (--password P | --password-stdin) [--role admin|user] | user list | user remove NAME');
}

function keyCommand(args: ParsedCommand, io: CommandIo): number {
  const store = new CredentialStore(authFileFor(args));
  const [action, id] = args.positional;
  if (action === 'create') {
    const created = store.createKey(need(args, 'user'), opt(args, 'label') ?? '');
    io.out(created.key);
    io.err(`key ${created.id} created; it is shown only once`);
    return 0;
  }
  if (action === 'revoke' && id) {
    if (!store.revokeKey(id)) throw new Error(`no active key ${JSON.stringify(id)}`);
    io.out(`revoked key ${id}`);
    return 0;
  }
  if (action === 'list') {
    for (const k of store.keys()) io.out(`${k.id}\t${k.user}\t${k.revoked ? `revoked ${k.revoked}` : 'active'}\t${k.label}`);
    return 0;
  }
  throw new Error('usage: comfy8 key create --user NAME [--label TEXT] | key revoke ID | key list');
}

/** `90`, `90s`, `15m`, `12h`, `7d` → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) throw new Error(`--expires-in ${text}: use a number of seconds or 15m, 12h, 7d`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

function tokenCommand(args: ParsedCommand, io: CommandIo): number {
  const secretFile = opt(args, 'secret-file');
  const privateKey = opt(args, 'private-key');
  if (!secretFile === !privateKey) throw new Error('give exactly one of --secret-file (HS256) or --private-key (RS256/ES256)');
  const algorithm = (secretFile ? 'HS256' : (opt(args, 'algorithm') ?? 'RS256')) as Algorithm;
  if (!['HS256', 'RS256', 'ES256'].includes(algorithm)) throw new Error(`--algorithm ${algorithm}: choose from RS256, ES256`);
  const key = secretFile ? fs.readFileSync(secretFile, 'utf8').trim() : fs.readFileSync(privateKey!, 'utf8');
  const token = mintJwt({
    user: need(args, 'user'),
    role: role(args),
    expiresInSeconds: parseDuration(opt(args, 'expires-in') ?? '1h'),
    key,
    algorithm,
    audience: opt(args, 'audience'),
    issuer: opt(args, 'issuer'),
  });
  io.out(token);
  return 0;
}
