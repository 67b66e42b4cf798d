/**
 * Browser test helpers: Debian's Chromium driven by playwright-core against a real Comfy8 server
 * (port 0, temp base directory) serving the freshly built web UI. Test-only nodes: a progress
 * node held by a gate the test opens, and stand-ins for the SD3.5 nodes of the default workflow.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { builtinNodes } from '../../nodes/builtins.js';
import { defineNode, type NodeDefinition } from '../../nodes/node-api.js';
import { NodeRegistry } from '../../nodes/registry.js';
import { createConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer, type RunningServer } from '../../server/server.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const chromiumMissingReason = fs.existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} is absent (install Debian's chromium package to run the browser tests)`;

const root = path.resolve(import.meta.dirname, '..', '..');
export const ARTIFACTS_DIR = path.join(root, 'test', 'artifacts');

export { buildWebUi } from './build-web-ui.js';

/** A 1x1 PNG used as a preview frame. */
const PREVIEW_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082',
  'hex',
);

let releaseProgress: () => void = () => {};
let progressGate = Promise.resolve();

/** Makes the next TestUiProgress run stop after step 1 until `openProgressGate()`. */
export function closeProgressGate(): void {
  progressGate = new Promise<void>((resolve) => (releaseProgress = resolve));
}

export function openProgressGate(): void {
  releaseProgress();
}

const TestUiProgress = defineNode({
  name: 'TestUiProgress',
  category: 'testing',
  outputNode: true,
  inputTypes: { required: { steps: ['INT', { default: 3, min: 1, max: 10 }] } },
  returnTypes: [],
  async execute({ steps }, ctx) {
    const total = Number(steps);
    ctx.progress(1, total, { format: 'png', data: PREVIEW_PNG });
    await Promise.race([progressGate, new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }))]);
    ctx.checkInterrupt();
    for (let i = 2; i <= total; i++) ctx.progress(i, total);
    return { ui: { text: [`${total} steps`] } };
  },
}) as unknown as NodeDefinition;

/** Stand-ins with the SD3.5 nodes' object_info shapes; they return nothing useful. */
function sd35StandIns(): NodeDefinition[] {
  const stub = (name: string, required: Record<string, unknown>, returnTypes: string[]) =>
    defineNode({ name, category: 'testing/sd3.5 stand-ins', inputTypes: { required: required as never }, returnTypes, execute: () => returnTypes.map(() => null) }) as unknown as NodeDefinition;
  return [
    stub('CheckpointLoaderSimple', { ckpt_name: [['sd3.5_large_fp8_scaled.safetensors']] }, ['MODEL', 'CLIP', 'VAE']),
    stub('CLIPTextEncode', { text: ['STRING', { multiline: true, dynamicPrompts: true }], clip: ['CLIP'] }, ['CONDITIONING']),
    stub(
      'KSampler',
      {
        model: ['MODEL'],
        seed: ['INT', { default: 0, min: 0, max: Number.MAX_SAFE_INTEGER, control_after_generate: true }],
        steps: ['INT', { default: 20, min: 1, max: 10000 }],
        cfg: ['FLOAT', { default: 8, min: 0, max: 100, step: 0.1, round: 0.01 }],
        sampler_name: [['euler', 'dpmpp_2m']],
        scheduler: [['normal', 'sgm_uniform']],
        positive: ['CONDITIONING'],
        negative: ['CONDITIONING'],
        latent_image: ['LATENT'],
        denoise: ['FLOAT', { default: 1, min: 0, max: 1, step: 0.01 }],
      },
      ['LATENT'],
    ),
    stub('VAEDecode', { samples: ['LATENT'], vae: ['VAE'] }, ['IMAGE']),
  ];
}

export interface UiServer {
  server: RunningServer;
  url: string;
  base: string;
  close(): Promise<void>;
}

/** The default workflow's model nodes; the tests choose whether they exist, whatever the built-ins hold. */
export const SD35_MODEL_NODE_TYPES = ['CheckpointLoaderSimple', 'CLIPTextEncode', 'KSampler', 'VAEDecode'];

