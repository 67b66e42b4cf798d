/**
 * Test helpers: a real server on port 0 in a temp base directory, with the built-in nodes plus a
 * few stub nodes, and a WebSocket client that records every frame.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createConfig, type Config } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { createBuiltinRegistry } from '../../nodes/builtins.js';
import { defineNode, type PreviewImage } from '../../nodes/node-api.js';

/** Gates a test opens to let a `TestGate` node finish: deterministic ordering without timers. */
const gates = new Map<string, { promise: Promise<void>; open: () => void }>();

function gate(name: string) {
  let g = gates.get(name);
  if (!g) {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    g = { promise, open };
    gates.set(name, g);
  }
  return g;
}

export function openGate(name: string): void {
  gate(name).open();
}

/** A 1x1 red PNG. */
export const TINY_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082',
  'hex',
);

export const stubNodes = [
  defineNode({
    name: 'TestGate',
    category: 'testing',
    outputNode: true,
    inputTypes: { required: { gate: ['STRING', { default: 'g' }] } },
    returnTypes: [],
    async execute({ gate: name }, ctx) {
      const g = gate(String(name));
      // Wait for the gate or an interrupt, whichever comes first.
      await Promise.race([g.promise, new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))]);
      ctx.checkInterrupt();
      return { ui: { text: [`passed ${String(name)}`] } };
    },
  }),
  defineNode({
    name: 'TestFail',
    category: 'testing',
    outputNode: true,
    inputTypes: { required: { message: ['STRING', { default: 'boom' }] } },
    returnTypes: [],
    execute({ message }) {
      throw new Error(String(message));
    },
  }),
  defineNode({
    name: 'TestProgress',
    category: 'testing',
    outputNode: true,
    inputTypes: { required: { steps: ['INT', { default: 2, min: 1, max: 10 }] } },
    returnTypes: [],
    execute({ steps }, ctx) {
      const preview: PreviewImage = { format: 'png', data: TINY_PNG };
      for (let i = 1; i <= Number(steps); i++) ctx.progress(i, Number(steps), preview);
      ctx.progressText('half way');
      return { ui: { images: [{ filename: 'x.png', subfolder: '', type: 'output' }] } };
    },
  }),
];

export interface TestServer {
  server: RunningServer;
  url: string;
  base: string;
  config: Config;
  close(): Promise<void>;
}

export function makeBaseDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-server-'));
}

/** `base`: reuse a prepared base directory (restart tests); `keepBase`: leave it on close. */
export async function startTestServer(overrides: Partial<Config> = {}, opts: { base?: string; keepBase?: boolean } = {}): Promise<TestServer> {
  const base = opts.base ?? makeBaseDir();
  // An empty web root by default, so tests don't depend on what the project's web/ holds.
  const config = createConfig({ listen: ['127.0.0.1'], port: 0, baseDirectory: base, frontEndRoot: path.join(base, 'web'), ...overrides });
  const registry = createBuiltinRegistry();
  registry.registerAll(stubNodes);
  const server = await startServer(config, { registry, log: createLogger({ silent: true, level: 'DEBUG' }) });
  return {
    server,
    url: `http://127.0.0.1:${server.port}`,
    base,
    config,
    async close() {
      await server.close();
      if (!opts.keepBase) fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export interface WsMessage {
  type: string;
  data: Record<string, unknown>;
}

/** A WebSocket client recording JSON messages and binary frames in arrival order. */
export class TestSocket {
  readonly messages: WsMessage[] = [];
  readonly binary: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.binary.push(data as Buffer);
      else this.messages.push(JSON.parse(String(data)) as WsMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(url: string, pathAndQuery = '/ws', options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<TestSocket> {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + pathAndQuery, options.protocols ?? [], { headers: options.headers });
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
    });
  }

  /** Resolves with the first recorded message matching `pred` (waiting for it if needed). */
  async waitFor(pred: (m: WsMessage) => boolean, what = 'message'): Promise<WsMessage> {
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found;
      if (this.closed) throw new Error(`socket closed while waiting for ${what}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Waits for the classic end marker: `executing` with node null for this prompt. */
  done(promptId: string): Promise<WsMessage> {
    return this.waitFor((m) => m.type === 'executing' && m.data['node'] === null && m.data['prompt_id'] === promptId, `end of ${promptId}`);
  }

  send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }

  close(): void {
    this.ws.close();
  }
}

export function gatePrompt(name: string): Record<string, unknown> {
  return { '1': { class_type: 'TestGate', inputs: { gate: name } } };
}
