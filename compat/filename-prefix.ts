/**
 * ComfyUI's `folder_paths.get_save_image_path`: turns a node's `filename_prefix` into an output
 * folder, a base file name and the next free counter.
 *
 *   "%year%/run_%width%x%height%" with a 512×768 image on 2026-11-25 →
 *   { subfolder: "2026", filename: "run_512x768", counter: 1 + highest N of "run_512x768_<N>…" files }
 *
 * Rules kept from ComfyUI:
 * - tokens `%width%`, `%height%`, `%year%`, `%month%`, `%day%`, `%hour%`, `%minute%`, `%second%`
 *   (local time, two digits except the year) are replaced only when the prefix contains `%`;
 *   `%date:…%` and `%Node.widget%` are the frontend's business and pass through untouched;
 * - the prefix is normalised, then split into sub-folder (dirname) and base name (basename);
 *   a sub-folder outside the output directory is an error;
 * - counter = 1 + the highest N among entries of that folder named `<base>_<N>…` (N read up to the
 *   next `_` or `.`), else 1; a missing folder is created.
 */
import fs from 'node:fs';
import path from 'node:path';
import { containedPath } from './safe-path.js';

export interface SaveImagePath {
  /** Absolute folder the files go to. */
  fullOutputFolder: string;
  /** Base name (may still contain `%batch_num%`). */
  filename: string;
  counter: number;
  /** POSIX sub-folder relative to the output directory, `""` for none. */
  subfolder: string;
  /** The prefix after token replacement. */
  filenamePrefix: string;
}

export interface SaveImagePathOptions {
  imageWidth?: number;
  imageHeight?: number;
  /** Clock for the date tokens (tests); default now. */
  now?: Date;
}

export class OutputPathEscapeError extends Error {}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Replaces the server-side tokens, as ComfyUI's `compute_vars`. */
export function computePrefixVars(prefix: string, width: number, height: number, now: Date = new Date()): string {
  return prefix
    .replaceAll('%width%', String(width))
    .replaceAll('%height%', String(height))
    .replaceAll('%year%', String(now.getFullYear()))
    .replaceAll('%month%', pad2(now.getMonth() + 1))
    .replaceAll('%day%', pad2(now.getDate()))
    .replaceAll('%hour%', pad2(now.getHours()))
    .replaceAll('%minute%', pad2(now.getMinutes()))
    .replaceAll('%second%', pad2(now.getSeconds()));
}

/** Python's `os.path.normpath` on POSIX (no trailing slash, `""` → `"."`). */
export function pythonNormpath(p: string): string {
  if (p === '') return '.';
  const norm = path.posix.normalize(p);
  return norm.length > 1 && norm.endsWith('/') ? norm.slice(0, -1) : norm;
}

/** Python's `os.path.split` halves on POSIX: dirname is `""` when there is no slash. */
function splitPythonPath(p: string): { dir: string; base: string } {
  const slash = p.lastIndexOf('/');
  if (slash < 0) return { dir: '', base: p };
  let dir = p.slice(0, slash + 1);
  if (dir !== '/'.repeat(dir.length)) dir = dir.replace(/\/+$/, '');
  return { dir, base: p.slice(slash + 1) };
}

/** Python's `int(s)` for the counter field: optional whitespace and sign around ASCII digits. */
function pythonInt(s: string): number | null {
  const m = /^\s*([+-]?\d+)\s*$/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) : null;
}

/**
 * The counter rule of `get_save_image_path` over a folder listing: entries whose first
 * `len(base(prefix)) + 1` characters are `<filename>_`, N = the integer before the next `_`/`.`.
 */
export function nextCounter(entries: readonly string[], filename: string, prefix: string): number {
  const prefixLen = splitPythonPath(prefix).base.length;
  let best: number | null = null;
  for (const entry of entries) {
    const head = entry.slice(0, prefixLen + 1);
    if (head.slice(0, -1) !== filename || head.slice(-1) !== '_') continue;
    const remainder = entry.slice(prefixLen + 1).split('.')[0]!;
    const digits = pythonInt(remainder.split('_')[0]!) ?? 0;
    if (best === null || digits > best) best = digits;
  }
  return best === null ? 1 : best + 1;
}

export function getSaveImagePath(
  filenamePrefix: string,
  outputDir: string,
  opts: SaveImagePathOptions = {},
): SaveImagePath {
  let prefix = filenamePrefix;
  if (prefix.includes('%')) prefix = computePrefixVars(prefix, opts.imageWidth ?? 0, opts.imageHeight ?? 0, opts.now);
  const { dir: subfolder, base: filename } = splitPythonPath(pythonNormpath(prefix));
  const fullOutputFolder = resolveOutputFolder(outputDir, subfolder);

  let counter = 1;
  if (fs.existsSync(fullOutputFolder)) {
    counter = nextCounter(fs.readdirSync(fullOutputFolder), filename, prefix);
  } else {
    fs.mkdirSync(fullOutputFolder, { recursive: true });
  }
  return { fullOutputFolder, filename, counter, subfolder, filenamePrefix: prefix };
}

function resolveOutputFolder(outputDir: string, subfolder: string): string {
  const absOutput = path.resolve(outputDir);
  if (subfolder === '' || subfolder === '.') return absOutput;
  const contained = containedPath(absOutput, [subfolder]);
  if (!contained.ok) {
    throw new OutputPathEscapeError(
      '**** ERROR: Saving image outside the output folder is not allowed.' +
        `\n full_output_folder: ${path.resolve(absOutput, subfolder)}` +
        `\n         output_dir: ${outputDir}`,
    );
  }
  return contained.path;
}
