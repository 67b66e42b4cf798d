/**
 * Loading every custom node pack into a registry, as ComfyUI's `load_custom_node` /
 * `init_external_custom_nodes` do: each pack imports in its own try (a pack that fails never
 * stops the others or the server), its nodes are checked one by one (a bad declaration drops
 * that node only), and the start-up log ends with ComfyUI's summary:
 *
 *   Import times for custom nodes:
 *      0.0 seconds: /srv/comfy/custom_nodes/comfy8-latent-tools
 *      0.1 seconds (IMPORT FAILED): /srv/comfy/custom_nodes/broken-pack
 *
 * Node names already taken are not replaced: a built-in's name is skipped (ComfyUI's `ignore`
 * set), and of two packs declaring one name the first (in load order) keeps it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger, NodeEnvironment } from '../node-api.js';
import type { NodeRegistry } from '../registry.js';
import { adaptDeclaration } from './adapt-node.js';
import { readDeclaration, type NanPolicy } from './declaration.js';
import { discoverPacks, type PackCandidate } from './discovery.js';
import { importPackEntry } from './import-module.js';

export interface PluginLoadOptions {
  /** The `custom_nodes` search roots. */
  roots: readonly string[];
  registry: NodeRegistry;
  log: Logger;
  /** `--disable-all-custom-nodes`. */
  disableAll?: boolean;
  /** `--whitelist-custom-nodes`: packs loaded even with disableAll. */
  whitelist?: readonly string[];
  /** Default NaN/Inf policy of plugin outputs (a node's NAN_POLICY wins); default `fail`. */
  nanPolicy?: NanPolicy;
  /** Copy tensors before a plugin sees them; default true. */
  protectInputs?: boolean;
}

export interface PackReport {
  name: string;
  path: string;
  /** Imported and exported NODE_CLASS_MAPPINGS (ComfyUI's success). */
  ok: boolean;
  seconds: number;
  /** Node names registered from this pack. */
  nodes: string[];
  /** Why the import failed, or which nodes were dropped and why. */
  problems: string[];
  webDirectory?: string;
}

export interface PluginLoadResult {
  packs: PackReport[];
  /** Pack name → absolute WEB_DIRECTORY (served at `/extensions/<pack>/…`). */
  webDirs: Record<string, string>;
}

type PackModule = Record<string, unknown>;

/** An ESM pack exports the names; a CommonJS pack (or `export default {...}`) has them on default. */
function exportsOf(mod: PackModule): PackModule {
  if ('NODE_CLASS_MAPPINGS' in mod || 'WEB_DIRECTORY' in mod) return mod;
  const fallback = mod['default'];
  return typeof fallback === 'object' && fallback !== null ? (fallback as PackModule) : mod;
}

function readWebDirectory(candidate: PackCandidate, exported: unknown, report: PackReport, log: Logger): void {
  if (exported === undefined || exported === null) return;
  const dir = typeof exported === 'string' ? path.resolve(candidate.dir, exported) : null;
  if (dir && fs.existsSync(dir) && fs.statSync(dir).isDirectory()) {
    report.webDirectory = dir;
    return;
  }
  const problem = `WEB_DIRECTORY ${JSON.stringify(exported)} is not a folder of the pack; its frontend files are not served`;
  report.problems.push(problem);
  log.warn(`custom_nodes.${candidate.name}: ${problem}`);
}

interface RegisterContext {
  opts: PluginLoadOptions;
  builtins: ReadonlySet<string>;
  owners: Map<string, string>;
}

function registerNodes(candidate: PackCandidate, mod: PackModule, report: PackReport, rc: RegisterContext): void {
  const { opts } = rc;
  const mappings = mod['NODE_CLASS_MAPPINGS'] as Record<string, unknown>;
  const displayNames = (mod['NODE_DISPLAY_NAME_MAPPINGS'] ?? {}) as Record<string, unknown>;
  for (const [name, cls] of Object.entries(mappings)) {
    let problem: string | null = null;
    if (rc.builtins.has(name)) problem = `custom_nodes.${candidate.name}: node '${name}' skipped: a built-in node has that name`;
    else if (opts.registry.has(name)) problem = `custom_nodes.${candidate.name}: node '${name}' skipped: pack '${rc.owners.get(name) ?? '?'}' already defines it`;
    else {
      try {
        const decl = readDeclaration(candidate.name, name, cls, displayNames[name]);
        opts.registry.register(adaptDeclaration(decl, { nanPolicy: opts.nanPolicy ?? 'fail', protectInputs: opts.protectInputs ?? true, log: opts.log }));
        rc.owners.set(name, candidate.name);
        report.nodes.push(name);
      } catch (err) {
        problem = (err as Error).message;
      }
    }
    if (problem) {
      report.problems.push(problem);
      opts.log.warn(problem);
    }
  }
}

