/**
 * The built-in web UI in headless Chromium against a real server: boot without console errors,
 * queue a weight-free workflow and see its image, load a saved PNG by drag-and-drop, validation
 * errors on nodes, live progress with queue/history actions, workflows saved through /userdata,
 * and the default SD3.5 workflow turning into ComfyUI's own API prompt once its nodes exist.
 * Screenshots go to test/artifacts/.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildWebUi,
  chromiumMissingReason,
  closeProgressGate,
  graphNodeTypes,
  importWorkflow,
  openBrowser,
  openEditor,
  openProgressGate,
  screenshot,
  startUiServer,
  uiWorkflow,
  weightFreeWorkflow,
  type BrowserSession,
  type UiServer,
} from './helpers.js';

if (chromiumMissingReason) console.warn(`skipping browser tests: ${chromiumMissingReason}`);

const progressWorkflow = uiWorkflow([{ id: 1, type: 'TestUiProgress', pos: [100, 100], widgets_values: [3] }], []);

describe.skipIf(chromiumMissingReason !== null)('web UI', () => {
  let server: UiServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    buildWebUi();
    server = await startUiServer();
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  // Each test checks only its own console errors (a rejected prompt's 400 is logged by Chromium).
  beforeEach(() => {
    if (browser) browser.errors.length = 0;
  });

  it('boots without console errors and shows the default SD3.5 workflow with missing nodes marked', async () => {
    const { page, errors } = browser;
    await openEditor(page, server.url);
    expect(await graphNodeTypes(page)).toEqual(expect.arrayContaining(['CheckpointLoaderSimple', 'KSampler', 'VAEDecode', 'SaveImage', 'EmptySD3LatentImage']));
    await expect.poll(() => page.textContent('#messages')).toContain('KSampler');
    expect(await page.evaluate('window.comfy8.graph._nodes.filter((n) => n.has_errors).length')).toBe(5);
    expect(await page.locator('#library-tree .node-item[data-node-type="ImageInvert"]').count()).toBe(1);
    await page.fill('#library-search', 'reverse colors');
    expect(await page.locator('#library-tree .node-item').allTextContents()).toEqual(['Invert Image Colors']);
    await page.click('#btn-queue');
    await expect.poll(() => page.textContent('#messages')).toContain("Can't queue");
    await screenshot(page, 'default-workflow');
    expect(errors).toEqual([]);
  });

  it('queues a weight-free workflow and shows the saved image on the node and in the gallery', async () => {
    const { page, errors } = browser;
    await openEditor(page, server.url);
    await importWorkflow(page, weightFreeWorkflow({ prefix: 'ui_run' }), 'weight-free.json');
    expect(await graphNodeTypes(page)).toEqual(['EmptyImage', 'ImageInvert', 'SaveImage']);
    await page.click('#btn-queue');
    await page.waitForFunction(`[...document.querySelectorAll('#gallery img')].some((img) => img.complete && img.naturalWidth === 64)`);
    await page.waitForFunction('window.comfy8.graph.getNodeById(3).images.some((i) => i.complete && i.naturalHeight === 48)');
    expect(fs.readdirSync(path.join(server.base, 'output'))).toContain('ui_run_00001_.png');
    await page.click('#tabs button[data-tab="history"]');
    await page.waitForSelector('#history-list li[data-status="completed"]');
    await screenshot(page, 'weight-free-run');
    expect(errors).toEqual([]);
  });

  it('loads the graph embedded in a PNG saved by SaveImage when it is dropped on the canvas', async () => {
    const { page } = browser;
    const png = fs.readFileSync(path.join(server.base, 'output', 'ui_run_00001_.png'));
    await openEditor(page, server.url);
    await page.click('#btn-new');
    expect(await graphNodeTypes(page)).toEqual([]);
    // Page code is passed as text: the project's tsconfig has no DOM types.
    const dataTransfer = await page.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob('${png.toString('base64')}'), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'ui_run_00001_.png', { type: 'image/png' }));
      return dt;
    })()`);
    await page.dispatchEvent('#graph-canvas', 'drop', { dataTransfer });
    await expect.poll(() => graphNodeTypes(page)).toEqual(['EmptyImage', 'ImageInvert', 'SaveImage']);
    expect(await page.evaluate('window.comfy8.graph.links.size')).toBe(2);
    expect(await page.evaluate('window.comfy8.graph.getNodeById(1).widgets.map((w) => w.value)')).toEqual([64, 48, 1, 0x336699]);
    await screenshot(page, 'png-dropped');
  });

  it('marks the node named in node_errors when the server rejects the prompt', async () => {
    const { page } = browser;
    await openEditor(page, server.url);
    await importWorkflow(page, weightFreeWorkflow({ connectSave: false }), 'broken.json');
    await page.click('#btn-queue');
    await expect.poll(() => page.textContent('#messages')).toContain('Required input is missing');
    expect(await page.evaluate('window.comfy8.graph.getNodeById(3).has_errors')).toBe(true);
    expect(await page.evaluate('window.comfy8.graph.getNodeById(3).errorText')).toContain('images');
    expect(await page.evaluate('window.comfy8.graph.getNodeById(1).has_errors')).toBe(false);
    await screenshot(page, 'validation-error');
  });

  it('shows live progress and a preview, and cancels and deletes jobs from the panels', async () => {
    const { page, errors } = browser;
    closeProgressGate();
    await openEditor(page, server.url);
    await importWorkflow(page, progressWorkflow, 'progress.json');
    await page.click('#btn-queue');
    await page.waitForFunction(`document.querySelector('#progress-text').textContent.includes('1/3')`);
    expect(await page.isHidden('#progress')).toBe(false);
    expect(await page.evaluate('window.comfy8.graph.getNodeById(1).progress')).toBeCloseTo(1 / 3);
    await page.waitForFunction('window.comfy8.receivedMessageTypes.includes("preview")');
    await screenshot(page, 'progress');

    await page.click('#btn-queue-front');
    await page.waitForSelector('#queue-list li[data-status="pending"]');
    await page.click('#queue-list li[data-status="pending"] .job-cancel');
    await page.waitForSelector('#queue-list li[data-status="pending"]', { state: 'detached' });
    expect(await page.locator('#queue-list li[data-status="in_progress"]').count()).toBe(1);

    openProgressGate();
    await page.waitForSelector('#progress', { state: 'hidden' });
    await page.click('#tabs button[data-tab="history"]');
    const completed = page.locator('#history-list li[data-status="completed"]');
    await completed.first().waitFor();
    // By id: the cancelled job may join the history list at any moment, so counting rows races.
    const id = await completed.first().getAttribute('data-job-id');
    const row = page.locator(`#history-list li[data-job-id="${id}"]`);
    await row.locator('.job-delete').click();
    await expect.poll(() => row.count()).toBe(0);
    expect((await fetch(`${server.url}/api/jobs/${id}`)).status).toBe(404); // gone from the server too
    expect(errors).toEqual([]);
  });

  it('saves a workflow through /userdata in UI format 0.4, exports it and opens it again', async () => {
    const { page } = browser;
    await openEditor(page, server.url);
    await importWorkflow(page, weightFreeWorkflow(), 'to-save.json');
    page.once('dialog', (d) => void d.accept('my flow'));
    await page.click('#btn-save-as');
    const file = path.join(server.base, 'user', 'default', 'workflows', 'my flow.json');
    await expect.poll(() => fs.existsSync(file)).toBe(true);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; nodes: { type: string }[]; links: unknown[] };
    expect(saved.version).toBe(0.4);
    expect(saved.nodes.map((n) => n.type).sort()).toEqual(['EmptyImage', 'ImageInvert', 'SaveImage']);
    expect(saved.links).toEqual([
      [1, 1, 0, 2, 0, 'IMAGE'],
      [2, 2, 0, 3, 0, 'IMAGE'],
    ]);
    const download = page.waitForEvent('download');
    await page.click('#btn-export');
    const exported = JSON.parse(fs.readFileSync((await (await download).path()) ?? '', 'utf8')) as typeof saved;
    expect((await download).suggestedFilename()).toBe('my flow.json');
    expect(exported.links).toEqual(saved.links);
    await page.click('#btn-new');
    await page.click('#btn-open');
    await page.click('#workflow-list li:has-text("my flow") button:has-text("Open")');
    await expect.poll(() => graphNodeTypes(page)).toEqual(['EmptyImage', 'ImageInvert', 'SaveImage']);
    expect(await page.textContent('#workflow-name')).toBe('my flow');
  });
  it('follows Reroutes, bypassed nodes and PrimitiveNodes and drops muted and note nodes when queueing', async () => {
    const { page, errors } = browser;
    await openEditor(page, server.url);
    await importWorkflow(page, virtualNodesWorkflow(), 'virtual-nodes.json');
    expect(await page.evaluate('window.comfy8.graph._nodes.filter((n) => n.has_errors).length')).toBe(0);
    // Ctrl+B toggles bypass on the selected node: off, then on again.
    await page.evaluate('window.comfy8.canvas.selectNode(window.comfy8.graph.getNodeById(3))');
    await page.keyboard.press('Control+b');
    expect(await page.evaluate('window.comfy8.graph.getNodeById(3).mode')).toBe(0);
    await page.keyboard.press('Control+b');
    expect(await page.evaluate('window.comfy8.graph.getNodeById(3).mode')).toBe(4);
    const response = page.waitForResponse((r) => r.url().endsWith('/api/prompt') && r.request().method() === 'POST');
    await page.click('#btn-queue');
    const { prompt_id } = (await (await response).json()) as { prompt_id: string };
    await page.waitForFunction(`[...document.querySelectorAll('#gallery img')].some((img) => img.alt.startsWith('graph_rules') && img.complete && img.naturalWidth === 32)`);
    const job = (await (await fetch(`${server.url}/api/jobs/${prompt_id}`)).json()) as { workflow: { prompt: Record<string, { _meta?: unknown }> } };
    const sent = job.workflow.prompt;
    for (const node of Object.values(sent)) delete node._meta;
    expect(sent).toEqual({
      '1': { class_type: 'EmptyImage', inputs: { width: 32, height: 48, batch_size: 1, color: 0 } },
      '4': { class_type: 'SaveImage', inputs: { filename_prefix: 'graph_rules', images: ['1', 0] } },
    });
    await screenshot(page, 'virtual-nodes');
    expect(errors).toEqual([]);
  });

  it('uploads an image for LoadImage through its upload button and shows it on the node', async () => {
    const { page } = browser;
    await openEditor(page, server.url);
    await page.click('#btn-new');
    await page.fill('#library-search', 'load image');
    await page.click('#library-tree .node-item[data-node-type="LoadImage"]');
    const point = (await page.evaluate(`(() => {
      const { canvas, graph } = window.comfy8;
      const node = graph._nodes.find((n) => n.type === 'LoadImage');
      canvas.draw(true, true); // widget positions are laid out while drawing
      const upload = node.widgets.find((w) => w.name === 'upload');
      const [x, y] = canvas.ds.convertOffsetToCanvas([node.pos[0] + node.size[0] / 2, node.pos[1] + upload.y + 10]);
      const rect = canvas.canvas.getBoundingClientRect();
      return { x: rect.left + x, y: rect.top + y };
    })()`)) as { x: number; y: number };
    const chooser = page.waitForEvent('filechooser');
    await page.mouse.click(point.x, point.y);
    const cat = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c96' } }).png().toBuffer();
    await (await chooser).setFiles({ name: 'cat.png', mimeType: 'image/png', buffer: cat });
    await expect.poll(() => page.evaluate(`window.comfy8.graph._nodes.find((n) => n.type === 'LoadImage').widgets[0].value`)).toBe('cat.png');
    expect(fs.existsSync(path.join(server.base, 'input', 'cat.png'))).toBe(true);
    await page.waitForFunction(`window.comfy8.graph._nodes.find((n) => n.type === 'LoadImage').images.some((i) => i.complete && i.naturalWidth === 64)`);
    await screenshot(page, 'load-image-upload');
  });

  it('stores settings through /settings and applies them after a reload', async () => {
    const { page } = browser;
    await openEditor(page, server.url);
    await page.click('#btn-settings');
    await page.selectOption('select[name="Comfy.LinkRenderMode"]', { label: 'Straight' });
    const file = path.join(server.base, 'user', 'default', 'comfy.settings.json');
    await expect.poll(() => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>)['Comfy.LinkRenderMode'] : undefined)).toBe(0);
    await openEditor(page, server.url);
    expect(await page.evaluate('window.comfy8.canvas.links_render_mode')).toBe(0);
  });
});

/** EmptyImage (width from a PrimitiveNode) → Reroute → bypassed ImageInvert → SaveImage, plus a muted PreviewImage and a Note. */
function virtualNodesWorkflow(): Record<string, unknown> {
  return uiWorkflow(
    [
      { id: 1, type: 'EmptyImage', pos: [300, 100], widgets_values: [64, 48, 1, 0], inputs: [{ name: 'width', type: 'INT', link: 5, widget: { name: 'width' } } as never], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [1, 4] }] },
      { id: 5, type: 'PrimitiveNode', pos: [20, 100], widgets_values: [32, 'fixed'], outputs: [{ name: 'INT', type: 'INT', links: [5], widget: { name: 'width' } } as never] },
      { id: 2, type: 'Reroute', pos: [650, 100], widgets_values: [], inputs: [{ name: '', type: '*', link: 1 }], outputs: [{ name: '', type: 'IMAGE', links: [2] }] },
      { id: 3, type: 'ImageInvert', pos: [780, 100], mode: 4, widgets_values: [], inputs: [{ name: 'image', type: 'IMAGE', link: 2 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [3] }] },
      { id: 4, type: 'SaveImage', pos: [1100, 100], widgets_values: ['graph_rules'], inputs: [{ name: 'images', type: 'IMAGE', link: 3 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [] }] },
      { id: 6, type: 'PreviewImage', pos: [650, 300], mode: 2, widgets_values: [], inputs: [{ name: 'images', type: 'IMAGE', link: 4 }] },
      { id: 7, type: 'Note', pos: [20, 300], widgets_values: ['a note'] },
    ],
    [
      [1, 1, 0, 2, 0, 'IMAGE'],
      [2, 2, 0, 3, 0, 'IMAGE'],
      [3, 3, 0, 4, 0, 'IMAGE'],
      [4, 1, 0, 6, 0, 'IMAGE'],
      [5, 5, 0, 1, 0, 'INT'],
    ],
  );
}

