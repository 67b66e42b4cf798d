/**
 * What a node type's definition must look like, read off saved workflows: the widget names in
 * order (API input keys that are widget values), which widgets carry a control value or an upload
 * value after them in `widgets_values`, the observed widget values and the socket types.
 */
import { isLink, type ApiNode } from '../../compat/api-types.js';
import type { UiNode } from '../../compat/workflow/types.js';

export interface Observation {
  ui: UiNode;
  /** The node's API counterpart, when the workflow has a saved API prompt. */
  api?: ApiNode;
  /** False for group-node inner nodes: their stored widgets_values are not what was sent. */
  valuesTrusted: boolean;
  source: string;
}

export interface InferredDef {
  /** True when some fixture node of this type has its saved API counterpart. */
  seenInApi: boolean;
  widgetNames: string[];
  controls: Set<string>;
  uploads: Set<string>;
  values: Map<string, unknown[]>;
  sockets: Map<string, string>;
  outputs: string[];
  displayName?: string;
  /** Display name (as `_meta.title` of untitled nodes) → the fixture files showing it. */
  displayNames: Map<string, Set<string>>;
  notes: string[];
}

/** Older frontends sent the upload button widget too; it is not an input of the node. */
const LEGACY_UPLOAD_NAMES = new Set(['upload', 'choose file to upload']);
const CONTROL_VALUES = new Set(['fixed', 'increment', 'decrement', 'randomize']);

function isControl(v: unknown): boolean {
  return typeof v === 'boolean' || (typeof v === 'string' && CONTROL_VALUES.has(v));
}

/** Merges `next` into `base`, keeping base's order and placing new names after their predecessor. */
export function mergeOrder(base: string[], next: readonly string[]): string[] {
  const out = [...base];
  let cursor = -1;
  for (const name of next) {
    const at = out.indexOf(name);
    if (at >= 0) {
      cursor = at;
      continue;
    }
    out.splice(cursor + 1, 0, name);
    cursor++;
  }
  return out;
}

function apiWidgetNames(obs: Observation): string[] {
  if (!obs.api) return [];
  const socketNames = new Set((obs.ui.inputs ?? []).filter((i) => !i.widget).map((i) => i.name));
  return Object.entries(obs.api.inputs)
    .filter(([name, value]) => !socketNames.has(name) && !LEGACY_UPLOAD_NAMES.has(name) && (!isLink(value) || (obs.ui.inputs ?? []).some((i) => i.widget?.name === name)))
    .map(([name]) => name);
}

/** Walks widgets_values against the widget names to find control and upload entries. */
function alignValues(obs: Observation, names: readonly string[], def: InferredDef): void {
  const list = obs.ui.widgets_values;
  if (!obs.valuesTrusted || !Array.isArray(list)) return;
  let i = 0;
  for (const name of names) {
    if (i >= list.length) break;
    const value = list[i++];
    if (!def.values.has(name)) def.values.set(name, []);
    def.values.get(name)!.push(value);
    const apiValue = obs.api?.inputs[name];
    if (obs.api && apiValue !== undefined && !isLink(apiValue) && JSON.stringify(apiValue) !== JSON.stringify(value)) {
      def.notes.push(`${obs.source}: ${name} stored ${JSON.stringify(value)?.slice(0, 60)} but sent ${JSON.stringify(apiValue)?.slice(0, 60)}`);
    }
    if (typeof value === 'number' && Number.isInteger(value) && isControl(list[i])) {
      def.controls.add(name);
      i++;
    } else if (typeof value === 'string' && list[i] === 'image' && /\.(png|jpe?g|webp|gif|bmp|tiff?)$/i.test(value)) {
      def.uploads.add(name);
      i++;
    }
  }
}

export function inferDef(observations: readonly Observation[]): InferredDef {
  const def: InferredDef = { seenInApi: observations.some((o) => o.api !== undefined), widgetNames: [], controls: new Set(), uploads: new Set(), values: new Map(), sockets: new Map(), outputs: [], displayNames: new Map(), notes: [] };
  for (const obs of observations) def.widgetNames = mergeOrder(def.widgetNames, apiWidgetNames(obs));
  for (const obs of observations) {
    const names = def.widgetNames.filter((n) => !obs.api || n in obs.api.inputs || (obs.ui.inputs ?? []).some((i) => i.widget?.name === n));
    alignValues(obs, obs.api ? names : def.widgetNames, def);
    for (const slot of obs.ui.inputs ?? []) if (!slot.widget && !def.sockets.has(slot.name)) def.sockets.set(slot.name, String(slot.type));
    if ((obs.ui.outputs?.length ?? 0) > def.outputs.length) def.outputs = (obs.ui.outputs ?? []).map((o) => String(o.type));
    const title = obs.api?._meta?.title;
    if (title && !obs.ui.title) def.displayNames.set(title, new Set([...(def.displayNames.get(title) ?? []), obs.source]));
  }
  // ComfyUI renamed some display names over time; the one most fixture files agree on wins.
  const ranked = [...def.displayNames].sort((a, b) => b[1].size - a[1].size);
  def.displayName = ranked[0]?.[0];
  if (ranked.length > 1) def.notes.push(`display names differ between fixtures: ${ranked.map(([n, files]) => `"${n}" (${[...files].join(', ')})`).join(' vs ')}`);
  return def;
}