async function loadPack(candidate: PackCandidate, rc: RegisterContext): Promise<PackReport> {
  const report: PackReport = { name: candidate.name, path: candidate.path, ok: false, seconds: 0, nodes: [], problems: [] };
  const log = rc.opts.log;
  const fail = (problem: string, detail?: unknown) => {
    report.problems.push(problem);
    if (detail instanceof Error && detail.stack) log.warn(detail.stack);
    log.warn(`Cannot import ${candidate.path} module for custom nodes: ${problem}`);
    return report;
  };
  log.debug(`Trying to load custom node ${candidate.path}`);
  if (!candidate.entry) return fail(candidate.problem ?? 'no entry module');
  let mod: PackModule;
  try {
    mod = exportsOf(await importPackEntry(candidate.entry));
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err), err);
  }
  readWebDirectory(candidate, mod['WEB_DIRECTORY'], report, log);
  const mappings = mod['NODE_CLASS_MAPPINGS'];
  if (mappings === undefined || mappings === null) {
    log.warn(`Skip ${candidate.path} module for custom nodes due to the lack of NODE_CLASS_MAPPINGS.`);
    report.problems.push('exports no NODE_CLASS_MAPPINGS');
    return report;
  }
  if (typeof mappings !== 'object' || Array.isArray(mappings)) return fail(`NODE_CLASS_MAPPINGS must be an object of node name → node class, got ${Array.isArray(mappings) ? 'a list' : typeof mappings}`);
  registerNodes(candidate, mod, report, rc);
  report.ok = true;
  return report;
}

/** ComfyUI's summary lines, fastest first. */
export function importTimesSummary(packs: readonly PackReport[]): string[] {
  const sorted = [...packs].sort((a, b) => a.seconds - b.seconds || (a.path < b.path ? -1 : 1));
  return sorted.map((p) => `${p.seconds.toFixed(1).padStart(6)} seconds${p.ok ? '' : ' (IMPORT FAILED)'}: ${p.path}`);
}

export async function loadPlugins(opts: PluginLoadOptions): Promise<PluginLoadResult> {
  const { log } = opts;
  const candidates = discoverPacks({
    roots: opts.roots,
    disableAll: opts.disableAll ?? false,
    whitelist: opts.whitelist ?? [],
    onSkip: (name, reason) => log.info(`Skipping ${name} ${reason}`),
  });
  const rc: RegisterContext = { opts, builtins: new Set(opts.registry.names()), owners: new Map() };
  const packs: PackReport[] = [];
  const webDirs: Record<string, string> = {};
  for (const candidate of candidates) {
    const started = performance.now();
    const report = packs.some((p) => p.name === candidate.name)
      ? { name: candidate.name, path: candidate.path, ok: false, seconds: 0, nodes: [], problems: [`a pack named '${candidate.name}' is already loaded from another custom_nodes root`] }
      : await loadPack(candidate, rc);
    report.seconds = (performance.now() - started) / 1000;
    // As ComfyUI: a pack without NODE_CLASS_MAPPINGS (frontend-only) still serves its web files.
    if (report.webDirectory) webDirs[report.name] = report.webDirectory;
    packs.push(report);
  }
  if (packs.length > 0) {
    log.info('\nImport times for custom nodes:');
    for (const line of importTimesSummary(packs)) log.info(line);
    log.info('');
  }
  return { packs, webDirs };
}

/** Loader settings from the server's environment: roots from the folder layout. */
export function customNodeRoots(env: Pick<NodeEnvironment, 'folders'>): string[] {
  return env.folders.searchRoots('custom_nodes') ?? [];
}
