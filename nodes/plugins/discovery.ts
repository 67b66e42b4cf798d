/**
 * Finding packs in the `custom_nodes` roots (the base directory's `custom_nodes/` and every
 * `custom_nodes` path of extra_model_paths.yaml), as ComfyUI's `init_external_custom_nodes` does:
 * every folder and every single `.js`/`.mjs`/`.cjs`/`.ts`/`.mts` file is a pack; names ending in
 * `.disabled` (ComfyUI-Manager's switch), hidden names, `node_modules` and `__pycache__` are not.
 * With `--disable-all-custom-nodes` only packs named by `--whitelist-custom-nodes` load (the
 * folder or file name as listed, or the pack name without extension).
 *
 * A folder's entry: package.json `exports` (`"."`, conditions `import`/`node`/`default`), then
 * `main`, then `index.js`, `index.mjs`, `index.ts`.
 */
import fs from 'node:fs';
import path from 'node:path';

export const PACK_FILE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts'];
const INDEX_FILES = ['index.js', 'index.mjs', 'index.ts'];

export interface PackCandidate {
  /** The pack name: folder name, or file name without extension (ComfyUI's module name). */
  name: string;
  /** The folder or file as found in the root. */
  path: string;
  /** The folder WEB_DIRECTORY is relative to. */
  dir: string;
  /** The entry module, or null with `problem` saying why there is none. */
  entry: string | null;
  problem?: string;
}

export interface DiscoveryOptions {
  roots: readonly string[];
  disableAll: boolean;
  whitelist: readonly string[];
  /** Told about each pack skipped by the disable/whitelist rule. */
  onSkip?: (entryName: string, reason: string) => void;
}

function isPackFile(name: string): boolean {
  return PACK_FILE_EXTENSIONS.includes(path.extname(name)) && !/\.d\.[mc]?ts$/.test(name);
}

function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules' || name === '__pycache__' || name.endsWith('.disabled');
}

function pickCondition(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const conditions = value as Record<string, unknown>;
  for (const key of ['import', 'node', 'default']) {
    const picked = pickCondition(conditions[key]);
    if (picked) return picked;
  }
  return undefined;
}

function entryFromPackageJson(dir: string): { entry?: string; problem?: string } {
  const file = path.join(dir, 'package.json');
  if (!fs.existsSync(file)) return {};
  let pkg: { exports?: unknown; main?: unknown };
  try {
    pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof pkg;
  } catch (err) {
    return { problem: `package.json is not valid JSON: ${(err as Error).message}` };
  }
  const exp = pkg.exports;
  const fromExports = typeof exp === 'object' && exp !== null && '.' in exp ? pickCondition((exp as Record<string, unknown>)['.']) : pickCondition(exp);
  const declared = fromExports ?? (typeof pkg.main === 'string' ? pkg.main : undefined);
  if (!declared) return {};
  const entry = path.resolve(dir, declared);
  if (!fs.existsSync(entry)) return { problem: `package.json names the entry '${declared}', which does not exist` };
  return { entry };
}

function folderCandidate(name: string, dir: string): PackCandidate {
  const fromPkg = entryFromPackageJson(dir);
  if (fromPkg.problem) return { name, path: dir, dir, entry: null, problem: fromPkg.problem };
  const entry = fromPkg.entry ?? INDEX_FILES.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (entry) return { name, path: dir, dir, entry };
  return { name, path: dir, dir, entry: null, problem: `no entry module: add package.json "main" or one of ${INDEX_FILES.join(', ')}` };
}

function listRoot(root: string): fs.Dirent[] {
  try {
    return fs.readdirSync(root, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

function isDirectory(full: string): boolean {
  try {
    return fs.statSync(full).isDirectory();
  } catch {
    return false;
  }
}

/** Every pack candidate of every root, in root order then name order. */
export function discoverPacks(opts: DiscoveryOptions): PackCandidate[] {
  const out: PackCandidate[] = [];
  const seenRoots = new Set<string>();
  for (const root of opts.roots) {
    const real = fs.existsSync(root) ? fs.realpathSync(root) : null;
    if (!real || seenRoots.has(real)) continue;
    seenRoots.add(real);
    for (const dirent of listRoot(real)) {
      const full = path.join(root, dirent.name);
      if (isIgnoredName(dirent.name)) continue;
      const folder = isDirectory(full);
      if (!folder && !isPackFile(dirent.name)) continue;
      const name = folder ? dirent.name : dirent.name.slice(0, -path.extname(dirent.name).length);
      if (opts.disableAll && !opts.whitelist.includes(dirent.name) && !opts.whitelist.includes(name)) {
        opts.onSkip?.(dirent.name, 'due to disable_all_custom_nodes and whitelist_custom_nodes');
        continue;
      }
      out.push(folder ? folderCandidate(name, full) : { name, path: full, dir: root, entry: full });
    }
  }
  return out;
}
