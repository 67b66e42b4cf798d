/**
 * A test NodeEnvironment: ComfyUI's folder layout under a fresh temporary directory and a
 * silent logger.
 *
 *   const env = makeTestEnv();            // env.folders.outputDir etc. exist and are empty
 *   const env = makeTestEnv({ disableMetadata: true });
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFolderPaths } from '../../compat/folder-paths.js';
import type { Logger, NodeEnvironment } from '../../nodes/node-api.js';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function makeTestEnv(overrides: Partial<Omit<NodeEnvironment, 'folders'>> = {}): NodeEnvironment {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-test-'));
  const folders = createFolderPaths({ baseDirectory: base });
  for (const dir of [folders.inputDir, folders.outputDir, folders.tempDir, folders.userDir]) fs.mkdirSync(dir, { recursive: true });
  return { folders, disableMetadata: false, previewMethod: 'none', previewSize: 512, log: silentLogger, ...overrides };
}
