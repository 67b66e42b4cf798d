/** Builds web/dist with the project's own build script (what `npm start` runs); no server imports. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');

export function buildWebUi(): void {
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-web.mjs')], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`web build failed:\n${result.stderr}${result.stdout}`);
}
