/**
 * Loads the workflow fixtures (test/fixtures/workflows, see its SOURCES.md) and their generated
 * object_info.json (tools/build-workflow-defs.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiPrompt, NodeDefWire } from '../../compat/api-types.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/workflows');

export function readFixture<T = unknown>(rel: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, rel), 'utf8')) as T;
}

export const objectInfo: Record<string, NodeDefWire> = readFixture('object_info.json');

/** Names of the exact pairs: `pairs/NAME.ui.json` + `pairs/NAME.api.json`. */
export function pairNames(): string[] {
  return fs
    .readdirSync(path.join(FIXTURES, 'pairs'))
    .filter((f) => f.endsWith('.ui.json'))
    .map((f) => f.slice(0, -'.ui.json'.length))
    .sort();
}

/** A deep copy without the given paths (`"41"`, `"41._meta"`, `"3.inputs.seed"`; ids may contain ':'). */
export function without(prompt: ApiPrompt, paths: readonly string[]): ApiPrompt {
  const copy = JSON.parse(JSON.stringify(prompt)) as ApiPrompt;
  for (const p of paths) {
    const [id, ...rest] = p.split('.');
    if (!rest.length) delete copy[id!];
    else if (copy[id!]) {
      let obj = copy[id!] as Record<string, unknown>;
      for (const key of rest.slice(0, -1)) obj = (obj?.[key] ?? {}) as Record<string, unknown>;
      delete obj[rest.at(-1)!];
    }
  }
  return copy;
}

export function renameIds(prompt: ApiPrompt, ids: Record<string, string>): ApiPrompt {
  const rename = (id: string) => ids[id] ?? id;
  const out: ApiPrompt = {};
  for (const [id, node] of Object.entries(prompt)) {
    const inputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node.inputs)) inputs[k] = Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' ? [rename(v[0]), v[1]] : v;
    out[rename(id)] = { ...node, inputs };
  }
  return out;
}
