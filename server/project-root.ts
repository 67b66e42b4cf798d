/**
 * Finds the project root (the folder with Comfy8's package.json) from this module's location, so
 * the server works from `server/` (tsx) and from `dist/server/` (built) alike.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && /"name":\s*"comfy8"/.test(fs.readFileSync(pkg, 'utf8'))) return (cached = dir);
    const parent = path.dirname(dir);
    if (parent === dir) return (cached = process.cwd());
    dir = parent;
  }
}

/** The version of a dependency (or of Comfy8 itself when `name` is omitted). */
export function readPackageVersion(name?: string): string | null {
  const file = name ? path.join(projectRoot(), 'node_modules', name, 'package.json') : path.join(projectRoot(), 'package.json');
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}
