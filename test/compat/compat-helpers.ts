/**
 * Helpers for the compatibility, robustness and load tests: a real server (the server tests'
 * `startTestServer`, port 0, temp base directory), a keep-alive HTTP client that reports any
 * status, a WebSocket frame recorder that can be waited on without piling up listeners, the
 * weight-free prompts the tests queue, and PNG decoding with sharp.
 *
 *   const t = await startTestServer();
 *   const ws = await FrameRecorder.open(t.url, '/ws?clientId=abc');
 *   const { status, json } = await httpJson(t.url + '/prompt', { method: 'POST', body: {...} });
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { defineNode } from '../../nodes/node-api.js';
import { createBuiltinRegistry } from '../../nodes/builtins.js';
import { createConfig, type Config } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer } from '../../server/server.js';
import { stubNodes, type TestServer } from '../server/helpers.js';

export { startTestServer, openGate, gatePrompt, TINY_PNG, type TestServer } from '../server/helpers.js';

const compatGates = new Map<string, { promise: Promise<void>; open: () => void }>();

function compatGate(name: string) {
  let g = compatGates.get(name);
  if (!g) {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    g = { promise, open };
    compatGates.set(name, g);
  }
  return g;
}

/** Lets a `CompatGatedProgress` node waiting on `name` go on. */
export function openCompatGate(name: string): void {
  compatGate(name).open();
}

/**
 * An output node that, once running (its `executing` is out), waits for its gate and then reports
 * `steps` progress updates, then fails with `fail` if that is not empty: lets a test see progress
 * and errors that a client subscribes to late.
 */
export const CompatGatedProgress = defineNode({
  name: 'CompatGatedProgress',
  category: 'testing',
  outputNode: true,
  inputTypes: { required: { gate: ['STRING', { default: 'g' }], steps: ['INT', { default: 2, min: 1, max: 100 }] }, optional: { fail: ['STRING', { default: '' }] } },
  returnTypes: [],
  async execute({ gate, steps, fail }, ctx) {
    await compatGate(String(gate)).promise;
    for (let i = 1; i <= Number(steps); i++) ctx.progress(i, Number(steps));
    if (fail) throw new Error(String(fail));
    return { ui: { text: [`progressed ${String(steps)}`] } };
  },
});

/** `startTestServer` with `CompatGatedProgress` registered next to the server tests' stubs. */
export async function startCompatServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-compat-'));
  const config = createConfig({ listen: ['127.0.0.1'], port: 0, baseDirectory: base, ...overrides });
  const registry = createBuiltinRegistry();
  registry.registerAll([...stubNodes, CompatGatedProgress]);
  const server = await startServer(config, { registry, log: createLogger({ silent: true, level: 'DEBUG' }) });
  return {
    server,
    url: `http://127.0.0.1:${server.port}`,
    base,
    config,
    async close() {
      await server.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * One agent for every request of a test file: keep-alive, a bounded number of sockets. Idle
 * sockets are dropped after 4 s, before the server's 5 s keep-alive timeout can close one just as
 * a request goes out on it (which would surface as ECONNRESET, a client-side race).
 */
export const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 16, timeout: 4000 });

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpOptions {
  method?: string;
  /** A Buffer/string is sent as is; anything else is JSON-encoded. */
  body?: unknown;
  headers?: Record<string, string>;
  agent?: http.Agent | false;
}

