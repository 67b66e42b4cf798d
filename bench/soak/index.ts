/**
 * Soak benchmark: prints figures, asserts nothing. A real server on port 0 (temp base directory,
 * SQLite queue/history, audit log on, built-in weight-free nodes, silent log); N prompts spread
 * over C WebSocket clients that all submit concurrently over HTTP.
 *   npm run bench:soak [-- --prompts 2000 --clients 50]
 *
 * Each prompt is EmptyImage 8×8 (a new colour each, so nothing is cached) → PreviewImage.
 * Latency = POST /prompt sent → `execution_success` on the submitting client's socket.
 * Acceptable RSS growth over the run: < 100 MB (history lives in SQLite, not in memory).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createBuiltinRegistry } from '../../nodes/builtins.js';
import { createConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer } from '../../server/server.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Length': String(payload.length), 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

class Client {
  private readonly waiting = new Map<string, () => void>();
  private readonly done = new Set<string>();
  private constructor(readonly ws: WebSocket, readonly id: string) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = JSON.parse(String(data)) as { type: string; data: { prompt_id?: string } };
      if ((msg.type === 'execution_success' || msg.type === 'execution_error') && msg.data.prompt_id) {
        const w = this.waiting.get(msg.data.prompt_id);
        if (w) w();
        else this.done.add(msg.data.prompt_id);
      }
    });
  }
  static open(url: string, id: string): Promise<Client> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?clientId=${id}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Client(ws, id)));
      ws.once('error', reject);
    });
  }
  finished(promptId: string): Promise<void> {
    if (this.done.has(promptId)) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(promptId, resolve));
  }
}

async function main(): Promise<void> {
  const prompts = flag('prompts', 2000);
  const clients = flag('clients', 50);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-soak-'));
  const registry = createBuiltinRegistry();
  const server = await startServer(createConfig({ port: 0, baseDirectory: base, frontEndRoot: path.join(base, 'web'), printServer: false }), { registry, log: createLogger({ silent: true }), plugins: false });
  const url = `http://127.0.0.1:${server.port}`;
  try {
    const sockets = await Promise.all(Array.from({ length: clients }, (_, i) => Client.open(url, `soak-${i}`)));
    global.gc?.();
    const rssStart = process.memoryUsage().rss;
    const latencies: number[] = [];
    const started = performance.now();
    let next = 0;
    const worker = async (c: Client) => {
      const pendingDone: Promise<void>[] = [];
      for (let i = next++; i < prompts; i = next++) {
        const prompt = { '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: i } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } };
        const t0 = performance.now();
        const res = await post(`${url}/prompt`, { prompt, client_id: c.id });
        if (res.status !== 200) throw new Error(`POST /prompt answered ${res.status}: ${res.text}`);
        const id = (JSON.parse(res.text) as { prompt_id: string }).prompt_id;
        pendingDone.push(c.finished(id).then(() => void latencies.push(performance.now() - t0)));
      }
      await Promise.all(pendingDone);
    };
    await Promise.all(sockets.map(worker));
    const seconds = (performance.now() - started) / 1000;
    global.gc?.();
    const rssEnd = process.memoryUsage().rss;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
    console.log(`soak: ${prompts} prompts through ${clients} WebSocket clients (SQLite queue + history, audit log on)`);
    console.log(`  throughput: ${(prompts / seconds).toFixed(1)} prompts/s (${seconds.toFixed(1)} s)`);
    console.log(`  latency POST→execution_success: p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`);
    console.log(`  RSS: start ${mb(rssStart)} MB, end ${mb(rssEnd)} MB, growth ${mb(rssEnd - rssStart)} MB (acceptable: < 100 MB)`);
    for (const s of sockets) s.ws.close();
  } finally {
    await server.close();
    fs.rmSync(base, { recursive: true, force: true });
    agent.destroy();
  }
}

void main();
