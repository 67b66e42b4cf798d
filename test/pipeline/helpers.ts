/**
 * Pipeline test helpers: run a prompt on a real server and collect its WebSocket messages, and read
 * the fixtures (ComfyUI's SD3.5 example pointed at the demo checkpoint).
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { TestSocket, type WsMessage } from '../server/helpers.js';

export const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'pipeline');

export function readFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

export interface PromptRun {
  promptId: string;
  messages: WsMessage[];
  history: Record<string, unknown> & { status: { status_str: string; messages: [string, Record<string, unknown>][] }; outputs: Record<string, { images?: { filename: string; subfolder: string; type: string }[] }> };
}

let clients = 0;

/** POSTs `body` to /prompt (client_id added) and waits for the prompt's end marker. */
export async function runPrompt(url: string, body: Record<string, unknown>): Promise<PromptRun> {
  const clientId = `pipeline-${process.pid}-${++clients}`;
  const ws = await TestSocket.open(url, `/ws?clientId=${clientId}`);
  try {
    const res = await request(url).post('/prompt').send({ ...body, client_id: clientId });
    if (res.status !== 200) throw new Error(`POST /prompt → ${res.status}: ${JSON.stringify(res.body)}`);
    const promptId = res.body.prompt_id as string;
    await ws.done(promptId);
    const hist = await request(url).get(`/history/${promptId}`);
    return { promptId, messages: ws.messages.filter((m) => !m.data['prompt_id'] || m.data['prompt_id'] === promptId), history: hist.body[promptId] };
  } finally {
    ws.close();
  }
}

/** Fetches an output image through /view and decodes it (real PNG decoding). */
export async function fetchImage(url: string, image: { filename: string; subfolder: string; type: string }): Promise<{ width: number; height: number; channels: number; pixels: Buffer; png: Buffer }> {
  const view = await request(url).get('/view').query(image).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  if (view.status !== 200) throw new Error(`/view ${image.filename} → ${view.status}`);
  const png = view.body as Buffer;
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, pixels: data, png };
}
