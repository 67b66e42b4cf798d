/**
 * The server's configuration: read once from the command line (`configFromArgs`) or built by a
 * test (`createConfig`), then frozen and passed down. Nothing else reads argv or the environment.
 */
import path from 'node:path';
import type { CachePolicyName } from '../executor/types.js';
import { parseCliArgs, type ParsedArgs } from './cli-args.js';
import { DEFAULT_SECURITY_CONFIG, securityFromParsed, type SecurityConfig } from './security-config.js';
import { DEFAULT_PRECISION_CONFIG, precisionFromParsed, type PrecisionConfig } from './precision-flags.js';

export type HashingFunction = 'md5' | 'sha1' | 'sha256' | 'sha512';

export type { AuthMode } from './security-config.js';

export interface Config extends SecurityConfig {
  /** Addresses to bind (`--listen`, comma-separated). */
  readonly listen: readonly string[];
  readonly port: number;
  readonly tls: { readonly keyFile: string; readonly certFile: string } | null;
  /** `--enable-cors-header` origin; null = origin check instead of CORS. */
  readonly corsOrigin: string | null;
  /** `--max-upload-size` in bytes. */
  readonly maxUploadBytes: number;
  readonly baseDirectory: string;
  readonly outputDirectory: string | null;
  readonly inputDirectory: string | null;
  readonly tempDirectory: string | null;
  readonly userDirectory: string | null;
  readonly modelsDirectory: string | null;
  readonly extraModelPathsConfigs: readonly string[];
  /** `--front-end-root`; null = the project's `web/` folder. */
  readonly frontEndRoot: string | null;
  readonly compressResponseBody: boolean;
  readonly previewMethod: string;
  readonly previewSize: number;
  readonly cache: CachePolicyName;
  /** `--cache-ram GB`: free RAM (bytes) the RAM-pressure cache keeps; null = the executor's default. */
  readonly ramHeadroomBytes: number | null;
  readonly multiUser: boolean;
  readonly disableMetadata: boolean;
  readonly disableAllCustomNodes: boolean;
  readonly whitelistCustomNodes: readonly string[];
  readonly hashingFunction: HashingFunction;
  /** Log each request (`--dont-print-server` turns it off). */
  readonly printServer: boolean;
  readonly logLevel: string;
  readonly logStdout: boolean;
  /** `--feature-flag KEY[=VALUE]` extras, values parsed as JSON when they parse. */
  readonly extraFeatureFlags: Readonly<Record<string, unknown>>;
  readonly listFeatureFlags: boolean;
  readonly offline: boolean;
  readonly quickTestForCi: boolean;
  /** The command line as ComfyUI reports it in `/system_stats` (`argv`). */
  readonly argv: readonly string[];
  /** Weight precision per model part (server/precision-flags.ts). */
  readonly precision: PrecisionConfig;
}

const DEFAULTS: Config = {
  ...DEFAULT_SECURITY_CONFIG,
  listen: ['127.0.0.1'],
  port: 8188,
  tls: null,
  corsOrigin: null,
  maxUploadBytes: 100 * 1024 * 1024,
  baseDirectory: process.cwd(),
  outputDirectory: null,
  inputDirectory: null,
  tempDirectory: null,
  userDirectory: null,
  modelsDirectory: null,
  extraModelPathsConfigs: [],
  frontEndRoot: null,
  compressResponseBody: false,
  previewMethod: 'none',
  previewSize: 512,
  cache: { kind: 'ram' },
  ramHeadroomBytes: null,
  multiUser: false,
  disableMetadata: false,
  disableAllCustomNodes: false,
  whitelistCustomNodes: [],
  hashingFunction: 'sha256',
  printServer: true,
  logLevel: 'INFO',
  logStdout: false,
  extraFeatureFlags: {},
  listFeatureFlags: false,
  offline: false,
  quickTestForCi: false,
  argv: ['main.py'],
  precision: DEFAULT_PRECISION_CONFIG,
};

