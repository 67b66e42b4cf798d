/**
 * Persistence under crashes: the real server as a child process (`node --import tsx
 * server/main.ts`) in a temp base directory with a test pack (custom_nodes/c8-sleep) whose node
 * sleeps. 20 prompts are queued, the process is SIGKILLed while one runs, restarted, and every
 * prompt must be completed or still queued, in order — ten times over. Then SIGTERM drains.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBaseDir } from './helpers.js';

const SLEEP_PACK = `export class C8Sleep {
  static INPUT_TYPES() { return { required: { ms: ['INT', { default: 100, min: 0, max: 10000 }], tag: ['STRING', { default: '' }] } }; }
  static RETURN_TYPES = [];
  static FUNCTION = 'sleep';
  static OUTPUT_NODE = true;
  static CATEGORY = 'testing';
  async sleep({ ms, tag }) { await new Promise((r) => setTimeout(r, ms)); return { ui: { text: [tag] } }; }
}
export const NODE_CLASS_MAPPINGS = { C8Sleep };
`;

const base = makeBaseDir();
fs.mkdirSync(path.join(base, 'custom_nodes', 'c8-sleep'), { recursive: true });
fs.writeFileSync(path.join(base, 'custom_nodes', 'c8-sleep', 'index.js'), SLEEP_PACK);
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

function startChild(extra: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--base-directory', base, '--port', '0', '--dont-print-server', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /To see the GUI go to: (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve({ proc, url: m[1]!, exited });
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${err}`)));
  });
}

async function json(url: string, body?: unknown): Promise<any> {
  const res = await fetch(url, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  expect(res.status, url).toBe(200);
  return res.json();
}

const sleepy = (tag: string, ms: number) => ({ '1': { class_type: 'C8Sleep', inputs: { ms, tag } } });

/** Every submitted prompt is in history or queued; pending ones keep submission order. */
async function expectNoneLost(url: string, submitted: string[]): Promise<{ done: number; pending: number }> {
  // Queue first: a prompt moves queue → history, so it is in one snapshot or the other.
  const queue = await json(`${url}/queue`);
  const history = await json(`${url}/history`);
  const queued = [...queue.queue_running, ...queue.queue_pending].sort((a: [number], b: [number]) => a[0] - b[0]).map((i: unknown[]) => i[1] as string);
  for (const id of submitted) expect(id in history || queued.includes(id), `prompt ${id} lost`).toBe(true);
  const order = submitted.filter((id) => queued.includes(id));
  expect(queued.filter((id: string) => submitted.includes(id))).toEqual(order);
  return { done: submitted.filter((id) => id in history).length, pending: queued.length };
}

async function until(what: string, pred: () => Promise<boolean>, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('crash and restart', () => {
  it('SIGKILL during execution loses no prompt (10 rounds of 20 prompts)', async () => {
    const submitted: string[] = [];
    for (let round = 0; round < 10; round++) {
      const child = await startChild();
      await expectNoneLost(child.url, submitted);
      const doneBefore = Object.keys(await json(`${child.url}/history`)).length;
      for (let i = 0; i < 20; i++) submitted.push((await json(`${child.url}/prompt`, { prompt: sleepy(`${round}-${i}`, 40) })).prompt_id);
      // Kill once something new has finished and a prompt is running.
      await until('a prompt to finish and another to run', async () => {
        const h = Object.keys(await json(`${child.url}/history`)).length;
        return h > doneBefore && (await json(`${child.url}/queue`)).queue_running.length > 0;
      });
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    const last = await startChild();
    try {
      const state = await expectNoneLost(last.url, submitted);
      expect(state.done + state.pending).toBeGreaterThanOrEqual(submitted.length);
      await until('the queue to drain', async () => (await json(`${last.url}/queue`)).queue_pending.length === 0, 3000);
      await until('the last prompt', async () => submitted.at(-1)! in (await json(`${last.url}/history`)));
      const history = await json(`${last.url}/history`);
      for (const id of submitted) expect(['success', 'error'], id).toContain(history[id].status.status_str);
      // A prompt interrupted by a single crash is re-run, not failed.
      expect(submitted.filter((id) => history[id].status.status_str === 'success').length).toBe(submitted.length);
    } finally {
      last.proc.kill('SIGKILL');
      await last.exited;
    }
  }, 300_000);

  it('SIGTERM lets the running prompt finish, keeps the rest queued and exits 0', async () => {
    const child = await startChild();
    const running = (await json(`${child.url}/prompt`, { prompt: sleepy('term-run', 1500) })).prompt_id;
    const waiting = (await json(`${child.url}/prompt`, { prompt: sleepy('term-wait', 10) })).prompt_id;
    await until('the prompt to run', async () => (await json(`${child.url}/queue`)).queue_running.length > 0);
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    const again = await startChild();
    try {
      const history = await json(`${again.url}/history/${running}`);
      expect(history[running].status.status_str).toBe('success');
      await until('the queued prompt to run after the restart', async () => waiting in (await json(`${again.url}/history`)));
    } finally {
      again.proc.kill('SIGKILL');
      await again.exited;
    }
  }, 120_000);
});