describe.skipIf(chromiumMissingReason !== null)('web UI with the SD3.5 node types present', () => {
  let server: UiServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    buildWebUi();
    server = await startUiServer({ sd35: 'stand-ins' });
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("queues the default workflow as exactly ComfyUI's API prompt, then applies control-after-generate", async () => {
    const { page, errors } = browser;
    await openEditor(page, server.url);
    expect(await page.evaluate('window.comfy8.graph._nodes.filter((n) => n.has_errors).length')).toBe(0);
    const response = page.waitForResponse((r) => r.url().endsWith('/api/prompt') && r.request().method() === 'POST');
    await page.click('#btn-queue');
    const body = (await (await response).json()) as { prompt_id: string };
    const job = (await (await fetch(`${server.url}/api/jobs/${body.prompt_id}`)).json()) as { workflow: { prompt: Record<string, { _meta?: unknown }> } };
    const sent = job.workflow.prompt;
    for (const node of Object.values(sent)) delete node._meta;
    const expected = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'sd3.5-simple.api.json'), 'utf8')) as unknown;
    expect(sent).toEqual(expected);
    expect(await page.evaluate('window.comfy8.graph.getNodeById(3).widgets[0].value')).not.toBe(585483408983215);
    await screenshot(page, 'default-workflow-with-nodes');
    expect(errors).toEqual([]);
  });
});

