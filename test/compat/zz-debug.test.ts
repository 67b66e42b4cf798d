import { test } from 'vitest';
import { gatePrompt, httpJson, openGate, startTestServer } from './compat-helpers.js';

test('debug', { timeout: 60_000 }, async () => {
  const t = await startTestServer();
  await httpJson(`${t.url}/prompt`, { body: { prompt: gatePrompt('dbg') } });
  for (const depth of [900, 5000, 20000]) {
    const deep = '['.repeat(depth) + ']'.repeat(depth);
    const body = `{"prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}, "extra_data": ${deep}}`;
    const r = await httpJson(`${t.url}/prompt`, { body: Buffer.from(body) });
    const q = await httpJson(`${t.url}/queue`);
    const h = await httpJson(`${t.url}/api/jobs?limit=10`);
    console.log(`depth ${depth}: POST ${r.status}; GET /queue ${q.status} ${q.body.toString().slice(0, 120)}; jobs ${h.status} ${h.body.toString().slice(0, 80)}`);
    await httpJson(`${t.url}/queue`, { body: { clear: true } });
  }
  for (const depth of [5000, 20000]) {
    const deep = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const body = `{"client_id": "x", "prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}, "_meta": ${deep}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}}`;
    const r = await httpJson(`${t.url}/prompt`, { body: Buffer.from(body) });
    const q = await httpJson(`${t.url}/queue`);
    console.log(`meta depth ${depth}: POST ${r.status}; GET /queue ${q.status} ${q.body.toString().slice(0, 120)}`);
  }
  openGate('dbg');
  await new Promise((r) => setTimeout(r, 1500));
  const h = await httpJson(`${t.url}/history`);
  console.log(`history after run: ${h.status} ${h.body.toString().slice(0, 200)}`);
  const q = await httpJson(`${t.url}/queue`);
  console.log(`queue after run: ${q.status} ${q.body.toString().slice(0, 200)}`);
  await t.close();
});
