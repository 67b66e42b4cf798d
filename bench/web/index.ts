/**
 * Web UI benchmark: loads a generated 300-node workflow into the editor in headless Chromium and
 * prints load time, first full render time and per-frame draw time while panning. No assertions.
 *
 *   npm run bench:web            (needs /usr/bin/chromium)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer } from '../../server/server.js';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHAINS = 100; // EmptyImage → ImageInvert → SaveImage, three nodes each
const PAN_FRAMES = 120;

function generateWorkflow(): Record<string, unknown> {
  const nodes: Record<string, unknown>[] = [];
  const links: [number, number, number, number, number, string][] = [];
  for (let c = 0; c < CHAINS; c++) {
    const [a, b, s] = [c * 3 + 1, c * 3 + 2, c * 3 + 3];
    const [l1, l2] = [c * 2 + 1, c * 2 + 2];
    const y = (c % 25) * 160;
    const x = Math.floor(c / 25) * 1100;
    nodes.push(
      { id: a, type: 'EmptyImage', pos: [x, y], size: [300, 130], flags: {}, order: a, mode: 0, properties: {}, outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [l1] }], widgets_values: [64, 64, 1, c] },
      { id: b, type: 'ImageInvert', pos: [x + 340, y], size: [250, 50], flags: {}, order: b, mode: 0, properties: {}, inputs: [{ name: 'image', type: 'IMAGE', link: l1 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [l2] }] },
      { id: s, type: 'SaveImage', pos: [x + 620, y], size: [300, 100], flags: {}, order: s, mode: 0, properties: {}, inputs: [{ name: 'images', type: 'IMAGE', link: l2 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [] }], widgets_values: [`chain_${c}`] },
    );
    links.push([l1, a, 0, b, 0, 'IMAGE'], [l2, b, 0, s, 0, 'IMAGE']);
  }
  return { last_node_id: CHAINS * 3, last_link_id: CHAINS * 2, nodes, links, groups: [], config: {}, extra: { ds: { scale: 0.5, offset: [0, 0] } }, version: 0.4 };
}

// Runs in the page (kept as text: the project's tsconfig has no DOM types).
const MEASURE = `async ({ workflow, frames }) => {
  const { app, canvas } = window.comfy8;
  const t0 = performance.now();
  app.loadWorkflow(workflow, 'bench');
  const t1 = performance.now();
  canvas.draw(true, true);
  const t2 = performance.now();
  const drawTimes = [];
  const intervals = [];
  let last = performance.now();
  for (let i = 0; i < frames; i++) {
    await new Promise((r) => requestAnimationFrame(r));
    const now = performance.now();
    intervals.push(now - last);
    last = now;
    canvas.ds.offset[0] -= 12;
    canvas.ds.offset[1] -= 4;
    const d0 = performance.now();
    canvas.draw(true, true);
    drawTimes.push(performance.now() - d0);
  }
  return { nodes: app.graph._nodes.length, loadMs: t1 - t0, renderMs: t2 - t1, drawTimes, intervals };
}`;

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return `mean ${mean.toFixed(2)} ms, p50 ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${at(1).toFixed(2)} ms`;
}

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`bench:web skipped: ${CHROMIUM} is absent`);
    return;
  }
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-web.mjs')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('web build failed');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-bench-web-'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-bench-chromium-'));
  const server = await startServer(createConfig({ listen: ['127.0.0.1'], port: 0, baseDirectory: base }), { plugins: false, log: createLogger({ silent: true, level: 'ERROR' }) });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const bootStart = Date.now();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForSelector('body[data-ready="true"]');
    const bootMs = Date.now() - bootStart;
    const reloadStart = Date.now();
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const reloadMs = Date.now() - reloadStart;
    const result = (await page.evaluate(`(${MEASURE})(${JSON.stringify({ workflow: generateWorkflow(), frames: PAN_FRAMES })})`)) as {
      nodes: number;
      loadMs: number;
      renderMs: number;
      drawTimes: number[];
      intervals: number[];
    };
    console.log(`web UI bench (headless Chromium, software rendering, 1600x1000)`);
    console.log(`  editor boot to ready:        ${bootMs} ms (first visit), ${reloadMs} ms (reload)`);
    console.log(`  workflow load (${result.nodes} nodes):  ${result.loadMs.toFixed(1)} ms`);
    console.log(`  first full render:           ${result.renderMs.toFixed(1)} ms`);
    console.log(`  pan, draw time per frame:    ${stats(result.drawTimes)} (${PAN_FRAMES} frames)`);
    console.log(`  pan, frame interval (rAF):   ${stats(result.intervals)}`);
  } finally {
    await context.close();
    await server.close();
    fs.rmSync(base, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
