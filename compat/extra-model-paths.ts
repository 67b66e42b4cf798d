/**
 * `extra_model_paths.yaml` (spec §5.3), as ComfyUI's `utils/extra_config.py` reads it:
 *
 *   comfyui:
 *     base_path: ~/ComfyUI/          # ~ and $VARS expanded; relative → relative to the YAML's dir
 *     is_default: true               # these roots go first (default save roots)
 *     checkpoints: models/checkpoints/
 *     loras: |                       # a block: one path per non-empty line
 *       models/loras/
 *       models/lycoris/
 *     custom_nodes: custom_nodes/    # unknown keys make new folder types (no extension filter)
 *
 * Legacy keys (`clip`, `unet`) are mapped by `FolderPaths.addRoot`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { FolderPaths } from './folder-paths.js';

export interface ExtraPathEntry {
  section: string;
  folder: string;
  path: string;
  isDefault: boolean;
}

export class ExtraModelPathsError extends Error {}

/** Expands `~` and `$VAR` / `${VAR}` as Python's expanduser + expandvars (unknown vars kept). */
export function expandPath(p: string, env: Readonly<Record<string, string | undefined>> = process.env, home = os.homedir()): string {
  let out = p;
  if (out === '~' || out.startsWith('~/')) out = home + out.slice(1);
  return out.replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? m);
}

/** The entries a YAML document declares, resolved to absolute paths. Pure (no file access). */
export function parseExtraModelPaths(yamlText: string, yamlPath: string, env = process.env, home = os.homedir()): ExtraPathEntry[] {
  let doc: unknown;
  try {
    doc = YAML.parse(yamlText);
  } catch (err) {
    throw new ExtraModelPathsError(`${yamlPath}: invalid YAML: ${(err as Error).message}`);
  }
  if (doc == null) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ExtraModelPathsError(`${yamlPath}: expected a mapping of section names at the top level`);
  const yamlDir = path.dirname(path.resolve(yamlPath));
  const entries: ExtraPathEntry[] = [];
  for (const [section, conf] of Object.entries(doc as Record<string, unknown>)) {
    if (conf == null) continue;
    if (typeof conf !== 'object' || Array.isArray(conf)) throw new ExtraModelPathsError(`${yamlPath}: section '${section}' must be a mapping of folder names to paths`);
    entries.push(...sectionEntries(section, conf as Record<string, unknown>, yamlDir, env, home));
  }
  return entries;
}

function sectionEntries(section: string, conf: Record<string, unknown>, yamlDir: string, env: Record<string, string | undefined>, home: string): ExtraPathEntry[] {
  let basePath: string | null = null;
  if (conf['base_path'] != null) {
    basePath = expandPath(String(conf['base_path']), env, home);
    if (!path.isAbsolute(basePath)) basePath = path.resolve(yamlDir, basePath);
  }
  const isDefault = conf['is_default'] === true;
  const out: ExtraPathEntry[] = [];
  for (const [folder, value] of Object.entries(conf)) {
    if (folder === 'base_path' || folder === 'is_default' || value == null) continue;
    for (const line of String(value).split('\n')) {
      const trimmed = line.trim();
      if (!trimmed) continue;
      const expanded = expandPath(trimmed, env, home);
      const full = basePath ? path.resolve(basePath, expanded) : path.resolve(yamlDir, expanded);
      out.push({ section, folder, path: path.normalize(full), isDefault });
    }
  }
  return out;
}

/**
 * Adds the entries to `folders` in file order. Like ComfyUI, each is_default path is inserted at
 * the front as it comes, so within one file the last is_default path ends up first.
 */
export function applyExtraModelPaths(folders: FolderPaths, entries: readonly ExtraPathEntry[]): void {
  for (const e of entries) folders.addRoot(e.folder, e.path, e.isDefault);
}

/** Reads one YAML file and applies it; returns what was added (for the start-up log). */
export function loadExtraModelPathsFile(folders: FolderPaths, yamlPath: string): ExtraPathEntry[] {
  const text = fs.readFileSync(yamlPath, 'utf8');
  const entries = parseExtraModelPaths(text, yamlPath);
  applyExtraModelPaths(folders, entries);
  return entries;
}