/** A frozen Config from defaults plus overrides (tests, embedding). */
export function createConfig(overrides: Partial<Config> = {}): Config {
  return deepFreeze({ ...DEFAULTS, ...overrides });
}

/** Parses argv (without node and script) into a frozen Config; throws CliError on bad flags. */
export function configFromArgs(argv: readonly string[], cwd = process.cwd()): Config {
  return configFromParsed(parseCliArgs(argv), argv, cwd);
}

export function configFromParsed(parsed: ParsedArgs, argv: readonly string[], cwd: string): Config {
  const v = parsed.values;
  const str = (k: string) => (v[k] == null ? null : path.resolve(cwd, String(v[k])));
  const keyFile = str('tls-keyfile');
  const certFile = str('tls-certfile');
  return createConfig({
    listen: String(v['listen']).split(',').map((s) => s.trim()).filter(Boolean),
    port: v['port'] as number,
    tls: keyFile && certFile ? { keyFile, certFile } : null,
    corsOrigin: (v['enable-cors-header'] as string | null) ?? null,
    maxUploadBytes: Math.round((v['max-upload-size'] as number) * 1024 * 1024),
    baseDirectory: str('base-directory') ?? cwd,
    outputDirectory: str('output-directory'),
    inputDirectory: str('input-directory'),
    tempDirectory: str('temp-directory'),
    userDirectory: str('user-directory'),
    modelsDirectory: str('models-directory'),
    extraModelPathsConfigs: (v['extra-model-paths-config'] as string[]).map((p) => path.resolve(cwd, p)),
    frontEndRoot: str('front-end-root'),
    compressResponseBody: v['enable-compress-response-body'] as boolean,
    previewMethod: v['preview-method'] as string,
    previewSize: v['preview-size'] as number,
    cache: cachePolicy(parsed),
    ramHeadroomBytes: ramHeadroom(v['cache-ram'] as number[] | null),
    multiUser: v['multi-user'] as boolean,
    disableMetadata: v['disable-metadata'] as boolean,
    disableAllCustomNodes: v['disable-all-custom-nodes'] as boolean,
    whitelistCustomNodes: ((v['whitelist-custom-nodes'] as string[] | null) ?? []).slice(),
    hashingFunction: v['default-hashing-function'] as HashingFunction,
    printServer: !(v['dont-print-server'] as boolean),
    logLevel: v['verbose'] as string,
    logStdout: v['log-stdout'] as boolean,
    extraFeatureFlags: parseFeatureFlags(v['feature-flag'] as string[]),
    listFeatureFlags: v['list-feature-flags'] as boolean,
    offline: (v['offline'] as boolean) || (v['disable-api-nodes'] as boolean),
    quickTestForCi: v['quick-test-for-ci'] as boolean,
    argv: ['main.py', ...argv],
    ...securityFromParsed(parsed, cwd),
    precision: precisionFromParsed(parsed),
  });
}

function cachePolicy(parsed: ParsedArgs): CachePolicyName {
  const { given, values } = parsed;
  if (given.has('cache-classic') || given.has('high-ram')) return { kind: 'classic' };
  if (given.has('cache-none')) return { kind: 'none' };
  if (given.has('cache-lru') && (values['cache-lru'] as number) > 0) return { kind: 'lru', size: values['cache-lru'] as number };
  return { kind: 'ram' };
}

function ramHeadroom(values: number[] | null): number | null {
  const gb = values?.[0];
  return gb !== undefined && gb > 0 ? Math.round(gb * 1024 ** 3) : null;
}

/** `KEY=VALUE` → value parsed as JSON when possible (`true`, `3`), else the string; bare KEY → true. */
export function parseFeatureFlags(items: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      out[item] = true;
      continue;
    }
    const raw = item.slice(eq + 1);
    try {
      out[item.slice(0, eq)] = JSON.parse(raw);
    } catch {
      out[item.slice(0, eq)] = raw;
    }
  }
  return out;
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj);
    for (const value of Object.values(obj as object)) deepFreeze(value);
  }
  return obj;
}
