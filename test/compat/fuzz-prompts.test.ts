/**
 * POST /prompt (both prefixes) under 10,000 seeded random bodies (fuzz-arbitraries.ts), sent in
 * batches over keep-alive connections while the worker is held by a TestGate prompt:
 * - every JSON body gets 200 `{prompt_id, number, node_errors}` or 400 with ComfyUI's error shape
 *   `{error: {type, message, details, extra_info}, node_errors}` — never a 5xx;
 * - a body that is not JSON gets 500, as ComfyUI answers it (spec §0);
 * - after each batch the server still answers /system_stats;
 * - valid prompts queued before and during the fuzzing are all still queued afterwards, every
 *   accepted fuzz prompt is in the queue too (nothing lost), and once the fuzz prompts are deleted
 *   and the gate opens, every valid prompt completes with the right image.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decodePng, distinctRgb, FrameRecorder, gatePrompt, httpJson, invertPrompt, invertedRgb, openGate, solidPng, startTestServer, type TestServer } from './compat-helpers.js';
import { bigBodies, deepNesting, extremeNesting, FUZZ_INPUT_IMAGE, malformedJson, nearValidPrompt, randomBody, randomJson, type FuzzCase } from './fuzz-arbitraries.js';

const SEED = 20_261_125;
const TOTAL = 10_000;
const BATCH = 200;
const CONTENT_TYPES: Array<Record<string, string>> = [{}, { 'Content-Type': 'application/json' }, { 'Content-Type': 'application/x-www-form-urlencoded' }, { 'Content-Type': 'text/plain;charset=UTF-8' }];

let t: TestServer;
let ws: FrameRecorder;
const CLIENT_ID = 'fuzz-observer';

beforeAll(async () => {
  t = await startTestServer();
  fs.writeFileSync(path.join(t.server.app.ctx.folders.inputDir, FUZZ_INPUT_IMAGE), await solidPng(4, 4, [1, 2, 3]));
  ws = await FrameRecorder.open(t.url, `/ws?clientId=${CLIENT_ID}`);
});

afterAll(async () => {
  await ws.close();
  await t.close();
});

function allCases(): FuzzCase[] {
  const arb = fc.oneof(
    { arbitrary: nearValidPrompt, weight: 47 },
    { arbitrary: randomJson, weight: 18 },
    { arbitrary: randomBody, weight: 14 },
    { arbitrary: malformedJson, weight: 14 },
    { arbitrary: deepNesting, weight: 6 },
    { arbitrary: bigBodies, weight: 1 },
  );
  const cases = fc.sample(arb, { seed: SEED, numRuns: TOTAL - 12 });
  // A dozen far-too-deep bodies, spread out: the server must survive them, whatever it answers.
  const extreme = fc.sample(extremeNesting, { seed: SEED + 1, numRuns: 12 });
  extreme.forEach((c, i) => cases.splice(Math.floor(((i + 1) * cases.length) / 13), 0, c));
  return cases;
}

function parsesAsJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** ComfyUI's error object: four keys, three strings and an object. */
function isErrorObject(e: unknown): boolean {
  return isObject(e) && typeof e['type'] === 'string' && typeof e['message'] === 'string' && typeof e['details'] === 'string' && isObject(e['extra_info']);
}

function isNodeErrors(v: unknown): boolean {
  if (!isObject(v)) return false;
  return Object.values(v).every((n) => isObject(n) && Array.isArray(n['errors']) && n['errors'].length > 0 && n['errors'].every(isErrorObject) && Array.isArray(n['dependent_outputs']) && typeof n['class_type'] === 'string');
}

/** Why a reply breaks the contract for its case, or null when it is fine. */
function violation(c: FuzzCase, status: number, json: unknown): string | null {
  if (status === -1) return String(json);
  if (c.label.startsWith('extreme:')) return null;
  if (!parsesAsJson(c.body)) return status === 500 ? null : `malformed JSON answered ${status}, expected 500`;
  if (status === 200) {
    if (!isObject(json) || typeof json['prompt_id'] !== 'string' || typeof json['number'] !== 'number' || !isNodeErrors(json['node_errors'])) return `200 with body ${JSON.stringify(json)?.slice(0, 200)}`;
    return null;
  }
  if (status !== 400) return `JSON body answered ${status}`;
  if (!isObject(json) || !isErrorObject(json['error']) || !isNodeErrors(json['node_errors'])) return `400 without the error shape: ${JSON.stringify(json)?.slice(0, 300)}`;
  return null;
}

