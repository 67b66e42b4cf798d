/**
 * scripts/with-huge-pages.mjs: the launcher `npm start`, `npm test` and the benchmarks go through
 * adds glibc.malloc.hugetlb=1 to GLIBC_TUNABLES (keeping any others), passes arguments and the
 * exit status through, and says so when the command cannot run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without type declarations
import { withHugePages } from '../../scripts/with-huge-pages.mjs';

const launcher = path.resolve('scripts/with-huge-pages.mjs');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });

describe('with-huge-pages', () => {
  it('adds the tunable once and keeps the others', () => {
    expect(withHugePages({}).GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=1');
    expect(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.check=0' }).GLIBC_TUNABLES).toBe('glibc.malloc.check=0:glibc.malloc.hugetlb=1');
    expect(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=0'); // a user's own choice wins
    expect(withHugePages({ A: '1' }).A).toBe('1');
  });

  it('runs the command with it, passing arguments and the exit status through', () => {
    const r = run([process.execPath, '-e', 'console.log(process.env.GLIBC_TUNABLES, process.argv[1]); process.exit(7)', 'arg one'], { GLIBC_TUNABLES: 'glibc.malloc.check=0' });
    expect(r.stdout.trim()).toBe('glibc.malloc.check=0:glibc.malloc.hugetlb=1 arg one');
    expect(r.status).toBe(7);
  });

  it('a missing or unrunnable command is an error, not a hang', () => {
    expect(run([]).status).toBe(2);
    const r = run(['comfy8-no-such-command']);
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/cannot run comfy8-no-such-command/);
  });
});
