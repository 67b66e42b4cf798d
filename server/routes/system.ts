/**
 * `/object_info`, `/system_stats`, `/features`, `/embeddings`, `/extensions` (spec §1.5, §1.7, §1.8).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Router } from 'express';
import type { ServerContext } from '../context.js';
import type { ModelStoreUsage } from '../../nodes/node-api.js';
import { readPackageVersion } from '../project-root.js';

/** The ComfyUI release whose protocol this server speaks (reported as `comfyui_version`). */
export const COMFYUI_COMPAT_VERSION = '0.3.60';

export function registerSystemRoutes(router: Router, ctx: ServerContext): void {
  router.get('/object_info', (_req, res) => {
    res.json(ctx.registry.objectInfo(ctx.env));
  });
  router.get('/object_info/:nodeClass', (req, res) => {
    res.json(ctx.registry.objectInfoFor(String(req.params['nodeClass']), ctx.env));
  });
  router.get('/system_stats', (_req, res) => {
    res.json(systemStats(ctx));
  });
  router.get('/features', (_req, res) => {
    res.json(ctx.features());
  });
  router.get('/embeddings', (_req, res) => {
    res.json(ctx.folders.listFiles('embeddings').map((f) => f.slice(0, f.length - path.extname(f).length)));
  });
  router.get('/extensions', (_req, res) => {
    res.json(extensionScripts(ctx));
  });
}

/** Available memory as psutil reports it (MemAvailable), falling back to os.freemem(). */
export function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return os.freemem();
}

function systemStats(ctx: ServerContext): Record<string, unknown> {
  const ramTotal = os.totalmem();
  const ramFree = availableMemory();
  const ort = readPackageVersion('onnxruntime-node');
  return {
    system: {
      os: process.platform,
      ram_total: ramTotal,
      ram_free: ramFree,
      comfyui_version: COMFYUI_COMPAT_VERSION,
      comfy_package_versions: {},
      python_version: `Node.js ${process.version} (comfy8 ${ctx.version ?? readPackageVersion() ?? 'dev'})`,
      pytorch_version: `onnxruntime-node ${ort ?? 'unknown'}`,
      embedded_python: false,
      deploy_environment: 'comfy8',
      argv: [...ctx.config.argv],
    },
    devices: [
      { name: 'cpu', type: 'cpu', index: null, vram_total: ramTotal, vram_free: ramFree, torch_vram_total: ramTotal, torch_vram_free: ramFree },
    ],
    // Comfy8 extra: loaded model parts (nodes/models/model-manager.ts); clients ignore unknown keys.
    ...(ctx.env.models ? { comfy8_models: modelUsage(ctx.env.models.usage()) } : {}),
  };
}

/** JS files under `<web root>/extensions/` and each pack's WEB_DIRECTORY, as import URLs. */
function extensionScripts(ctx: ServerContext): string[] {
  const out: string[] = [];
  for (const rel of jsFiles(path.join(ctx.webRoot, 'extensions'))) out.push(`/extensions/${rel}`);
  for (const [pack, dir] of Object.entries(ctx.extensionWebDirs ?? {})) {
    for (const rel of jsFiles(dir)) out.push(`/extensions/${encodeURIComponent(pack)}/${rel}`);
  }
  return out;
}

function jsFiles(root: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(root, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries.filter((e) => e.endsWith('.js') && fs.statSync(path.join(root, e)).isFile()).map((e) => e.split(path.sep).join('/')).sort();
}

function modelUsage(u: ModelStoreUsage): Record<string, unknown> {
  return { budget_bytes: u.budgetBytes, resident_bytes: u.residentBytes, parts: u.parts.map((p) => ({ key: p.key, label: p.label, bytes: p.bytes, in_use: p.leases })) };
}
