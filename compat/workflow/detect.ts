/**
 * Telling the two workflow formats apart: a UI workflow (litegraph JSON with a `nodes` array) and
 * an API prompt (node id → `{class_type, inputs}`).
 */
import type { ApiPrompt } from '../api-types.js';
import type { UiWorkflow } from './types.js';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function isUiWorkflow(x: unknown): x is UiWorkflow {
  if (!isObject(x) || !Array.isArray(x['nodes'])) return false;
  if (x['links'] !== undefined && !Array.isArray(x['links'])) return false;
  return x['nodes'].every((n) => isObject(n) && (typeof n['id'] === 'number' || typeof n['id'] === 'string'));
}

/** A non-empty object whose every value has a string `class_type` and an `inputs` object. */
export function isApiPrompt(x: unknown): x is ApiPrompt {
  if (!isObject(x) || Array.isArray(x['nodes'])) return false;
  const nodes = Object.values(x);
  return nodes.length > 0 && nodes.every((n) => isObject(n) && typeof n['class_type'] === 'string' && isObject(n['inputs']));
}
