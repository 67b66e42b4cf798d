/**
 * An argparse-compatible parser for ComfyUI's command line (flags in `cli-flags.ts`):
 * `--flag value`, `--flag=value`, optional values, repeatable flags, unique-prefix abbreviations,
 * mutually exclusive groups. Errors are `CliError`s carrying argparse's exit status 2.
 *
 * Example: parseCliArgs(['--listen', '--port', '9000']) →
 *   { values: { listen: '0.0.0.0,::', port: 9000, … }, given: Set{'listen','port'}, help: false }
 */
import { FLAGS, type FlagSpec } from './cli-flags.js';

export class CliError extends Error {
  readonly exitCode = 2;
}

export interface ParsedArgs {
  /** Flag name (dashes kept) → value; defaults filled in for flags not given. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Flags present on the command line. */
  readonly given: ReadonlySet<string>;
  readonly help: boolean;
}

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));

export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') throw new CliError(`unrecognized arguments: ${arg}`);
    const eq = arg.indexOf('=');
    const spec = lookupFlag(eq >= 0 ? arg.slice(2, eq) : arg.slice(2));
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const raw: string[] = inline !== undefined ? [inline] : [];
    if (inline === undefined && spec.arity !== 'flag') {
      while (i + 1 < argv.length && !looksLikeFlag(argv[i + 1]!)) {
        raw.push(argv[++i]!);
        if (spec.arity === 'value' || spec.arity === 'optional') break;
      }
    }
    values[spec.name] = convertValue(spec, raw, values[spec.name]);
    given.add(spec.name);
  }
  checkExclusiveGroups(given);
  for (const spec of FLAGS) if (!given.has(spec.name)) values[spec.name] = defaultOf(spec);
  return { values, given, help };
}

function looksLikeFlag(s: string): boolean {
  return s.startsWith('-') && s.length > 1 && !/^-\d/.test(s);
}

/** Exact name first, then a unique prefix (argparse's allow_abbrev). */
function lookupFlag(name: string): FlagSpec {
  const exact = BY_NAME.get(name);
  if (exact) return exact;
  const matches = FLAGS.filter((f) => f.name.startsWith(name));
  if (matches.length === 1 && name.length > 0) return matches[0]!;
  if (matches.length > 1) {
    throw new CliError(`ambiguous option: --${name} could match ${matches.map((m) => `--${m.name}`).join(', ')}`);
  }
  throw new CliError(`unrecognized arguments: --${name} (see --help for the flags this server accepts)`);
}

function defaultOf(spec: FlagSpec): unknown {
  if (spec.arity === 'flag') return false;
  if (spec.arity === 'append') return [];
  return spec.default ?? null;
}

function convertValue(spec: FlagSpec, raw: string[], previous: unknown): unknown {
  const label = `argument --${spec.name}`;
  switch (spec.arity) {
    case 'flag':
      if (raw.length > 0) throw new CliError(`${label}: ignored explicit argument '${raw[0]}'`);
      return true;
    case 'value':
      if (raw.length === 0) throw new CliError(`${label}: expected one argument`);
      return convertOne(spec, raw[0]!);
    case 'optional':
      return raw.length === 0 ? spec.bare : convertOne(spec, raw[0]!);
    case 'values':
      return raw.map((r) => convertOne(spec, r));
    case 'append':
      if (raw.length === 0) throw new CliError(`${label}: expected at least one argument`);
      return [...((previous as unknown[]) ?? []), ...raw.map((r) => convertOne(spec, r))];
  }
}

function convertOne(spec: FlagSpec, raw: string): unknown {
  const label = `argument --${spec.name}`;
  let value: unknown = raw;
  if (spec.type === 'int') {
    if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw new CliError(`${label}: invalid int value: '${raw}'`);
    value = Number.parseInt(raw, 10);
  } else if (spec.type === 'float') {
    const n = Number(raw);
    if (raw.trim() === '' || Number.isNaN(n)) throw new CliError(`${label}: invalid float value: '${raw}'`);
    value = n;
  }
  if (spec.choices && !spec.choices.includes(String(value))) {
    throw new CliError(`${label}: invalid choice: '${raw}' (choose from ${spec.choices.map((c) => `'${c}'`).join(', ')})`);
  }
  return value;
}

function checkExclusiveGroups(given: ReadonlySet<string>): void {
  const seen = new Map<string, string>();
  for (const name of given) {
    const group = BY_NAME.get(name)?.group;
    if (!group) continue;
    const other = seen.get(group);
    if (other) throw new CliError(`argument --${name}: not allowed with argument --${other}`);
    seen.set(group, name);
  }
}

/** `--help` text: every flag with its value form, default and help line. */
export function helpText(prog = 'comfy8'): string {
  const lines = [`usage: ${prog} [options]`, '', 'A ComfyUI-compatible server. Options (ComfyUI names):', ''];
  for (const f of FLAGS) {
    const meta = f.metavar ?? (f.choices ? `{${f.choices.join(',')}}` : f.type === 'int' ? 'N' : 'VALUE');
    const form =
      f.arity === 'flag' ? '' : f.arity === 'optional' ? ` [${meta}]` : f.arity === 'values' ? ` [${meta} ...]` : f.arity === 'append' ? ` ${meta} [${meta} ...]` : ` ${meta}`;
    const dflt = f.default !== undefined && f.arity !== 'flag' ? ` (default: ${String(f.default)})` : '';
    lines.push(`  --${f.name}${form}`.padEnd(48) + ` ${f.help}${dflt}`);
  }
  lines.push('  -h, --help'.padEnd(48) + ' show this help and exit');
  return lines.join('\n') + '\n';
}
