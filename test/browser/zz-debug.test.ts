import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWebUi, openBrowser, openEditor, startUiServer, type BrowserSession, type UiServer } from './helpers.js';
let server: UiServer;
let browser: BrowserSession;
beforeAll(async () => { buildWebUi(); server = await startUiServer(); });
afterAll(async () => { await browser?.close(); await server?.close(); });
it('debug upload click', async () => {
  const results: string[] = [];
  for (let i = 0; i < 6; i++) {
    await browser?.close();
    browser = await openBrowser();
    const { page } = browser;
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.type() + ':' + m.text()));
    await openEditor(page, server.url);
    await page.click('#btn-new');
    await page.fill('#library-search', 'load image');
    await page.click('#library-tree .node-item[data-node-type="LoadImage"]');
    const point = (await page.evaluate(`(() => {
      const { canvas, graph } = window.comfy8;
      const node = graph._nodes.find((n) => n.type === 'LoadImage');
      canvas.draw(true, true);
      const upload = node.widgets.find((w) => w.name === 'upload');
      window.__clicks = 0;
      const cb = upload.callback; upload.callback = function (...a) { window.__clicks++; window.__act = navigator.userActivation.isActive + '/' + navigator.userActivation.hasBeenActive; return cb.apply(this, a); };
      window.__downs = 0; canvas.canvas.addEventListener('pointerdown', () => window.__downs++);
      const [x, y] = canvas.ds.convertOffsetToCanvas([node.pos[0] + node.size[0] / 2, node.pos[1] + upload.y + 10]);
      const rect = canvas.canvas.getBoundingClientRect();
      return { x: rect.left + x, y: rect.top + y, uy: upload.y, pos: node.pos, s: canvas.ds.scale };
    })()`)) as { x: number; y: number };
    const chooser = page.waitForEvent('filechooser', { timeout: 3000 }).then(() => 'ok', () => 'timeout');
    await page.mouse.click(point.x, point.y);
    const r = await chooser;
    results.push(`${r} ${JSON.stringify(point)} clicks=${await page.evaluate('window.__clicks')} act=${await page.evaluate('window.__act')} downs=${await page.evaluate('window.__downs')} logs=${logs.join(' | ')}`);
  }
  console.log(results.join('\n'));
  expect(results.length).toBe(6);
}, 300_000);
