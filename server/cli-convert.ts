/**
 * `comfy8 convert FILE`: prints the API prompt for a saved workflow.
 *
 *   comfy8 convert workflow.json                 # UI workflow → API prompt
 *   comfy8 convert ComfyUI_00001_.png            # the workflow embedded in a PNG / WebP
 *   comfy8 convert api.json                      # an API prompt is printed as is
 *   comfy8 convert wf.json --object-info http://127.0.0.1:8188   # a ComfyUI's node definitions
 *
 * Node definitions come from the built-in registry unless `--object-info FILE|URL` is given (a
 * URL without "object_info" in its path gets `/api/object_info` appended). Exit status: 0 done,
 * 1 the file could not be converted, 2 bad usage.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ApiPrompt, NodeDefWire } from '../compat/api-types.js';
import { createFolderPaths } from '../compat/folder-paths.js';
import { extractWorkflowFromImage, isApiPrompt, isUiWorkflow, parsePythonJson, workflowToPrompt } from '../compat/workflow/index.js';
import { createBuiltinRegistry } from '../nodes/builtins.js';
import type { NodeEnvironment } from '../nodes/node-api.js';
import type { NodeRegistry } from '../nodes/registry.js';

export interface ConvertCliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface ConvertCliDeps {
  /** Where default definitions come from (defaults to the built-in registry). */
  registry?: NodeRegistry;
}

const USAGE = 'usage: comfy8 convert FILE [--object-info FILE|URL] [--no-meta]\n  FILE: a UI workflow or API prompt (JSON), or a PNG/WebP saved by ComfyUI\n';

class CliUsageError extends Error {}

interface ConvertArgs {
  file: string;
  objectInfo?: string;
  includeMeta: boolean;
}

export function parseConvertArgs(argv: readonly string[]): ConvertArgs | 'help' {
  const args = argv[0] === 'convert' ? argv.slice(1) : [...argv];
  let file: string | undefined;
  let objectInfo: string | undefined;
  let includeMeta = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--no-meta') includeMeta = false;
    else if (a === '--object-info') {
      objectInfo = args[++i];
      if (!objectInfo) throw new CliUsageError('--object-info needs a FILE or URL');
    } else if (a.startsWith('--object-info=')) objectInfo = a.slice('--object-info='.length);
    else if (a.startsWith('-')) throw new CliUsageError(`unknown option ${a} (valid: --object-info, --no-meta, --help)`);
    else if (file === undefined) file = a;
    else throw new CliUsageError(`unexpected argument ${a}: give one FILE`);
  }
  if (!file) throw new CliUsageError('FILE is required');
  return { file, objectInfo, includeMeta };
}

async function loadObjectInfo(source: string | undefined, deps: ConvertCliDeps): Promise<Record<string, NodeDefWire>> {
  if (!source) {
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const base = path.join(os.tmpdir(), 'comfy8-convert');
    const env: NodeEnvironment = { folders: createFolderPaths({ baseDirectory: base }), disableMetadata: false, previewMethod: 'none', previewSize: 512, log: silent };
    return (deps.registry ?? createBuiltinRegistry()).objectInfo(env);
  }
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    if (!url.pathname.includes('object_info')) url.pathname = `${url.pathname.replace(/\/$/, '')}/api/object_info`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url.href} answered ${res.status}`);
    return (await res.json()) as Record<string, NodeDefWire>;
  }
  return JSON.parse(await fs.readFile(source, 'utf8')) as Record<string, NodeDefWire>;
}

/** The workflow or prompt in the file: image metadata (the workflow preferred) or JSON. */
export function readWorkflowInput(bytes: Buffer, file: string): unknown {
  const image = extractWorkflowFromImage(bytes);
  if (image) {
    if (image.workflow !== undefined) return image.workflow;
    if (image.prompt !== undefined) return image.prompt;
    throw new Error(`${file}: the ${image.format.toUpperCase()} holds no "workflow" or "prompt" metadata${Object.keys(image.unreadable).length ? ` (unreadable: ${Object.keys(image.unreadable).join(', ')})` : ''}`);
  }
  try {
    return parsePythonJson(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`${file}: neither a PNG/WebP image nor JSON (${(err as Error).message})`);
  }
}

async function convertFile(args: ConvertArgs, io: ConvertCliIo, deps: ConvertCliDeps): Promise<number> {
  const input = readWorkflowInput(await fs.readFile(args.file), args.file);
  if (isApiPrompt(input)) {
    io.stdout(`${JSON.stringify(input, null, 2)}\n`);
    return 0;
  }
  if (!isUiWorkflow(input)) throw new Error(`${args.file}: not a ComfyUI workflow (no "nodes" array) nor an API prompt`);
  const result = workflowToPrompt(input, await loadObjectInfo(args.objectInfo, deps), { includeMeta: args.includeMeta });
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  if (!result.ok) {
    io.stderr(`comfy8 convert: ${result.error.message}: ${result.error.details}\n`);
    if (result.error.type === 'missing_node_type' && !args.objectInfo) io.stderr('hint: pass --object-info URL of a ComfyUI that has this node, or a saved /object_info JSON file\n');
    io.stderr(`${JSON.stringify({ error: result.error, node_errors: result.nodeErrors }, null, 2)}\n`);
    return 1;
  }
  io.stdout(`${JSON.stringify(result.prompt satisfies ApiPrompt, null, 2)}\n`);
  return 0;
}

export async function runConvertCli(argv: readonly string[], io: ConvertCliIo = defaultIo, deps: ConvertCliDeps = {}): Promise<number> {
  let args: ConvertArgs | 'help';
  try {
    args = parseConvertArgs(argv);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    io.stderr(`${USAGE}comfy8 convert: error: ${err.message}\n`);
    return 2;
  }
  if (args === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  try {
    return await convertFile(args, io, deps);
  } catch (err) {
    io.stderr(`comfy8 convert: ${(err as Error).message}\n`);
    return 1;
  }
}

const defaultIo: ConvertCliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  void runConvertCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
