/**
 * ComfyUI's folder layout (spec §5.2): model folder keys with their search roots and extension
 * filters, plus the input/output/temp/user directories. `extra_model_paths.yaml` roots are added
 * by `addExtraModelPaths` (compat/extra-model-paths.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { containedPath } from './safe-path.js';

export const SUPPORTED_PT_EXTENSIONS = ['.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft'];

/** Legacy folder names accepted by lookups and YAML configs. */
export const LEGACY_FOLDER_NAMES: Readonly<Record<string, string>> = { clip: 'text_encoders', unet: 'diffusion_models' };

/** Folder key → sub-folders of `models/` searched in order, and the extension filter ([] = any). */
const MODEL_FOLDERS: ReadonlyArray<[key: string, dirs: string[], exts: string[]]> = [
  ['checkpoints', ['checkpoints'], SUPPORTED_PT_EXTENSIONS],
  ['configs', ['configs'], ['.yaml']],
  ['loras', ['loras'], SUPPORTED_PT_EXTENSIONS],
  ['vae', ['vae'], SUPPORTED_PT_EXTENSIONS],
  ['text_encoders', ['text_encoders', 'clip'], SUPPORTED_PT_EXTENSIONS],
  ['diffusion_models', ['unet', 'diffusion_models'], SUPPORTED_PT_EXTENSIONS],
  ['clip_vision', ['clip_vision'], SUPPORTED_PT_EXTENSIONS],
  ['style_models', ['style_models'], SUPPORTED_PT_EXTENSIONS],
  ['embeddings', ['embeddings'], SUPPORTED_PT_EXTENSIONS],
  ['diffusers', ['diffusers'], ['folder']],
  ['vae_approx', ['vae_approx'], SUPPORTED_PT_EXTENSIONS],
  ['controlnet', ['controlnet', 't2i_adapter'], SUPPORTED_PT_EXTENSIONS],
  ['gligen', ['gligen'], SUPPORTED_PT_EXTENSIONS],
  ['upscale_models', ['upscale_models'], SUPPORTED_PT_EXTENSIONS],
  ['latent_upscale_models', ['latent_upscale_models'], SUPPORTED_PT_EXTENSIONS],
  ['hypernetworks', ['hypernetworks'], SUPPORTED_PT_EXTENSIONS],
  ['photomaker', ['photomaker'], SUPPORTED_PT_EXTENSIONS],
  ['classifiers', ['classifiers'], []],
  ['model_patches', ['model_patches'], SUPPORTED_PT_EXTENSIONS],
  ['audio_encoders', ['audio_encoders'], SUPPORTED_PT_EXTENSIONS],
  ['background_removal', ['background_removal'], SUPPORTED_PT_EXTENSIONS],
  ['frame_interpolation', ['frame_interpolation'], SUPPORTED_PT_EXTENSIONS],
  ['geometry_estimation', ['geometry_estimation'], SUPPORTED_PT_EXTENSIONS],
  ['optical_flow', ['optical_flow'], SUPPORTED_PT_EXTENSIONS],
  ['detection', ['detection'], SUPPORTED_PT_EXTENSIONS],
];

export type IoDirectory = 'input' | 'output' | 'temp';

export interface FolderPathsOptions {
  baseDirectory: string;
  outputDirectory?: string;
  inputDirectory?: string;
  /** `--temp-directory D` makes the temp dir `D/temp`, as ComfyUI does. */
  tempDirectory?: string;
  userDirectory?: string;
  modelsDirectory?: string;
}

export interface FolderPaths {
  readonly baseDir: string;
  readonly modelsDir: string;
  readonly outputDir: string;
  readonly inputDir: string;
  readonly tempDir: string;
  readonly userDir: string;
  /** Keys for `GET /models`, in registration order (legacy names excluded). */
  folderNames(): string[];
  /** Absolute search roots of a folder key (legacy names mapped); undefined if unknown. */
  searchRoots(folder: string): string[] | undefined;
  /** Extension filter of a folder key ([] = any file). */
  extensions(folder: string): string[] | undefined;
  /** Adds a search root (extra_model_paths.yaml); `first` puts it ahead (is_default). */
  addRoot(folder: string, dir: string, first?: boolean): void;
  /** Sorted relative paths (POSIX separators) of the folder's files, recursive, deduplicated. */
  listFiles(folder: string): string[];
  /** Absolute path of a file named as `listFiles` names it; null if absent or escaping. */
  resolve(folder: string, name: string): string | null;
  /** `input` | `output` | `temp` directory. */
  getDirectory(type: IoDirectory): string;
  /** Splits ComfyUI's annotated names: `"x.png [temp]"` → {name: "x.png", type: "temp"}. */
  annotated(name: string, defaultType: IoDirectory): { name: string; type: IoDirectory };
}

