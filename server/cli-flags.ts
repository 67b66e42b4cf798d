/**
 * Every command-line flag, declared once with ComfyUI's name, argparse arity, default and help
 * (comfy/cli_args.py). `cli-args.ts` parses against this table; `config.ts` turns the result into
 * the frozen Config.
 *
 * Arity, as argparse has it:
 * - `flag`: no value (store_true)
 * - `value`: exactly one value
 * - `optional`: zero or one value (`nargs='?'`); bare flag → `bare`
 * - `values`: zero or more values (`nargs='*'`)
 * - `append`: one or more values, repeatable, collected (`action='append', nargs='+'`)
 */
import { PRECISION_FLAG_NAMES, precisionFlags } from './precision-flags.js';

export type FlagArity = 'flag' | 'value' | 'optional' | 'values' | 'append';

export interface FlagSpec {
  readonly name: string;
  readonly arity: FlagArity;
  readonly metavar?: string;
  readonly default?: unknown;
  /** Value of a bare `optional` flag. */
  readonly bare?: string;
  readonly choices?: readonly string[];
  readonly type?: 'int' | 'float' | 'string';
  readonly help: string;
  /** Accepted for compatibility with ComfyUI command lines; has no effect here. */
  readonly ignored?: boolean;
  /** Flags in the same group are mutually exclusive. */
  readonly group?: string;
}

const CACHE = 'cache';
const PREVIEW_CHOICES = ['none', 'auto', 'latent2rgb', 'taesd'];
const HASH_CHOICES = ['md5', 'sha1', 'sha256', 'sha512'];
const VERBOSE_CHOICES = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

