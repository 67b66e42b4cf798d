import fs from 'node:fs';
import fc from 'fast-check';
import { test } from 'vitest';
import { httpJson, startTestServer, keepAliveAgent } from './compat-helpers.js';
import { bigBodies, deepNesting, extremeNesting, malformedJson, nearValidPrompt, randomBody, randomJson } from './fuzz-arbitraries.js';

test('debug', { timeout: 600_000 }, async () => {
  const t = await startTestServer();
  const out: string[] = [];
  const groups = { nearValidPrompt, randomJson, randomBody, malformedJson, deepNesting, bigBodies, extremeNesting } as const;
  for (const [name, arb] of Object.entries(groups)) {
    const n = name === 'extremeNesting' ? 12 : name === 'bigBodies' ? 100 : 600;
    const cases = fc.sample(arb as fc.Arbitrary<{label: string; body: Buffer}>, { seed: 7, numRuns: n });
    const counts: Record<string, number> = {};
    for (const c of cases) {
      let status: number; let body = '';
      try { const r = await httpJson(`${t.url}/prompt`, { body: c.body, agent: false }); status = r.status; body = r.body.toString().slice(0, 300); }
      catch (e) { status = -1; body = String(e); }
      counts[status] = (counts[status] ?? 0) + 1;
      if (status !== 200 && status !== 400) out.push(`${name} ${c.label} → ${status} ${body} :: ${c.body.toString().slice(0, 200)}`);
    }
    out.push(`== ${name} ${JSON.stringify(counts)}`);
  }
  fs.writeFileSync('/tmp/compat/debug.txt', out.join('\n'));
  await t.close();
});
