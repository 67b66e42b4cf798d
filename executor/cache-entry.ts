/**
 * What the output cache keeps per node: its output lists and the UI it produced (with the
 * history `meta` it was recorded under), so a cache hit can replay `executed`.
 */
import type { NodeMeta, UiOutput } from '../compat/api-types.js';

export interface UiRecord {
  meta: NodeMeta;
  output: UiOutput;
}

export interface CacheEntry {
  ui: UiRecord | null;
  /** One list per output slot, one element per list iteration (spec §3.6). */
  outputs: unknown[][];
}
