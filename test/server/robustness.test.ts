/**
 * Arbitrary input on every route: the server answers (never hangs), answers 5xx only with the
 * catalogued JSON body, and keeps serving.
 */
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const POST_ROUTES = [
  '/prompt', '/queue', '/history', '/interrupt', '/free', '/settings', '/settings/k', '/users', '/userdata/f.json',
  '/userdata/f.json/move/g.json', '/upload/image', '/upload/mask', '/api/jobs/cancel', '/api/jobs/x/cancel',
];
const GET_ROUTES = [
  '/view', '/history', '/api/jobs', '/userdata', '/v2/userdata', '/models/checkpoints', '/experiment/models/loras',
  '/view_metadata/checkpoints', '/internal/files/output', '/object_info/x', '/settings/k', '/userdata/x',
];

const jsonish = fc.oneof(
  fc.json(),
  fc.string(),
  fc.constantFrom('', '{', 'null', '[]', '{"prompt":null}', '{"prompt":{"1":null}}', '{"prompt":{"1":{"class_type":5}}}', '{"delete":"x"}', '{"job_ids":[1]}', '{"number":"abc","prompt":{}}'),
);
const queryValue = fc.oneof(fc.string(), fc.constantFrom('..', '../..', '/etc/passwd', '%00', '-1', '1e9', 'a [temp]', '\u0000', 'x'.repeat(300)));

describe('arbitrary input', () => {
  it('POST bodies never produce an uncatalogued failure', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POST_ROUTES), jsonish, async (route, body) => {
        const res = await request(t.url).post(route).set('Content-Type', 'text/plain').send(body);
        expect(res.status).toBeGreaterThanOrEqual(200);
        if (res.status >= 500) expect(res.body?.error?.type ?? res.text, `${route} ${body}`).toBe('invalid_json');
      }),
      { numRuns: 150 },
    );
  });

  it('GET query strings never produce a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...GET_ROUTES), fc.dictionary(fc.constantFrom('filename', 'type', 'subfolder', 'preview', 'channel', 'dir', 'path', 'max_items', 'offset', 'limit', 'status', 'sort_by'), queryValue), async (route, query) => {
        const res = await request(t.url).get(route).query(query);
        expect(res.status, `${route} ${JSON.stringify(query)}`).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    expect((await request(t.url).get('/api/system_stats')).status).toBe(200);
  });
});