export const FLAGS: readonly FlagSpec[] = [
  { name: 'listen', arity: 'optional', metavar: 'IP', default: '127.0.0.1', bare: '0.0.0.0,::', help: 'IP address(es) to listen on, comma-separated (bare flag: 0.0.0.0,:: = all interfaces)' },
  { name: 'port', arity: 'value', type: 'int', default: 8188, help: 'port to listen on' },
  { name: 'tls-keyfile', arity: 'value', metavar: 'FILE', help: 'TLS private key (with --tls-certfile: serve HTTPS and wss)' },
  { name: 'tls-certfile', arity: 'value', metavar: 'FILE', help: 'TLS certificate (with --tls-keyfile)' },
  { name: 'enable-cors-header', arity: 'optional', metavar: 'ORIGIN', bare: '*', help: 'enable CORS with this allowed origin (bare flag: *); replaces the origin check' },
  { name: 'max-upload-size', arity: 'value', type: 'float', default: 100, help: 'maximum request/upload size in MB' },
  { name: 'base-directory', arity: 'value', metavar: 'DIR', help: 'root of models/, custom_nodes/, input/, output/, temp/, user/' },
  { name: 'extra-model-paths-config', arity: 'append', metavar: 'PATH', help: 'extra_model_paths.yaml file(s) to load (repeatable)' },
  { name: 'output-directory', arity: 'value', metavar: 'DIR', help: 'output directory' },
  { name: 'temp-directory', arity: 'value', metavar: 'DIR', help: 'the temp directory becomes DIR/temp' },
  { name: 'input-directory', arity: 'value', metavar: 'DIR', help: 'input directory' },
  { name: 'user-directory', arity: 'value', metavar: 'DIR', help: 'user directory (must exist)' },
  { name: 'models-directory', arity: 'value', metavar: 'DIR', help: 'models directory (must exist)' },
  { name: 'front-end-root', arity: 'value', metavar: 'DIR', help: 'serve this frontend build at / (default: the bundled web/ folder)' },
  { name: 'front-end-version', arity: 'value', metavar: 'VER', ignored: true, help: 'ignored: there is no frontend download here; use --front-end-root' },
  { name: 'enable-compress-response-body', arity: 'flag', help: 'gzip JSON/text responses when the client accepts gzip' },
  { name: 'preview-method', arity: 'value', choices: PREVIEW_CHOICES, default: 'none', help: 'default preview method for samplers' },
  { name: 'preview-size', arity: 'value', type: 'int', default: 512, help: 'maximum preview size in pixels' },
  { name: 'cache-classic', arity: 'flag', group: CACHE, help: 'classic cache: keep only results of the last prompt' },
  { name: 'cache-lru', arity: 'value', type: 'int', default: 0, group: CACHE, help: 'LRU cache keeping at most N node results' },
  { name: 'cache-none', arity: 'flag', group: CACHE, help: 'no cache: every node runs every time' },
  { name: 'cache-ram', arity: 'values', type: 'float', metavar: 'GB', group: CACHE, help: 'RAM-pressure cache (the default mode), optional headroom in GB' },
  { name: 'high-ram', arity: 'flag', group: CACHE, help: 'same as --cache-classic' },
  { name: 'multi-user', arity: 'flag', help: 'per-user storage selected by the Comfy-User header' },
  { name: 'disable-metadata', arity: 'flag', help: 'do not save prompt/workflow text chunks in images' },
  { name: 'disable-all-custom-nodes', arity: 'flag', help: 'load no custom nodes' },
  { name: 'whitelist-custom-nodes', arity: 'values', metavar: 'NAME', help: 'with --disable-all-custom-nodes: load these packs anyway' },
  { name: 'disabled-nodes-config', arity: 'value', metavar: 'YAML', ignored: true, help: 'accepted; not supported yet' },
  { name: 'default-hashing-function', arity: 'value', choices: HASH_CHOICES, default: 'sha256', help: 'hash used to detect duplicate uploads' },
  { name: 'dont-print-server', arity: 'flag', help: 'do not log every request' },
  { name: 'verbose', arity: 'optional', metavar: 'LEVEL', bare: 'DEBUG', default: 'INFO', choices: VERBOSE_CHOICES, help: 'log level' },
  { name: 'log-stdout', arity: 'flag', help: 'log to stdout instead of stderr' },
  { name: 'feature-flag', arity: 'append', metavar: 'KEY[=VALUE]', help: 'extra server feature flag sent to clients (repeatable)' },
  { name: 'list-feature-flags', arity: 'flag', help: 'print the feature flags and exit' },
  { name: 'offline', arity: 'flag', help: 'no network: adds a restrictive Content-Security-Policy, disables partner nodes' },
  { name: 'disable-api-nodes', arity: 'flag', help: 'deprecated alias of --offline' },
  { name: 'disable-partner-nodes', arity: 'flag', help: 'do not load partner (API) nodes' },
  { name: 'auto-launch', arity: 'flag', ignored: true, help: 'ignored: no browser is opened' },
  { name: 'disable-auto-launch', arity: 'flag', ignored: true, help: 'ignored' },
  { name: 'quick-test-for-ci', arity: 'flag', help: 'start, then exit at once (CI smoke test)' },
  { name: 'windows-standalone-build', arity: 'flag', ignored: true, help: 'ignored' },
  { name: 'database-url', arity: 'value', ignored: true, help: 'ignored: the assets system is off' },
  { name: 'disable-assets', arity: 'flag', ignored: true, help: 'ignored: the assets system is always off' },
  { name: 'enable-asset-hashing', arity: 'flag', ignored: true, help: 'ignored' },
  { name: 'enable-manager', arity: 'flag', ignored: true, help: 'ignored: no ComfyUI-Manager' },
  { name: 'disable-manager-ui', arity: 'flag', ignored: true, help: 'ignored' },
  { name: 'enable-manager-legacy-ui', arity: 'flag', ignored: true, help: 'ignored' },
  { name: 'date-based-output', arity: 'flag', ignored: true, help: 'accepted; not supported yet' },
  { name: 'date-output-format', arity: 'value', ignored: true, help: 'accepted; not supported yet' },
  { name: 'comfy-api-base', arity: 'value', ignored: true, help: 'ignored: no partner API' },
  ...precisionFlags(),
  ...securityFlags(),
  ...gpuFlags(),
];

