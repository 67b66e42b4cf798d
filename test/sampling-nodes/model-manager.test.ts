/**
 * The model manager's caching rules with small in-memory parts (their `release` records what was
 * unloaded), plus one real MMDiT part: the same file is never loaded twice, concurrent loaders
 * share one load, least recently used idle parts go first, leased parts stay.
 */
import { describe, expect, it } from 'vitest';
import { ModelManager } from '../../nodes/models/model-manager.js';
import { mmditPart } from '../../nodes/models/mmdit-part.js';
import type { ModelPartSpec } from '../../nodes/node-api.js';
import { makeSamplingEnv, TINY_UNET } from './helpers.js';
import path from 'node:path';

function part(key: string, bytes: number, log: string[]): ModelPartSpec<{ key: string }> {
  return {
    key,
    label: `part ${key}`,
    async load() {
      log.push(`load ${key}`);
      await new Promise((r) => setImmediate(r));
      return { value: { key }, bytes, release: () => void log.push(`release ${key}`) };
    },
  };
}

describe('ModelManager', () => {
  it('shares one load between concurrent acquirers of the same key', async () => {
    const log: string[] = [];
    const m = new ModelManager({ budgetBytes: 100 });
    const [a, b] = await Promise.all([m.acquire(part('a', 10, log)), m.acquire(part('a', 10, log))]);
    expect(a.value).toBe(b.value);
    expect(log).toEqual(['load a']);
    expect(m.loadCount).toBe(1);
    expect(m.usage().parts).toEqual([{ key: 'a', label: 'part a', bytes: 10, leases: 2 }]);
  });

  it('evicts the least recently used idle parts to fit the budget', async () => {
    const log: string[] = [];
    const m = new ModelManager({ budgetBytes: 25 });
    (await m.acquire(part('a', 10, log))).release();
    (await m.acquire(part('b', 10, log))).release();
    (await m.acquire(part('a', 10, log))).release(); // touch a: b is now the oldest
    (await m.acquire(part('c', 10, log))).release();
    expect(log).toEqual(['load a', 'load b', 'load c', 'release b']);
    expect(m.usage().parts.map((p) => p.key)).toEqual(['a', 'c']);
    expect(m.usage().residentBytes).toBe(20);
  });

  it('never evicts a part in use, and unloadAll() frees only idle parts', async () => {
    const log: string[] = [];
    const m = new ModelManager({ budgetBytes: 5 });
    const held = await m.acquire(part('a', 10, log));
    (await m.acquire(part('b', 10, log))).release();
    expect(m.has('a')).toBe(true);
    expect(m.has('b')).toBe(false);
    expect(await m.unloadAll()).toBe(0);
    held.release();
    expect(m.has('a')).toBe(false); // over budget once released
    (await m.acquire(part('c', 1, log))).release();
    expect(await m.unloadAll()).toBe(1);
    expect(m.usage()).toEqual({ budgetBytes: 5, residentBytes: 0, parts: [] });
  });

  it('does not cache a failed load', async () => {
    const m = new ModelManager();
    let tries = 0;
    const failing: ModelPartSpec<number> = { key: 'x', label: 'x', load: async () => { tries++; throw new Error('broken file'); } };
    await expect(m.acquire(failing)).rejects.toThrow('broken file');
    await expect(m.acquire(failing)).rejects.toThrow('broken file');
    expect(tries).toBe(2);
  });

  it('loads a real MMDiT once per (file, precision) and sizes it by its weight cache', async () => {
    const { env, models } = makeSamplingEnv();
    const file = path.join(env.folders.searchRoots('diffusion_models')![0]!, TINY_UNET);
    const [x, y] = await Promise.all([models.acquire(mmditPart([file], 'fp8')), models.acquire(mmditPart([file], 'fp8'))]);
    expect(x.value).toBe(y.value);
    const fp32 = await models.acquire(mmditPart([file], 'fp32'));
    expect(models.loadCount).toBe(2);
    const [fp8Part, fp32Part] = models.usage().parts;
    expect(fp32Part!.bytes).toBeGreaterThan(2 * fp8Part!.bytes); // 4 vs ≈1 byte per block parameter
    for (const lease of [x, y, fp32]) lease.release();
    expect(await models.unloadAll()).toBe(2);
  });
});
