#!/usr/bin/env node
// `npm start -- [ComfyUI flags]` and the `comfy8` command: builds the TypeScript sources if needed
// (tsc is incremental, so an up-to-date build costs about a second), then runs server/main with the
// arguments passed through (`comfy8 convert FILE`, `comfy8 run FILE --server URL`, `comfy8 user …`).
import { spawnSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { withHugePages } from './with-huge-pages.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error('comfy8: build failed (see the TypeScript errors above)');
  process.exit(build.status ?? 1);
}

// The built-in web UI (web/dist/, see web/README.md); the server still starts if this fails.
try {
  const { buildWeb } = await import('./build-web.mjs');
  await buildWeb();
} catch (err) {
  console.warn(`comfy8: the web UI was not built: ${err instanceof Error ? err.message : err}`);
}

// The caller's directory stays the working directory: it is the default --base-directory (as
// ComfyUI's install folder is; `npm start` runs in the project root) and where `comfy8 convert
// FILE` / `comfy8 run FILE` resolve their paths. Huge pages: see with-huge-pages.mjs.
const child = spawn(process.execPath, [path.join(root, 'dist', 'server', 'main.js'), ...process.argv.slice(2)], {
  cwd: process.cwd(),
  stdio: 'inherit',
  env: withHugePages(),
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
