/**
 * Server benchmark: prints figures, asserts nothing. A real server on port 0 (temp base directory,
 * built-in weight-free nodes, silent log), driven over real HTTP and one WebSocket.
 *   npm run bench:server [-- --runs 200 --prompts 200 --object-info-runs 200]
 *
 * 1. Round trip of a trivial prompt (EmptyImage 1×1 → PreviewImage, a new colour each run so
 *    nothing is cached): POST /prompt → `execution_success` on the client's socket.
 * 2. Throughput of a 3-node graph (EmptyImage 64×64 → ImageInvert → SaveImage): all prompts
 *    queued back to back, time from the first POST to the last `execution_success`.
 * 3. GET /object_info latency over a keep-alive connection.
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

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function request(url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: payload ? 'POST' : 'GET', agent, headers: payload ? { 'Content-Length': String(payload.length) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Resolves `execution_success` / `execution_error` per prompt id as they arrive on one socket. */
class Completions {
  private readonly done = new Map<string, string>();
  private readonly waiting = new Map<string, (outcome: string) => void>();

  constructor(ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = JSON.parse(String(data)) as { type: string; data: { prompt_id?: string } };
      if ((msg.type === 'execution_success' || msg.type === 'execution_error') && msg.data.prompt_id) {
        const resolve = this.waiting.get(msg.data.prompt_id);
        if (resolve) resolve(msg.type);
        else this.done.set(msg.data.prompt_id, msg.type);
      }
    });
  }

  wait(promptId: string): Promise<string> {
    const known = this.done.get(promptId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => this.waiting.set(promptId, resolve));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(label: string, samples: number[]): void {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  console.log(`| ${label} | ${s.length} | ${percentile(s, 50).toFixed(2)} | ${percentile(s, 99).toFixed(2)} | ${mean.toFixed(2)} | ${s[s.length - 1]!.toFixed(2)} |`);
}

async function queue(url: string, clientId: string, prompt: unknown): Promise<string> {
  const res = await request(`${url}/prompt`, { prompt, client_id: clientId });
  if (res.status !== 200) throw new Error(`POST /prompt answered ${res.status}: ${res.text}`);
  return (JSON.parse(res.text) as { prompt_id: string }).prompt_id;
}

async function roundTrips(url: string, clientId: string, done: Completions, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs + 10; i++) {
    const prompt = { '1': { class_type: 'EmptyImage', inputs: { width: 1, height: 1, batch_size: 1, color: i } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } };
    const start = performance.now();
    await done.wait(await queue(url, clientId, prompt));
    if (i >= 10) samples.push(performance.now() - start); // the first ten warm up the JIT
  }
  return samples;
}

async function throughput(url: string, clientId: string, done: Completions, prompts: number): Promise<{ seconds: number; failed: number }> {
  const start = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < prompts; i++) {
    const prompt = {
      '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0x100000 + i } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'bench' } },
    };
    ids.push(await queue(url, clientId, prompt));
  }
  const outcomes = await Promise.all(ids.map((id) => done.wait(id)));
  return { seconds: (performance.now() - start) / 1000, failed: outcomes.filter((o) => o !== 'execution_success').length };
}

async function objectInfo(url: string, runs: number): Promise<{ samples: number[]; bytes: number }> {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs + 10; i++) {
    const start = performance.now();
    const res = await request(`${url}/object_info`);
    if (i >= 10) samples.push(performance.now() - start);
    bytes = res.text.length;
  }
  return { samples, bytes };
}

async function main(): Promise<void> {
  const runs = flag('runs', 200);
  const prompts = flag('prompts', 200);
  const infoRuns = flag('object-info-runs', 200);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-bench-server-'));
  const server = await startServer(createConfig({ listen: ['127.0.0.1'], port: 0, baseDirectory: base }), { registry: createBuiltinRegistry(), log: createLogger({ silent: true }) });
  const url = `http://127.0.0.1:${server.port}`;
  const clientId = 'bench-client';
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?clientId=${clientId}`);
  const done = new Completions(ws);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  try {
    console.log(`# Server benchmark (Node ${process.version}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? 'unknown CPU'})\n`);
    console.log('| measurement | n | p50 ms | p99 ms | mean ms | max ms |');
    console.log('|---|---|---|---|---|---|');
    summary('trivial prompt: POST → execution_success', await roundTrips(url, clientId, done, runs));
    const info = await objectInfo(url, infoRuns);
    summary(`GET /object_info (${(info.bytes / 1024).toFixed(1)} KiB)`, info.samples);
    const tp = await throughput(url, clientId, done, prompts);
    console.log(`\n3-node graph (EmptyImage 64×64 → ImageInvert → SaveImage): ${prompts} prompts in ${tp.seconds.toFixed(2)} s = ${(prompts / tp.seconds).toFixed(1)} prompts/s${tp.failed ? ` (${tp.failed} failed)` : ''}`);
  } finally {
    ws.close();
    await server.close();
    agent.destroy();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

await main();