async function queueValid(color: number): Promise<string> {
  const res = await httpJson(`${t.url}/prompt`, { body: { prompt: invertPrompt({ color, prefix: `valid_${color}` }), client_id: CLIENT_ID } });
  expect(res.status).toBe(200);
  return (res.json as { prompt_id: string }).prompt_id;
}

test('10,000 random bodies: 200 or 400 with the error shape (500 only for non-JSON), server alive, no queued prompt lost', { timeout: 300_000 }, async () => {
  // Generated first: a keep-alive socket left idle past the server's 5 s keep-alive timeout
  // while this runs would be reset under the next request (a client-side race).
  const cases = allCases();
  expect(cases).toHaveLength(TOTAL);
  const gate = await httpJson(`${t.url}/prompt`, { body: { prompt: gatePrompt('fuzz-hold') } });
  expect(gate.status).toBe(200);
  try {
    await fuzzBehindGate(cases, (gate.json as { prompt_id: string }).prompt_id);
  } finally {
    // On failure, leave nothing queued behind the gate for the next test.
    await httpJson(`${t.url}/queue`, { body: { clear: true } });
    openGate('fuzz-hold');
  }
});

async function fuzzBehindGate(cases: FuzzCase[], gateId: string): Promise<void> {
  const valid: Array<{ id: string; color: number }> = [];
  valid.push({ id: await queueValid(0x010203), color: 0x010203 });

  const accepted: string[] = [];
  const problems: string[] = [];
  const statusCounts: Record<number, number> = {};
  for (let start = 0; start < cases.length; start += BATCH) {
    const batch = cases.slice(start, start + BATCH);
    const replies = await Promise.all(
      batch.map((c, i) => {
        const n = start + i;
        return httpJson(`${t.url}${n % 2 ? '/api' : ''}/prompt`, { body: c.body, headers: CONTENT_TYPES[n % CONTENT_TYPES.length] }).catch((err: Error) => ({ status: -1, json: `connection error: ${err.message}` }));
      }),
    );
    replies.forEach((r, i) => {
      statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
      const problem = violation(batch[i]!, r.status, r.json);
      if (problem) problems.push(`#${start + i} ${batch[i]!.label}: ${problem} — request ${batch[i]!.body.toString('utf8').slice(0, 300)}`);
      if (r.status === 200 && isObject(r.json) && typeof r.json['prompt_id'] === 'string') accepted.push(r.json['prompt_id']);
    });
    const stats = await httpJson(`${t.url}/system_stats`);
    expect(stats.status, `after batch at ${start}`).toBe(200);
    const color = 0x100000 + start;
    valid.push({ id: await queueValid(color), color });
  }
  expect(problems.slice(0, 20), `${problems.length} contract violations; statuses ${JSON.stringify(statusCounts)}`).toEqual([]);
  // The fuzzing must reach both outcomes, or it is not testing much.
  expect(statusCounts[200]).toBeGreaterThan(100);
  expect(statusCounts[400]).toBeGreaterThan(1000);

  // Nothing lost: the gate runs; the valid prompts and every accepted fuzz prompt are pending.
  const queueReply = await httpJson(`${t.url}/queue`);
  expect(queueReply.status, queueReply.body.toString().slice(0, 200)).toBe(200);
  const queue = queueReply.json as { queue_running: unknown[][]; queue_pending: unknown[][] };
  expect(queue.queue_running.map((item) => item[1])).toEqual([gateId]);
  const pending = queue.queue_pending.map((item) => item[1] as string);
  expect(pending.length).toBe(valid.length + accepted.length);
  expect(new Set(pending)).toEqual(new Set([...valid.map((v) => v.id), ...accepted]));

  for (let i = 0; i < accepted.length; i += 500) {
    expect((await httpJson(`${t.url}/queue`, { body: { delete: accepted.slice(i, i + 500) } })).status).toBe(200);
  }
  openGate('fuzz-hold');
  for (const v of valid) {
    await ws.done(v.id);
    const entry = ((await httpJson(`${t.url}/history/${v.id}`)).json as Record<string, { status: { status_str: string }; outputs: Record<string, { images: Array<{ filename: string; subfolder: string; type: string }> }> }>)[v.id]!;
    expect(entry.status.status_str, v.id).toBe('success');
    const image = entry.outputs['3']!.images[0]!;
    const view = await httpJson(`${t.url}/view?${new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type })}`);
    const rgb = distinctRgb(await decodePng(view.body));
    expect(rgb).toHaveLength(1);
    rgb[0]!.split(',').forEach((c, k) => expect(Math.abs(Number(c) - invertedRgb(v.color)[k]!)).toBeLessThanOrEqual(1));
  }
  expect((await httpJson(`${t.url}/prompt`)).json).toEqual({ exec_info: { queue_remaining: 0 } });
}