/** A plain HTTP request that resolves with any status (no throwing on 4xx/5xx). */
export function httpRequest(url: string, opts: HttpOptions = {}): Promise<HttpReply> {
  const payload = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) || typeof opts.body === 'string' ? Buffer.from(opts.body) : Buffer.from(JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? (payload ? 'POST' : 'GET'), agent: opts.agent ?? keepAliveAgent, headers: { ...(payload ? { 'Content-Length': String(payload.length) } : {}), ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** `httpRequest` plus the body parsed as JSON (undefined when it is not JSON). */
export async function httpJson(url: string, opts: HttpOptions = {}): Promise<HttpReply & { json: unknown }> {
  const reply = await httpRequest(url, opts);
  let json: unknown;
  try {
    json = JSON.parse(reply.body.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { ...reply, json };
}

export interface WsMessage {
  type: string;
  data: Record<string, unknown>;
}

/** A WebSocket client recording JSON messages and binary frames in arrival order. */
export class FrameRecorder {
  readonly messages: WsMessage[] = [];
  readonly binary: Buffer[] = [];
  private readonly arrivals = new EventEmitter();
  private closed = false;

  private constructor(readonly ws: WebSocket) {
    this.arrivals.setMaxListeners(0);
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.binary.push(data as Buffer);
      else this.messages.push(JSON.parse(String(data)) as WsMessage);
      this.arrivals.emit('frame');
    });
    ws.on('close', () => {
      this.closed = true;
      this.arrivals.emit('frame');
    });
  }

  static open(baseUrl: string, pathAndQuery = '/ws'): Promise<FrameRecorder> {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + pathAndQuery);
    const recorder = new FrameRecorder(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(recorder));
      ws.once('error', reject);
    });
  }

  /** Resolves when `pred` holds for the recorded state; rejects if the socket closes first. */
  until<T>(pred: () => T | undefined | false, what: string): Promise<T> {
    const now = pred();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred();
        if (v) {
          this.arrivals.off('frame', check);
          resolve(v);
        } else if (this.closed) {
          this.arrivals.off('frame', check);
          reject(new Error(`socket closed while waiting for ${what}`));
        }
      };
      this.arrivals.on('frame', check);
    });
  }

  waitFor(pred: (m: WsMessage) => boolean, what = 'message'): Promise<WsMessage> {
    return this.until(() => this.messages.find(pred), what);
  }

  /** The classic end marker: `executing` with node null for this prompt. */
  done(promptId: string): Promise<WsMessage> {
    return this.waitFor((m) => m.type === 'executing' && m.data['node'] === null && m.data['prompt_id'] === promptId, `end of ${promptId}`);
  }

  ofPrompt(promptId: string): WsMessage[] {
    return this.messages.filter((m) => m.data['prompt_id'] === promptId);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

export type ApiPrompt = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title: string } }>;

/** EmptyImage(width × height, `color`) → ImageInvert → SaveImage: three weight-free nodes. */
export function invertPrompt(opts: { color?: number; width?: number; height?: number; prefix?: string; save?: 'SaveImage' | 'PreviewImage' } = {}): ApiPrompt {
  const save = opts.save ?? 'SaveImage';
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: opts.width ?? 8, height: opts.height ?? 4, batch_size: 1, color: opts.color ?? 0x102030 } },
    '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
    '3': { class_type: save, inputs: save === 'SaveImage' ? { images: ['2', 0], filename_prefix: opts.prefix ?? 'compat' } : { images: ['2', 0] } },
  };
}

/** EmptyImage → PreviewImage: the cheapest prompt that runs a node and produces an output. */
export function trivialPrompt(color = 0): ApiPrompt {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 1, height: 1, batch_size: 1, color } },
    '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
  };
}

/** 0xRRGGBB inverted per channel, as ImageInvert does on 8-bit data. */
export function invertedRgb(color: number): [number, number, number] {
  return [255 - ((color >> 16) & 0xff), 255 - ((color >> 8) & 0xff), 255 - (color & 0xff)];
}

export interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  pixels: Buffer;
}

export async function decodePng(png: Buffer | ArrayBuffer): Promise<DecodedPng> {
  const buf = Buffer.isBuffer(png) ? png : Buffer.from(png);
  expectPngSignature(buf);
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, pixels: data };
}

export function expectPngSignature(buf: Buffer): void {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error(`not a PNG: starts with ${buf.subarray(0, 8).toString('hex')}`);
}

/** Every pixel's first three channels, as distinct "r,g,b" strings. */
export function distinctRgb(img: DecodedPng): string[] {
  const seen = new Set<string>();
  for (let i = 0; i < img.pixels.length; i += img.channels) seen.add(`${img.pixels[i]},${img.pixels[i + 1]},${img.pixels[i + 2]}`);
  return [...seen];
}

/** A solid-colour PNG made with sharp (an "uploaded photo"). */
export function solidPng(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}
