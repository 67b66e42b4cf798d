/**
 * `comfy8 run FILE --server URL`: queues a saved workflow on a running Comfy8 (or ComfyUI) server,
 * shows a progress bar while it runs, and saves the output images.
 *
 *   comfy8 run workflow.json --server http://127.0.0.1:8188 --output ./out
 *   comfy8 run ComfyUI_00001_.png --server http://127.0.0.1:8188     # re-run an image's workflow
 *
 * It speaks only ComfyUI's public protocol, as the stock `websockets_api_example.py` does: open
 * `/ws?clientId=…`, `POST /prompt`, follow events until `executing {node: null}` for our prompt,
 * then `GET /history/{id}` and `GET /view` for each output. UI workflows are sent as
 * `{"workflow": …}` so the server converts them with its own node definitions; against a stock
 * ComfyUI (which lacks that extension) pass `--convert-locally`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import type { ApiPrompt, HistoryEntry, NodeDefWire } from '../compat/api-types.js';
import { isApiPrompt, isUiWorkflow, workflowToPrompt } from '../compat/workflow/index.js';
import { readWorkflowInput } from './cli-convert.js';

export interface RunCliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal: the bar redraws in place instead of printing lines. */
  isTty: boolean;
}

interface RunArgs {
  file: string;
  server: string;
  output: string;
  convertLocally: boolean;
}

const USAGE =
  'usage: comfy8 run FILE --server URL [--output DIR] [--convert-locally]\n' +
  '  FILE: a UI workflow or API prompt (JSON), or a PNG/WebP saved by ComfyUI\n';

class CliUsageError extends Error {}

export function parseRunArgs(argv: readonly string[]): RunArgs | 'help' {
  const args = argv[0] === 'run' ? argv.slice(1) : [...argv];
  const out: Partial<RunArgs> = { output: '.', convertLocally: false };
  const value = (i: number, flag: string): string => {
    const v = args[i];
    if (!v || v.startsWith('--')) throw new CliUsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') return 'help';
    else if (a === '--server') out.server = value(++i, a);
    else if (a === '--output') out.output = value(++i, a);
    else if (a === '--convert-locally') out.convertLocally = true;
    else if (a.startsWith('-')) throw new CliUsageError(`unknown option ${a} (valid: --server, --output, --convert-locally, --help)`);
    else if (out.file === undefined) out.file = a;
    else throw new CliUsageError(`unexpected argument ${a}: give one FILE`);
  }
  if (!out.file) throw new CliUsageError('FILE is required');
  if (!out.server) throw new CliUsageError('--server URL is required (e.g. http://127.0.0.1:8188)');
  return out as RunArgs;
}