test('node ids named like Object.prototype members validate, run and are reported like any other id', async () => {
  // Written as text: `__proto__` must be an own key of the prompt, as Python's json gives it.
  const body = `{"client_id": "${CLIENT_ID}", "prompt": {
    "constructor": {"class_type": "EmptyImage", "inputs": {"width": 2, "height": 2, "batch_size": 1, "color": 0}},
    "hasOwnProperty": {"class_type": "ImageInvert", "inputs": {"image": ["constructor", 0]}},
    "__proto__": {"class_type": "SaveImage", "inputs": {"images": ["hasOwnProperty", 0], "filename_prefix": "proto"}},
    "toString": {"class_type": "PreviewImage", "inputs": {"images": ["constructor", 0]}}}}`;
  const res = await httpJson(`${t.url}/prompt`, { body: Buffer.from(body) });
  expect(res.status, res.body.toString()).toBe(200);
  const id = (res.json as { prompt_id: string }).prompt_id;
  await ws.done(id);
  const executed = ws.ofPrompt(id).filter((m) => m.type === 'executed').map((m) => m.data['node']);
  expect(executed.sort()).toEqual(['__proto__', 'toString']);
  const running = ws.ofPrompt(id).filter((m) => m.type === 'executing' && m.data['node'] !== null).map((m) => m.data['node']);
  expect([...running].sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
  const lastState = ws.ofPrompt(id).filter((m) => m.type === 'progress_state').at(-1)!;
  expect(Object.keys(lastState.data['nodes'] as object).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
  const entry = JSON.parse((await httpJson(`${t.url}/history/${id}`)).body.toString())[id];
  expect(Object.keys(entry.outputs).sort()).toEqual(['__proto__', 'toString']);
  expect(entry.outputs['__proto__']).toEqual({ images: [{ filename: 'proto_00001_.png', subfolder: '', type: 'output' }] });
  expect(Object.keys(entry.meta).sort()).toEqual(['__proto__', 'toString']);

  // The same prompt again: everything is cached, and the cached outputs are replayed.
  const again = await httpJson(`${t.url}/prompt`, { body: Buffer.from(body) });
  const id2 = (again.json as { prompt_id: string }).prompt_id;
  await ws.done(id2);
  expect((ws.ofPrompt(id2).find((m) => m.type === 'execution_cached')!.data['nodes'] as string[]).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
  const entry2 = JSON.parse((await httpJson(`${t.url}/history/${id2}`)).body.toString())[id2];
  expect(entry2.outputs['__proto__']).toEqual(entry.outputs['__proto__']);
});

test('JSON nested deeper than ComfyUI parses is refused with 500, so /queue and /history stay readable', async () => {
  const deepMeta = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const body = (depth: number) => `{"client_id": "${CLIENT_ID}", "prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 2, "height": 2, "batch_size": 1, "color": 0}, "_meta": ${deepMeta(depth)}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}}`;
  expect((await httpJson(`${t.url}/prompt`, { body: Buffer.from(body(6000)) })).status).toBe(500);
  const accepted = await httpJson(`${t.url}/prompt`, { body: Buffer.from(body(990)) });
  expect(accepted.status).toBe(200);
  const id = (accepted.json as { prompt_id: string }).prompt_id;
  await ws.done(id);
  for (const route of ['/queue', `/history/${id}`, '/history', '/api/jobs?limit=5']) {
    expect((await httpJson(`${t.url}${route}`)).status, route).toBe(200);
  }
});
