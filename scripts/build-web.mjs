#!/usr/bin/env node
// Bundles the web UI (web/src/main.ts + litegraph from node_modules + CSS) into web/dist/ with
// esbuild, which is already installed (tsx and vitest depend on it). No network, no CDN.
//   node scripts/build-web.mjs            build once
//   node scripts/build-web.mjs --watch    rebuild on change
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function webBuildOptions() {
  return {
    absWorkingDir: root,
    entryPoints: { app: path.join(root, 'web', 'src', 'main.ts') },
    outdir: path.join(root, 'web', 'dist'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    minify: false,
    loader: { '.json': 'json' },
    logLevel: 'warning',
  };
}

export async function buildWeb({ watch = false } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('comfy8: esbuild is missing (it comes with the dev dependencies: run `npm ci`), so the web UI cannot be built');
  }
  if (watch) {
    const ctx = await esbuild.context(webBuildOptions());
    await ctx.watch();
    console.log('comfy8: watching web/src for changes');
    return;
  }
  // Each file is written under a temporary name and renamed, so a page loading while another
  // build runs (parallel test files) never reads a half-written bundle.
  const result = await esbuild.build({ ...webBuildOptions(), write: false });
  for (const file of result.outputFiles) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildWeb({ watch: process.argv.includes('--watch') }).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
