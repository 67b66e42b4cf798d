import { test } from 'vitest';
import { httpJson, startTestServer } from './compat-helpers.js';

function chain(n: number) {
  const prompt: Record<string, unknown> = { '0': { class_type: 'EmptyImage', inputs: { width: 1, height: 1, batch_size: 1, color: 0 } } };
  for (let i = 1; i <= n; i++) prompt[String(i)] = { class_type: 'ImageInvert', inputs: { image: [String(i - 1), 0] } };
  prompt['out'] = { class_type: 'PreviewImage', inputs: { images: [String(n), 0] } };
  return { prompt };
}
function ring(n: number) {
  const prompt: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) prompt[String(i)] = { class_type: 'PreviewImage', inputs: { images: [String((i + 1) % n), 0] } };
  return { prompt };
}
function saveRing(n: number) {
  const prompt: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) prompt[String(i)] = { class_type: 'SaveImage', inputs: { images: [String((i + 1) % n), 0], filename_prefix: 'r' } };
  return { prompt };
}
test('debug', { timeout: 600_000 }, async () => {
  const t = await startTestServer();
  for (const [name, body] of [['chain200', chain(200)], ['chain1000', chain(1000)], ['chain2000', chain(2000)], ['chain5000', chain(5000)], ['ring500', ring(500)], ['ring1000', ring(1000)], ['ring1780', ring(1780)], ['saveRing300', saveRing(300)], ['saveRing1000', saveRing(1000)]] as const) {
    const t0 = performance.now();
    let s = '';
    try { const r = await httpJson(`${t.url}/prompt`, { body, agent: false }); s = `${r.status} ${r.body.length}B ${r.body.toString().slice(0, 250)}`; } catch (e) { s = String(e); }
    console.log(`${name}: ${(performance.now() - t0).toFixed(0)}ms ${s}`);
  }
  await t.close();
});