/**
 * A server with the built-in nodes and TestUiProgress; the SD3.5 model nodes are left out
 * (`sd35: 'missing'`), replaced by stand-ins (`'stand-ins'`) or kept as built in (`'built-in'`).
 */
export async function startUiServer(opts: { sd35: 'missing' | 'stand-ins' | 'built-in' } = { sd35: 'missing' }): Promise<UiServer> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-web-'));
  const config = createConfig({ listen: ['127.0.0.1'], port: 0, baseDirectory: base });
  const registry = new NodeRegistry();
  registry.registerAll(builtinNodes().filter((d) => opts.sd35 === 'built-in' || !SD35_MODEL_NODE_TYPES.includes(d.name)));
  registry.registerAll([TestUiProgress, ...(opts.sd35 === 'stand-ins' ? sd35StandIns() : [])]);
  const server = await startServer(config, { registry, plugins: false, log: createLogger({ silent: true, level: 'ERROR' }) });
  return {
    server,
    base,
    url: `http://127.0.0.1:${server.port}`,
    async close() {
      await server.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1400, height: 900 }): Promise<BrowserSession> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Turn file-chooser interception on now: enabled only when a test starts waiting for one, it
  // can arrive after the click that opens the chooser.
  page.on('filechooser', () => {});
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the editor and waits until it has booted. */
export async function openEditor(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`) });
}

interface WorkflowNodeSpec {
  id: number;
  type: string;
  pos: [number, number];
  mode?: number;
  widgets_values: unknown[];
  inputs?: { name: string; type: string; link: number | null }[];
  outputs?: { name: string; type: string; links: number[] }[];
}

/** A UI workflow (schema 0.4) from nodes and `[id, from, fromSlot, to, toSlot, type]` links. */
export function uiWorkflow(nodes: WorkflowNodeSpec[], links: [number, number, number, number, number, string][]): Record<string, unknown> {
  return {
    last_node_id: Math.max(0, ...nodes.map((n) => n.id)),
    last_link_id: Math.max(0, ...links.map((l) => l[0])),
    nodes: nodes.map((n, order) => ({ size: [300, 120], flags: {}, order, mode: 0, properties: {}, inputs: [], outputs: [], ...n })),
    links,
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
}

/** EmptyImage → ImageInvert → SaveImage: runs without weights. `connectSave: false` leaves SaveImage unconnected. */
export function weightFreeWorkflow(opts: { connectSave?: boolean; prefix?: string } = {}): Record<string, unknown> {
  const connect = opts.connectSave ?? true;
  return uiWorkflow(
    [
      { id: 1, type: 'EmptyImage', pos: [50, 100], widgets_values: [64, 48, 1, 0x336699], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [1] }] },
      { id: 2, type: 'ImageInvert', pos: [420, 100], widgets_values: [], inputs: [{ name: 'image', type: 'IMAGE', link: 1 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: connect ? [2] : [] }] },
      { id: 3, type: 'SaveImage', pos: [760, 100], widgets_values: [opts.prefix ?? 'ui_test'], inputs: [{ name: 'images', type: 'IMAGE', link: connect ? 2 : null }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [] }] },
    ],
    connect ? [[1, 1, 0, 2, 0, 'IMAGE'], [2, 2, 0, 3, 0, 'IMAGE']] : [[1, 1, 0, 2, 0, 'IMAGE']],
  );
}

/** Loads a workflow through the Import file input, as a user would. */
export async function importWorkflow(page: Page, workflow: unknown, name = 'workflow.json'): Promise<void> {
  await page.setInputFiles('#file-import', { name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(workflow)) });
}

/** Node types in the page's graph, in graph order. */
export function graphNodeTypes(page: Page): Promise<string[]> {
  return page.evaluate('window.comfy8.graph._nodes.map((n) => n.type)') as Promise<string[]>;
}