/** Comfy8's own flags: authentication, isolation limits, audit log, persistence (docs/security.md). */
function securityFlags(): FlagSpec[] {
  return [
    { name: 'auth', arity: 'value', metavar: 'MODES', default: 'none', help: 'authentication: none, or comma-separated modes out of jwt, key, basic (e.g. basic,key)' },
    { name: 'allow-unauthenticated', arity: 'flag', help: 'allow --auth none on a non-loopback --listen address' },
    { name: 'auth-file', arity: 'value', metavar: 'FILE', help: 'users (scrypt-hashed passwords) and API keys (hashed) (default: <user dir>/comfy8-auth.json)' },
    { name: 'jwt-secret-file', arity: 'value', metavar: 'FILE', help: 'HS256 secret for bearer JWTs' },
    { name: 'jwt-public-key', arity: 'value', metavar: 'PEM', help: 'RS256/ES256 public key file for bearer JWTs' },
    { name: 'jwt-audience', arity: 'value', metavar: 'AUD', help: 'required JWT aud claim' },
    { name: 'jwt-issuer', arity: 'value', metavar: 'ISS', help: 'required JWT iss claim' },
    { name: 'audit-log', arity: 'value', metavar: 'FILE', help: 'JSON-lines audit log (default: <user dir>/comfy8-audit.log)' },
    { name: 'disable-audit-log', arity: 'flag', help: 'write no audit log' },
    { name: 'audit-log-max-size', arity: 'value', type: 'float', default: 10, help: 'rotate the audit log at this many MB (5 old files kept)' },
    { name: 'max-prompts-per-minute', arity: 'value', type: 'int', default: 0, help: 'per-user POST /prompt rate limit (0 = none)' },
    { name: 'max-queued-per-user', arity: 'value', type: 'int', default: 0, help: 'per-user cap on pending prompts (0 = none)' },
    { name: 'max-history-size', arity: 'value', type: 'int', default: 10000, help: 'history entries kept (ComfyUI: 10000)' },
    { name: 'in-memory-queue', arity: 'flag', help: 'keep queue and history in memory only (default: SQLite under the user directory)' },
    { name: 'shutdown-timeout', arity: 'value', type: 'float', default: 30, help: 'seconds SIGTERM waits for the running prompt before exiting' },
    { name: 'max-upload-pixels', arity: 'value', type: 'float', default: 128, help: 'refuse uploaded images above this many megapixels' },
  ];
}

/**
 * Device and precision flags a ComfyUI command line carries. They steer PyTorch, which does not
 * exist here (ONNX Runtime picks its own execution provider), so they are accepted and ignored
 * so that existing launch scripts keep working.
 */
function gpuFlags(): FlagSpec[] {
  const bare = [
    'cpu', 'lowvram', 'novram', 'normalvram', 'highvram', 'gpu-only', 'force-fp16', 'force-fp32', 'fp16-vae', 'fp32-vae',
    'bf16-vae', 'cpu-vae', 'bf16-unet', 'fp16-unet', 'fp32-unet', 'fp64-unet', 'fp8_e4m3fn-unet', 'fp8_e5m2-unet', 'fp8_e8m0fnu-unet',
    'fp8_e4m3fn-text-enc', 'fp8_e5m2-text-enc', 'fp16-text-enc', 'fp32-text-enc', 'bf16-text-enc', 'use-split-cross-attention',
    'use-quad-cross-attention', 'use-pytorch-cross-attention', 'use-sage-attention', 'use-flash-attention', 'disable-xformers',
    'force-upcast-attention', 'dont-upcast-attention', 'disable-smart-memory', 'deterministic', 'disable-cuda-malloc', 'cuda-malloc',
    'disable-ipex-optimize', 'supports-fp8-compute', 'force-channels-last', 'async-offload', 'disable-async-offload', 'disable-mmap',
    'mmap-torch-files', 'disable-pinned-memory', 'force-non-blocking',
  ];
  const valued = ['cuda-device', 'default-device', 'reserve-vram', 'oneapi-device-selector', 'vram-headroom'];
  const optional = ['directml', 'fast'];
  return [
    ...bare.filter((name) => !PRECISION_FLAG_NAMES.has(name)).map((name): FlagSpec => ({ name, arity: 'flag', ignored: true, help: 'ignored (PyTorch device/precision flag)' })),
    ...valued.map((name): FlagSpec => ({ name, arity: 'value', ignored: true, help: 'ignored (PyTorch device flag)' })),
    ...optional.map((name): FlagSpec => ({ name, arity: 'values', ignored: true, help: 'ignored (PyTorch device/optimisation flag)' })),
  ];
}
