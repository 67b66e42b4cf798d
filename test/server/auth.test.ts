/**
 * Authentication: every mode (valid, expired, wrong audience, revoked key, wrong password,
 * missing credentials) over HTTP and the WebSocket, the route walk (every registered route
 * without credentials → 401), the start-up guard and the CLI.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../server/auth/credentials.js';
import { runCommand } from '../../server/cli.js';
import { createConfig } from '../../server/config.js';
import { startServer } from '../../server/server.js';
import { makeBaseDir, startTestServer, TestSocket, type TestServer } from './helpers.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const hs = (claims: Record<string, unknown>, opts: jwt.SignOptions = {}) =>
  jwt.sign(claims, SECRET, { algorithm: 'HS256', ...('exp' in claims ? {} : { expiresIn: 600 }), audience: 'comfy8', issuer: 'tests', ...opts });

/** The HTTP status of a WebSocket upgrade: 101 when it opened. */
function wsStatus(url: string, pathAndQuery: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<{ status: number; protocol?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + pathAndQuery, options.protocols ?? [], { headers: options.headers });
    ws.once('open', () => {
      const protocol = ws.protocol;
      ws.close();
      resolve({ status: 101, protocol });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

let t: TestServer;
let key: string;
let keyId: string;
let revokedKey: string;

beforeAll(async () => {
  const base = makeBaseDir();
  fs.writeFileSync(path.join(base, 'secret'), SECRET);
  const creds = new CredentialStore(path.join(base, 'user', 'comfy8-auth.json'));
  creds.addUser('alice', 'correct horse battery', 'user');
  creds.addUser('root', 'admin password 1', 'admin');
  ({ key, id: keyId } = creds.createKey('alice', 'ci'));
  const revoked = creds.createKey('alice');
  revokedKey = revoked.key;
  creds.revokeKey(revoked.id);
  t = await startTestServer({ authModes: ['basic', 'key', 'jwt'], jwtSecretFile: path.join(base, 'secret'), jwtAudience: 'comfy8', jwtIssuer: 'tests' }, { base });
});
afterAll(() => t.close());

describe('HTTP authentication', () => {
  it('answers 401 with a ComfyUI-shaped body and a challenge when credentials are missing', async () => {
    const res = await request(t.url).get('/api/system_stats');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Basic realm="comfy8"');
    expect(res.headers['www-authenticate']).toContain('Bearer');
    expect(res.body).toEqual({ error: { type: 'unauthorized', message: expect.stringContaining('no credentials'), details: expect.any(String), extra_info: {} }, node_errors: {} });
  });

  it('Basic: right password in, wrong password or unknown user out', async () => {
    expect((await request(t.url).get('/api/system_stats').set('Authorization', basic('alice', 'correct horse battery'))).status).toBe(200);
    const wrong = await request(t.url).get('/api/system_stats').set('Authorization', basic('alice', 'wrong'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toContain('wrong user name or password');
    expect((await request(t.url).get('/api/system_stats').set('Authorization', basic('mallory', 'x'))).status).toBe(401);
  });

  it('API keys: header and ?token= in; revoked, altered and unknown keys out; revocation applies at once', async () => {
    expect((await request(t.url).get('/queue').set('Authorization', `Bearer ${key}`)).status).toBe(200);
    expect((await request(t.url).get(`/queue?token=${encodeURIComponent(key)}`)).status).toBe(200);
    const revoked = await request(t.url).get('/queue').set('Authorization', `Bearer ${revokedKey}`);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.message).toContain('revoked');
    expect((await request(t.url).get('/queue').set('Authorization', `Bearer ${key.slice(0, -2)}xx`)).status).toBe(401);
    // A second key, revoked through the CLI while the server runs.
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: () => {}, readStdin: () => '' };
    expect(runCommand(['key', 'create', '--user', 'alice', '--base-directory', t.base], io)).toBe(0);
    const fresh = out[0]!;
    expect((await request(t.url).get('/queue').set('Authorization', `Bearer ${fresh}`)).status).toBe(200);
    const id = /^c8k_([0-9a-f]+)_/.exec(fresh)![1]!;
    expect(runCommand(['key', 'revoke', id, '--base-directory', t.base], io)).toBe(0);
    expect((await request(t.url).get('/queue').set('Authorization', `Bearer ${fresh}`)).status).toBe(401);
    expect(keyId).toMatch(/^[0-9a-f]{12}$/);
  });

  it('JWT HS256: valid in; expired, not yet valid, wrong audience, wrong issuer, wrong secret, no exp out', async () => {
    const get = (token: string) => request(t.url).get('/api/queue').set('Authorization', `Bearer ${token}`);
    expect((await get(hs({ sub: 'bob' }))).status).toBe(200);
    const expired = await get(hs({ sub: 'bob', exp: Math.floor(Date.now() / 1000) - 10 }));
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toContain('jwt expired');
    expect((await get(hs({ sub: 'bob' }, { notBefore: 3600 }))).status).toBe(401);
    const aud = await get(hs({ sub: 'bob' }, { audience: 'someone-else' }));
    expect(aud.status).toBe(401);
    expect(aud.body.error.message).toContain('audience');
    expect((await get(hs({ sub: 'bob' }, { issuer: 'elsewhere' }))).status).toBe(401);
    expect((await get(jwt.sign({ sub: 'bob' }, `${SECRET}-other`, { expiresIn: 600, audience: 'comfy8', issuer: 'tests' }))).status).toBe(401);
    expect((await get(jwt.sign({ sub: 'bob' }, SECRET, { audience: 'comfy8', issuer: 'tests' }))).status).toBe(401);
    expect((await get(hs({ sub: '../etc' }))).status).toBe(401);
    // alg none is never accepted
    expect((await get(jwt.sign({ sub: 'bob', aud: 'comfy8', iss: 'tests', exp: 9e9 }, '', { algorithm: 'none' }))).status).toBe(401);
  });

  it('the CLI mints tokens the server accepts', async () => {
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: () => {}, readStdin: () => '' };
    const status = runCommand(['token', '--user', 'carol', '--role', 'admin', '--secret-file', path.join(t.base, 'secret'), '--audience', 'comfy8', '--issuer', 'tests', '--expires-in', '5m'], io);
    expect(status).toBe(0);
    expect((await request(t.url).get('/api/queue').set('Authorization', `Bearer ${out[0]}`)).status).toBe(200);
    expect(runCommand(['token', '--user', 'carol'], io)).toBe(2);
  });
});

describe('WebSocket authentication', () => {
  it('refuses an upgrade without or with bad credentials (401), accepts Basic, ?token= and the bearer subprotocol', async () => {
    expect((await wsStatus(t.url, '/ws')).status).toBe(401);
    expect((await wsStatus(t.url, '/ws', { headers: { Authorization: basic('alice', 'nope') } })).status).toBe(401);
    expect((await wsStatus(t.url, `/ws?token=${encodeURIComponent(revokedKey)}`)).status).toBe(401);
    expect((await wsStatus(t.url, `/ws?token=${hs({ sub: 'bob' }, { audience: 'other' })}`)).status).toBe(401);
    expect((await wsStatus(t.url, `/ws?token=${hs({ sub: 'bob', exp: 1 })}`)).status).toBe(401);
    expect((await wsStatus(t.url, '/api/ws', { headers: { Authorization: basic('alice', 'correct horse battery') } })).status).toBe(101);
    expect((await wsStatus(t.url, `/ws?token=${encodeURIComponent(key)}`)).status).toBe(101);
    expect((await wsStatus(t.url, `/ws?clientId=abc&token=${hs({ sub: 'bob' })}`)).status).toBe(101);
    const sub = await wsStatus(t.url, '/ws', { protocols: [`bearer.${hs({ sub: 'bob' })}`, 'comfy'] });
    expect(sub).toEqual({ status: 101, protocol: 'comfy' });
    expect((await wsStatus(t.url, '/ws', { protocols: [`bearer.${revokedKey}`] })).status).toBe(401);
    const socket = await TestSocket.open(t.url, `/ws?token=${encodeURIComponent(key)}`);
    expect((await socket.waitFor((m) => m.type === 'status')).data['sid']).toEqual(expect.any(String));
    socket.close();
  });
});

function concretePath(route: string): string {
  return route.replace(/:(\w+)/g, 'x').replace(/\*(\w+)/g, 'x').replace(/[{}]/g, '');
}

describe('route coverage', () => {
  it('every registered route, under every prefix, answers 401 without credentials', async () => {
    const seen: string[] = [];
    for (const { prefixes, router } of t.server.app.mounts) {
      for (const layer of router.stack as Array<{ route?: { path: string; methods: Record<string, boolean> } }>) {
        if (!layer.route) continue;
        for (const method of Object.keys(layer.route.methods)) {
          for (const prefix of prefixes) seen.push(`${method.toUpperCase()} ${prefix}${concretePath(layer.route.path)}`);
        }
      }
    }
    expect(seen.length).toBeGreaterThan(60);
    // Static files and unknown paths are covered as well.
    seen.push('GET /index.html', 'GET /scripts/app.js', 'GET /no/such/route');
    for (const entry of seen) {
      const [method, url] = entry.split(' ') as [string, string];
      const res = await request(t.url)[method.toLowerCase() as 'get'](url);
      expect(res.status, entry).toBe(401);
      expect(res.headers['www-authenticate'], entry).toContain('realm="comfy8"');
      expect(res.body.error?.type, entry).toBe('unauthorized');
    }
  });
});

describe('start-up guard', () => {
  it('refuses a non-loopback address without auth unless --allow-unauthenticated', async () => {
    const base = makeBaseDir();
    try {
      await expect(startServer(createConfig({ listen: ['0.0.0.0'], port: 0, baseDirectory: base }))).rejects.toThrow(/--allow-unauthenticated/);
      const ok = await startServer(createConfig({ listen: ['0.0.0.0'], port: 0, baseDirectory: base, allowUnauthenticated: true, persistQueue: false }), { plugins: false });
      await ok.close();
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('refuses --auth jwt without a key, and a short secret', async () => {
    const base = makeBaseDir();
    try {
      await expect(startServer(createConfig({ port: 0, baseDirectory: base, authModes: ['jwt'] }), { plugins: false })).rejects.toThrow(/--jwt-secret-file/);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('RS256 / ES256 public keys', () => {
  it('accepts tokens signed by the private key, refuses HS256 tokens signed with the public key', async () => {
    const base = makeBaseDir();
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    fs.writeFileSync(path.join(base, 'pub.pem'), pem);
    const s = await startTestServer({ authModes: ['jwt'], jwtPublicKeyFile: path.join(base, 'pub.pem') }, { base });
    try {
      const good = jwt.sign({ sub: 'dave' }, privateKey, { algorithm: 'RS256', expiresIn: 60 });
      expect((await request(s.url).get('/queue').set('Authorization', `Bearer ${good}`)).status).toBe(200);
      const confused = jwt.sign({ sub: 'dave' }, pem, { algorithm: 'HS256', expiresIn: 60 });
      expect((await request(s.url).get('/queue').set('Authorization', `Bearer ${confused}`)).status).toBe(401);
      expect((await request(s.url).get('/queue').set('Authorization', basic('dave', 'x'))).status).toBe(401);
    } finally {
      await s.close();
    }
  });
});

describe('CLI users and keys', () => {
  it('adds, lists and removes users; removing a user revokes their keys', () => {
    const base = makeBaseDir();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), readStdin: () => 'from stdin pw\n' };
    try {
      expect(runCommand(['user', 'add', 'erin', '--password-stdin', '--role', 'admin', '--base-directory', base], io)).toBe(0);
      expect(runCommand(['user', 'add', '__sys', '--password', 'long enough pw', '--base-directory', base], io)).toBe(2);
      expect(runCommand(['user', 'add', 'x', '--password', 'short', '--base-directory', base], io)).toBe(2);
      expect(runCommand(['key', 'create', '--user', 'erin', '--base-directory', base], io)).toBe(0);
      out.length = 0;
      expect(runCommand(['user', 'list', '--base-directory', base], io)).toBe(0);
      expect(out[0]).toMatch(/^erin\tadmin\t/);
      const creds = new CredentialStore(path.join(base, 'user', 'comfy8-auth.json'));
      expect(creds.checkPassword('erin', 'from stdin pw')).toBe('admin');
      const raw = fs.readFileSync(creds.file, 'utf8');
      expect(raw).not.toContain('from stdin pw');
      expect(raw).not.toContain('c8k_');
      expect(fs.statSync(creds.file).mode & 0o077).toBe(0);
      expect(runCommand(['user', 'remove', 'erin', '--base-directory', base], io)).toBe(0);
      expect(creds.keys().every((k) => k.revoked !== null)).toBe(true);
      expect(runCommand(['key', 'revoke', 'ffffffffffff', '--base-directory', base], io)).toBe(2);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
