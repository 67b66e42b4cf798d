#!/usr/bin/env node
// `node scripts/with-huge-pages.mjs COMMAND [ARGS…]`: runs COMMAND with glibc's malloc asking for
// transparent huge pages (and `npm start` starts the server the same way, scripts/start.mjs).
//
// Why: onnxruntime runs with its memory arena off (engine/runtime/session.ts), so every run
// allocates and frees its large activations and dequantised weights, and each first touch of a
// fresh 4 KiB page is slow on virtual machines like ours: 256 MB of new memory took 1.4 s here,
// 33–53 ms with huge pages. On the SD3.5-Medium-shaped MMDiT that made a 512² step's plain-MatMul
// baseline 52 → 134 GFLOP/s (bench/mmdit). glibc reads the tunable only at process start, hence a
// launcher; the kernel honours it in THP 'madvise' mode (the default) and 'always', and ignores
// it when THP is off — the command then runs as before.
import { spawn } from 'node:child_process';

const HUGE_PAGES = 'glibc.malloc.hugetlb=1';

/** `env` with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES (other tunables kept). */
export function withHugePages(env = process.env) {
  const current = env.GLIBC_TUNABLES ?? '';
  if (/(^|:)glibc\.malloc\.hugetlb=/.test(current)) return { ...env };
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${HUGE_PAGES}` : HUGE_PAGES };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error('usage: node scripts/with-huge-pages.mjs COMMAND [ARGS…]');
    process.exit(2);
  }
  const child = spawn(command, args, { stdio: 'inherit', env: withHugePages() });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('error', (error) => {
    console.error(`with-huge-pages: cannot run ${command}: ${error.message}`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
