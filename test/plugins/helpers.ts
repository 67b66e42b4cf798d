/**
 * Plugin test helpers: a temp base directory whose custom_nodes/ holds packs written by the test,
 * a real server on port 0 over it, and a prompt runner that waits for the run's end on a socket.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createConfig, type Config } from '../../server/config.js';
import { createLogger, type ServerLogger } from '../../server/logger.js';
import type { PluginStartOptions } from '../../server/plugins.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { TestSocket } from '../server/helpers.js';

/** Relative path → file text; a pack folder gets `package.json {"type":"module"}` unless given. */
export type PackFiles = Record<string, string>;

export function writePack(customNodes: string, name: string, files: PackFiles | string): void {
  if (typeof files === 'string') {
    fs.mkdirSync(customNodes, { recursive: true });
    fs.writeFileSync(path.join(customNodes, name), files);
    return;
  }
  const dir = path.join(customNodes, name);
  const all = { 'package.json': JSON.stringify({ name, type: 'module' }), ...files };
  for (const [rel, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

export interface PluginServer {
  server: RunningServer;
  url: string;
  base: string;
  log: ServerLogger;
  logText(): string;
  close(): Promise<void>;
}

export interface PluginServerOptions {
  packs?: Record<string, PackFiles | string>;
  config?: Partial<Config>;
  plugins?: PluginStartOptions;
}

export async function startPluginServer(opts: PluginServerOptions = {}): Promise<PluginServer> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-plugins-'));
  for (const [name, files] of Object.entries(opts.packs ?? {})) writePack(path.join(base, 'custom_nodes'), name, files);
  const config = createConfig({ listen: ['127.0.0.1'], port: 0, baseDirectory: base, ...opts.config });
  const log = createLogger({ silent: true, level: 'DEBUG' });
  const server = await startServer(config, { log, plugins: opts.plugins });
  return {
    server,
    url: `http://127.0.0.1:${server.port}`,
    base,
    log,
    logText: () => log.buffer.all().map((e) => e.m).join(''),
    async close() {
      await server.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export interface PromptRun {
  promptId: string;
  /** Message types of this prompt, in order. */
  types: string[];
  messages: { type: string; data: Record<string, unknown> }[];
  /** `executed` outputs by node id. */
  outputs: Record<string, Record<string, unknown[]>>;
  error?: Record<string, unknown>;
}

let clientCounter = 0;

/** Queues `prompt` and waits for its end; `during` runs once the prompt has started executing. */
export async function runPrompt(url: string, prompt: Record<string, unknown>, during?: () => Promise<void>): Promise<PromptRun> {
  const clientId = `plugins-${process.pid}-${clientCounter++}`;
  const ws = await TestSocket.open(url, `/ws?clientId=${clientId}`);
  try {
    const res = await request(url).post('/prompt').send({ prompt, client_id: clientId });
    if (res.status !== 200) throw new Error(`prompt rejected: ${JSON.stringify(res.body)}`);
    const promptId = res.body.prompt_id as string;
    if (during) {
      await ws.waitFor((m) => m.type === 'execution_start' && m.data['prompt_id'] === promptId);
      await during();
    }
    await ws.done(promptId);
    const messages = ws.messages.filter((m) => m.data['prompt_id'] === promptId);
    const outputs: PromptRun['outputs'] = {};
    for (const m of messages) if (m.type === 'executed') outputs[String(m.data['node'])] = m.data['output'] as Record<string, unknown[]>;
    const error = messages.find((m) => m.type === 'execution_error')?.data;
    return { promptId, types: messages.map((m) => m.type), messages, outputs, error };
  } finally {
    ws.close();
  }
}

/** The first UI text of a node, parsed as JSON. */
export function uiJson(run: PromptRun, nodeId: string): unknown {
  const text = run.outputs[nodeId]?.['text']?.[0];
  if (typeof text !== 'string') throw new Error(`node ${nodeId} sent no UI text; messages: ${run.types.join(', ')}; error: ${JSON.stringify(run.error?.['exception_message'])}`);
  return JSON.parse(text);
}