/** A one-line progress bar: `[#####-----] 50%  node 3 KSampler  10/20`. */
export function renderBar(value: number, max: number, label: string, width = 24): string {
  const frac = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${label}  ${value}/${max}`;
}

async function requestBody(args: RunArgs, input: unknown): Promise<Record<string, unknown>> {
  if (isApiPrompt(input)) return { prompt: input as ApiPrompt };
  if (!isUiWorkflow(input)) throw new Error(`${args.file}: not a ComfyUI workflow (no "nodes" array) nor an API prompt`);
  if (!args.convertLocally) return { workflow: input };
  const res = await fetch(new URL('/api/object_info', args.server));
  if (!res.ok) throw new Error(`GET /api/object_info answered ${res.status}`);
  const result = workflowToPrompt(input, (await res.json()) as Record<string, NodeDefWire>);
  if (!result.ok) throw new Error(`${result.error.message}: ${result.error.details}`);
  return { prompt: result.prompt, extra_data: { extra_pnginfo: { workflow: input } } };
}

function wsUrl(server: string, clientId: string): string {
  const url = new URL('/ws', server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('clientId', clientId);
  return url.href;
}

interface Progress {
  done: Promise<void>;
  close(): void;
}

/** Follows one prompt's events, drawing the bar, until `executing {node: null}` for it. */
function followPrompt(ws: WebSocket, promptIdOf: () => string | undefined, io: RunCliIo): Progress {
  let lastLine = '';
  const draw = (line: string) => {
    if (line === lastLine) return;
    lastLine = line;
    io.stderr(io.isTty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return; // preview frames
      let msg: { type?: string; data?: Record<string, unknown> };
      try {
        msg = JSON.parse(raw.toString()) as typeof msg;
      } catch {
        return;
      }
      const data = msg.data ?? {};
      // Events can beat the POST reply (a fast prompt may finish first), so before we know our id
      // every event on our private socket counts as ours: we queue exactly one prompt.
      const ours = promptIdOf();
      if (ours !== undefined && data['prompt_id'] !== undefined && data['prompt_id'] !== ours) return;
      if (msg.type === 'executing' && data['node'] === null) {
        if (io.isTty && lastLine) io.stderr('\n');
        resolve();
      } else if (msg.type === 'executing') draw(renderBar(0, 1, `node ${String(data['node'])}`));
      else if (msg.type === 'progress') draw(renderBar(Number(data['value']), Number(data['max']), `node ${String(data['node'])}`));
      else if (msg.type === 'execution_error') draw(`error in node ${String(data['node_id'])} (${String(data['node_type'])}): ${String(data['exception_message'])}`);
    });
    ws.on('error', reject);
    ws.on('close', () => reject(new Error('the server closed the WebSocket before the prompt finished')));
  });
  return {
    done,
    close() {
      ws.removeAllListeners('close');
      ws.close();
    },
  };
}

async function saveOutputs(args: RunArgs, entry: HistoryEntry, io: RunCliIo): Promise<number> {
  await fs.mkdir(args.output, { recursive: true });
  let saved = 0;
  for (const ui of Object.values(entry.outputs)) {
    for (const item of (ui['images'] ?? []) as { filename: string; subfolder: string; type: string }[]) {
      const url = new URL('/view', args.server);
      url.search = new URLSearchParams({ filename: item.filename, subfolder: item.subfolder, type: item.type }).toString();
      const res = await fetch(url);
      if (!res.ok) throw new Error(`GET ${url.pathname}${url.search} answered ${res.status}`);
      const target = path.join(args.output, path.basename(item.filename));
      await fs.writeFile(target, Buffer.from(await res.arrayBuffer()));
      io.stdout(`${target}\n`);
      saved++;
    }
  }
  return saved;
}

async function runOnServer(args: RunArgs, io: RunCliIo): Promise<number> {
  const body = await requestBody(args, readWorkflowInput(await fs.readFile(args.file), args.file));
  const clientId = randomUUID().replace(/-/g, '');
  const ws = new WebSocket(wsUrl(args.server, clientId));
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let promptId: string | undefined;
  const progress = followPrompt(ws, () => promptId, io);
  try {
    const res = await fetch(new URL('/prompt', args.server), { method: 'POST', body: JSON.stringify({ ...body, client_id: clientId }) });
    const reply = (await res.json()) as { prompt_id?: string; error?: { message?: string; details?: string }; node_errors?: unknown };
    if (!res.ok || !reply.prompt_id) {
      io.stderr(`comfy8 run: the server refused the prompt (${res.status}): ${reply.error?.message ?? ''} ${reply.error?.details ?? ''}\n`);
      if (reply.node_errors) io.stderr(`${JSON.stringify(reply.node_errors, null, 2)}\n`);
      return 1;
    }
    promptId = reply.prompt_id;
    await progress.done;
  } finally {
    progress.close();
  }
  const history = (await (await fetch(new URL(`/history/${promptId}`, args.server))).json()) as Record<string, HistoryEntry>;
  const entry = history[promptId];
  if (!entry) throw new Error(`no history entry for prompt ${promptId}`);
  const saved = await saveOutputs(args, entry, io);
  if (entry.status.status_str !== 'success') {
    io.stderr(`comfy8 run: prompt ${promptId} failed (${saved} output file(s) saved)\n`);
    return 1;
  }
  io.stderr(`done: prompt ${promptId}, ${saved} image(s) saved to ${args.output}\n`);
  return 0;
}

export async function runRunCli(argv: readonly string[], io: RunCliIo = defaultIo): Promise<number> {
  let args: RunArgs | 'help';
  try {
    args = parseRunArgs(argv);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    io.stderr(`${USAGE}comfy8 run: error: ${err.message}\n`);
    return 2;
  }
  if (args === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  try {
    return await runOnServer(args, io);
  } catch (err) {
    io.stderr(`comfy8 run: ${(err as Error).message}\n`);
    return 1;
  }
}

const defaultIo: RunCliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  isTty: Boolean(process.stderr.isTTY),
};

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  void runRunCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
