import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { startTestServer } from './helpers.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('listening', () => {
  it('binds every --listen address on one port', async () => {
    const t = await startTestServer({ listen: ['127.0.0.1', '127.0.0.2'] });
    try {
      expect((await request(`http://127.0.0.1:${t.server.port}`).get('/prompt')).status).toBe(200);
      expect((await request(`http://127.0.0.2:${t.server.port}`).get('/prompt')).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it.skipIf(!hasOpenssl())('serves HTTPS with --tls-keyfile and --tls-certfile', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-tls-'));
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const t = await startTestServer({ tls: { keyFile, certFile } });
    try {
      expect(t.server.url).toBe(`https://127.0.0.1:${t.server.port}`);
      const body = await new Promise<string>((resolve, reject) => {
        https.get(`https://127.0.0.1:${t.server.port}/api/prompt`, { rejectUnauthorized: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(JSON.parse(body)).toEqual({ exec_info: { queue_remaining: 0 } });
    } finally {
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
