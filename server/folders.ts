/**
 * Builds the FolderPaths of a Config: ComfyUI's layout, `custom_nodes` under the base directory,
 * then extra_model_paths.yaml from the install dir and each `--extra-model-paths-config`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadExtraModelPathsFile } from '../compat/extra-model-paths.js';
import { createFolderPaths, type FolderPaths } from '../compat/folder-paths.js';
import type { Logger } from '../nodes/node-api.js';
import type { Config } from './config.js';
import { projectRoot } from './project-root.js';

export function buildFolderPaths(config: Config, log: Logger, installDir = projectRoot()): FolderPaths {
  const folders = createFolderPaths({
    baseDirectory: config.baseDirectory,
    outputDirectory: config.outputDirectory ?? undefined,
    inputDirectory: config.inputDirectory ?? undefined,
    tempDirectory: config.tempDirectory ?? undefined,
    userDirectory: config.userDirectory ?? undefined,
    modelsDirectory: config.modelsDirectory ?? undefined,
  });
  folders.addRoot('custom_nodes', path.join(folders.baseDir, 'custom_nodes'));
  const defaultYaml = path.join(installDir, 'extra_model_paths.yaml');
  const files = [...(fs.existsSync(defaultYaml) ? [defaultYaml] : []), ...config.extraModelPathsConfigs];
  for (const file of files) {
    log.info(`Loading extra model paths from ${file}`);
    for (const e of loadExtraModelPathsFile(folders, file)) log.info(`Adding extra search path ${e.folder} ${e.path}`);
  }
  return folders;
}

/** Directories that must exist before serving; a missing `--user-directory` / `--models-directory` is an error. */
export function checkRequiredDirectories(config: Config): string | null {
  for (const [flag, dir] of [['--user-directory', config.userDirectory], ['--models-directory', config.modelsDirectory]] as const) {
    if (dir && !fs.existsSync(dir)) return `${flag} ${dir} does not exist`;
  }
  return null;
}

/** Creates input/output/user and an empty temp dir (ComfyUI clears temp at start-up). */
export function prepareDirectories(folders: FolderPaths): void {
  fs.rmSync(folders.tempDir, { recursive: true, force: true });
  for (const dir of [folders.inputDir, folders.outputDir, folders.tempDir, folders.userDir]) fs.mkdirSync(dir, { recursive: true });
}
