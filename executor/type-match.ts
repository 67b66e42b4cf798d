/**
 * Link type vs input type compatibility (spec §3.3, ComfyUI's `validate_node_input`).
 */
import { pyEquals } from './py-values.js';

/** V3's match-type pseudo type: the frontend checks these links, the server lets them through. */
export const MATCH_TYPE = 'COMFY_MATCHTYPE_V3';

export function typesCompatible(received: unknown, input: unknown): boolean {
  if (received === input) return true;
  if (Array.isArray(received) && Array.isArray(input)) return pyEquals(received, input);
  if (received === '*' || input === '*') return true;
  if (received === MATCH_TYPE || input === MATCH_TYPE) return true;
  // A combo output (its list of choices) feeds a V3 COMBO input.
  if (Array.isArray(received) && input === 'COMBO') return true;
  if (typeof received !== 'string' || typeof input !== 'string') return false;
  const receivedSet = splitTypes(received);
  const inputSet = splitTypes(input);
  if (receivedSet.has('*') || inputSet.has('*')) return true;
  for (const t of receivedSet) if (inputSet.has(t)) return true;
  return false;
}

function splitTypes(types: string): Set<string> {
  return new Set(types.split(',').map((t) => t.trim()));
}