export function createFolderPaths(opts: FolderPathsOptions): FolderPaths {
  const baseDir = path.resolve(opts.baseDirectory);
  const modelsDir = path.resolve(opts.modelsDirectory ?? path.join(baseDir, 'models'));
  const outputDir = path.resolve(opts.outputDirectory ?? path.join(baseDir, 'output'));
  const inputDir = path.resolve(opts.inputDirectory ?? path.join(baseDir, 'input'));
  const tempDir = opts.tempDirectory ? path.resolve(opts.tempDirectory, 'temp') : path.join(baseDir, 'temp');
  const userDir = path.resolve(opts.userDirectory ?? path.join(baseDir, 'user'));

  const roots = new Map<string, string[]>();
  const exts = new Map<string, string[]>();
  for (const [key, dirs, e] of MODEL_FOLDERS) {
    roots.set(key, dirs.map((d) => path.join(modelsDir, d)));
    exts.set(key, e);
  }
  for (const key of ['checkpoints', 'text_encoders', 'vae', 'diffusion_models', 'loras']) {
    const sub = key === 'text_encoders' ? 'clip' : key;
    roots.get(key)!.push(path.join(outputDir, sub));
  }
  const canonical = (folder: string) => LEGACY_FOLDER_NAMES[folder] ?? folder;

  const fp: FolderPaths = {
    baseDir,
    modelsDir,
    outputDir,
    inputDir,
    tempDir,
    userDir,
    folderNames: () => [...roots.keys()],
    searchRoots: (folder) => roots.get(canonical(folder))?.slice(),
    extensions: (folder) => exts.get(canonical(folder))?.slice(),
    addRoot(folder, dir, first = false) {
      const key = canonical(folder);
      if (!roots.has(key)) {
        roots.set(key, []);
        exts.set(key, []);
      }
      const list = roots.get(key)!;
      const abs = path.resolve(dir);
      if (list.includes(abs)) return;
      if (first) list.unshift(abs);
      else list.push(abs);
    },
    listFiles(folder) {
      const key = canonical(folder);
      const filter = exts.get(key) ?? [];
      const seen = new Set<string>();
      for (const root of roots.get(key) ?? []) {
        for (const { rel } of walkFiles(root, (name) => name === '.git')) {
          if (filter.length === 0 || filter.includes(path.extname(rel).toLowerCase())) seen.add(rel);
        }
      }
      return [...seen].sort();
    },
    resolve(folder, name) {
      for (const root of roots.get(canonical(folder)) ?? []) {
        const c = containedPath(root, [name]);
        if (c.ok && fs.existsSync(c.path) && fs.statSync(c.path).isFile()) return c.path;
      }
      return null;
    },
    getDirectory: (type) => (type === 'input' ? inputDir : type === 'temp' ? tempDir : outputDir),
    annotated(name, defaultType) {
      const m = /^(.*) \[(input|output|temp)\]$/.exec(name);
      return m ? { name: m[1]!, type: m[2] as IoDirectory } : { name, type: defaultType };
    },
  };
  return fp;
}

export interface WalkedFile {
  /** Path relative to the walked root, with `/` separators. */
  rel: string;
  abs: string;
  stats: fs.Stats;
}

/**
 * Every file under `root`, following symlinks (each real folder visited once, so link cycles end),
 * in directory order; entries whose name `skip` accepts are left out, folders with their contents.
 */
export function walkFiles(root: string, skip: (name: string) => boolean): WalkedFile[] {
  const out: WalkedFile[] = [];
  const visited = new Set<string>();
  const visit = (dir: string, rel: string) => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      return;
    }
    if (visited.has(real)) return;
    visited.add(real);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (skip(name)) continue;
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      let stats: fs.Stats;
      try {
        stats = fs.statSync(abs);
      } catch {
        continue;
      }
      if (stats.isDirectory()) visit(abs, r);
      else if (stats.isFile()) out.push({ rel: r, abs, stats });
    }
  };
  visit(root, '');
  return out;
}