describe.skipIf(chromiumMissingReason !== null)('web UI with the real built-in nodes', () => {
  let server: UiServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    buildWebUi();
    server = await startUiServer({ sd35: 'built-in' });
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("gives every default-workflow node the server has ComfyUI's inputs for it", async () => {
    const { page, errors } = browser;
    await openEditor(page, server.url);
    const known = new Set(Object.keys((await (await fetch(`${server.url}/api/object_info`)).json()) as Record<string, unknown>));
    const prompt = (await page.evaluate('window.comfy8.graphToPrompt()')) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    const expected = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'sd3.5-simple.api.json'), 'utf8')) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    expect(Object.keys(prompt).sort()).toEqual(Object.keys(expected).sort());
    const present = Object.keys(expected).filter((id) => known.has(expected[id].class_type));
    expect(present.length).toBeGreaterThanOrEqual(2); // SaveImage and EmptySD3LatentImage at least
    // ComfyUI's checkpoint file is absent here, so the default points at the server's first one:
    // on a fresh install the demo, which makes the first Queue run instead of failing validation.
    const checkpoints = (await (await fetch(`${server.url}/api/models/checkpoints`)).json()) as string[];
    expect(checkpoints).toContain('comfy8-demo-sd35-tiny.safetensors');
    const loader = Object.keys(expected).find((id) => expected[id].class_type === 'CheckpointLoaderSimple')!;
    expected[loader].inputs['ckpt_name'] = checkpoints[0];
    for (const id of present) expect({ id, ...prompt[id].inputs }).toEqual({ id, ...expected[id].inputs });
    expect(errors).toEqual([]);
  });
});
