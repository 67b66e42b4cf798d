/**
 * Saved UI workflows as the way in: `POST /prompt {"workflow": …}` (converted server-side, stored
 * in extra_pnginfo) and `comfy8 run FILE --server URL` against a real server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../../compat/png-text.js';
import { parseRunArgs, renderBar, runRunCli } from '../../server/cli-run.js';
import { startTestServer, TestSocket, type TestServer } from './helpers.js';

/** EmptyImage(16×8, 0x204060) → ImageInvert → SaveImage, as the frontend saves it (schema 0.4). */
function uiWorkflow(prefix: string, color = 0x204060): Record<string, unknown> {
  return {
    last_node_id: 3,
    last_link_id: 2,
    nodes: [
      { id: 1, type: 'EmptyImage', mode: 0, inputs: [], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [1] }], widgets_values: [16, 8, 1, color] },
      { id: 2, type: 'ImageInvert', mode: 0, inputs: [{ name: 'image', type: 'IMAGE', link: 1 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [2] }], widgets_values: [] },
      { id: 3, type: 'SaveImage', mode: 0, inputs: [{ name: 'images', type: 'IMAGE', link: 2 }], outputs: [], widgets_values: [prefix] },
    ],
    links: [
      [1, 1, 0, 2, 0, 'IMAGE'],
      [2, 2, 0, 3, 0, 'IMAGE'],
    ],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('POST /prompt with a UI workflow', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => srv.close());

  it('converts, runs, and embeds the workflow in the saved PNG', async () => {
    const ws = await TestSocket.open(srv.url, '/ws?clientId=wf-client');
    const workflow = uiWorkflow('wf_in');
    const { status, json } = await postJson(`${srv.url}/api/prompt`, { workflow, client_id: 'wf-client' });
    expect(status).toBe(200);
    const promptId = json['prompt_id'] as string;
    await ws.waitFor((m) => m.type === 'executing' && m.data['node'] === null && m.data['prompt_id'] === promptId);
    ws.close();

    const history = (await (await fetch(`${srv.url}/history/${promptId}`)).json()) as Record<string, any>;
    const entry = history[promptId];
    expect(entry.status.status_str).toBe('success');
    expect(entry.prompt[2]['1'].class_type).toBe('EmptyImage');
    expect(entry.prompt[2]['2'].inputs.image).toEqual(['1', 0]);
    expect(entry.prompt[3].extra_pnginfo.workflow).toEqual(workflow);

    const image = entry.outputs['3'].images[0];
    const png = fs.readFileSync(path.join(srv.base, 'output', image.subfolder, image.filename));
    const chunks = readPngText(png);
    expect(JSON.parse(chunks['workflow']!)).toEqual(workflow);
    const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual([255 - 0x20, 255 - 0x40, 255 - 0x60]);
  });

  it('answers a broken workflow with a ComfyUI-shaped 400 naming the node', async () => {
    const workflow = uiWorkflow('wf_bad');
    (workflow['nodes'] as { type: string }[])[1]!.type = 'NoSuchNode';
    const { status, json } = await postJson(`${srv.url}/prompt`, { workflow });
    expect(status).toBe(400);
    const error = json['error'] as Record<string, unknown>;
    expect(error['type']).toBe('missing_node_type');
    expect(JSON.stringify(json)).toContain('NoSuchNode');
  });

  it('refuses a workflow that is neither a UI workflow nor an API prompt', async () => {
    const { status, json } = await postJson(`${srv.url}/prompt`, { workflow: [1, 2, 3] });
    expect(status).toBe(400);
    expect((json['error'] as Record<string, unknown>)['type']).toBe('invalid_workflow');
  });
});

describe('comfy8 run', () => {
  let srv: TestServer;
  let dir: string;
  beforeAll(async () => {
    srv = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-run-'));
  });
  afterAll(async () => {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), isTty: false }, out, err };
  }

  it('queues a saved workflow, follows its progress and saves the images', async () => {
    const file = path.join(dir, 'workflow.json');
    fs.writeFileSync(file, JSON.stringify(uiWorkflow('cli_run', 0x000000)));
    const outDir = path.join(dir, 'out');
    const { io, out, err } = capture();
    const code = await runRunCli(['run', file, '--server', srv.url, '--output', outDir], io);
    expect(err.join('')).toContain('done: prompt');
    expect(code).toBe(0);
    const saved = out.join('').trim().split('\n');
    expect(saved).toHaveLength(1);
    const { data, info } = await sharp(saved[0]!).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([16, 8]);
    expect(data[0]).toBe(255); // black inverted
    expect(err.join('')).toMatch(/\] +\d+% +node [123]/);
  });

  it('re-runs the workflow embedded in a PNG with --convert-locally', async () => {
    const first = path.join(dir, 'first');
    const a = capture();
    fs.writeFileSync(path.join(dir, 'w2.json'), JSON.stringify(uiWorkflow('cli_png', 0x010203)));
    expect(await runRunCli(['run', path.join(dir, 'w2.json'), '--server', srv.url, '--output', first], a.io)).toBe(0);
    const png = a.out.join('').trim();
    const b = capture();
    const code = await runRunCli(['run', png, '--server', srv.url, '--output', path.join(dir, 'second'), '--convert-locally'], b.io);
    expect(b.err.join('')).toContain('done: prompt');
    expect(code).toBe(0);
  });

  it('reports a refused prompt with exit status 1 and the node errors', async () => {
    const file = path.join(dir, 'bad.json');
    const workflow = uiWorkflow('cli_bad');
    (workflow['nodes'] as { widgets_values: unknown[] }[])[0]!.widgets_values = [0, 8, 1, 0];
    fs.writeFileSync(file, JSON.stringify(workflow));
    const { io, err } = capture();
    expect(await runRunCli(['run', file, '--server', srv.url, '--output', dir], io)).toBe(1);
    expect(err.join('')).toContain('value_smaller_than_min');
  });

  it('exits 2 on bad usage', async () => {
    const { io, err } = capture();
    expect(await runRunCli(['run', 'x.json'], io)).toBe(2);
    expect(err.join('')).toContain('--server URL is required');
    expect(() => parseRunArgs(['run', 'a', 'b', '--server', 'http://x'])).toThrow(/one FILE/);
  });

  it('draws a bounded bar', () => {
    expect(renderBar(5, 10, 'node 3', 10)).toBe('[#####-----]  50%  node 3  5/10');
    expect(renderBar(20, 10, 'n', 4)).toBe('[####] 100%  n  20/10');
  });
});
