/**
 * Which widgets a node has, as the frontend builds them from its `/object_info` definition, and
 * how a saved `widgets_values` array maps onto them (spec §4.3).
 *
 * Example: KSampler's plan is seed, (control), steps, cfg, sampler_name, scheduler, denoise, so
 * `[42, "randomize", 20, 8, "euler", "normal", 1]` → {seed: 42, steps: 20, cfg: 8, …}.
 */
import type { InputSpecWire, NodeDefWire } from '../api-types.js';

export type WidgetSlotKind = 'value' | 'control' | 'filter' | 'upload';

export interface WidgetSlot {
  /** The input name for value widgets; a description for the helper widgets. */
  name: string;
  kind: WidgetSlotKind;
  spec?: InputSpecWire;
}

const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);
const CONTROL_VALUES = new Set(['fixed', 'increment', 'decrement', 'randomize', 'increment-wrap']);
const UPLOAD_OPTIONS = ['image_upload', 'video_upload', 'audio_upload', 'animated_image_upload'];
/** Without an explicit spec, the frontend gives these INT inputs a control widget. */
const SEED_NAMES = new Set(['seed', 'noise_seed']);

function specOptions(spec: InputSpecWire | undefined): Record<string, unknown> {
  return (spec?.[1] as Record<string, unknown> | undefined) ?? {};
}

export function specType(spec: InputSpecWire | undefined): string {
  const t = spec?.[0];
  return Array.isArray(t) ? 'COMBO' : String(t ?? '');
}

/** True when the frontend makes a widget for this input (not a plain socket). */
export function isWidgetInput(spec: InputSpecWire | undefined): boolean {
  if (!spec) return false;
  return WIDGET_TYPES.has(specType(spec)) && !specOptions(spec)['forceInput'];
}

/** Declared inputs (required, then optional) in declaration order. */
export function orderedInputs(def: NodeDefWire): { name: string; spec: InputSpecWire }[] {
  const out: { name: string; spec: InputSpecWire }[] = [];
  for (const group of ['required', 'optional'] as const) {
    const specs = def.input?.[group] ?? {};
    const order = def.input_order?.[group] ?? Object.keys(specs);
    for (const name of order) if (specs[name]) out.push({ name, spec: specs[name]! });
  }
  return out;
}

/** True when the frontend adds a control_after_generate widget after this input's widget. */
export function hasControl(name: string, spec: InputSpecWire): boolean {
  const type = specType(spec);
  if (type !== 'INT' && type !== 'COMBO') return false;
  const declared = specOptions(spec)['control_after_generate'];
  if (declared !== undefined) return Boolean(declared);
  return type === 'INT' && SEED_NAMES.has(name);
}

/** The node's widgets in frontend order, helper widgets included. */
export function widgetPlan(def: NodeDefWire): WidgetSlot[] {
  const plan: WidgetSlot[] = [];
  for (const { name, spec } of orderedInputs(def)) {
    if (!isWidgetInput(spec)) continue;
    plan.push({ name, kind: 'value', spec });
    if (hasControl(name, spec)) {
      plan.push({ name: `${name}.control_after_generate`, kind: 'control' });
      if (specType(spec) === 'COMBO') plan.push({ name: `${name}.control_filter_list`, kind: 'filter' });
    }
    if (specType(spec) === 'COMBO' && UPLOAD_OPTIONS.some((o) => specOptions(spec)[o])) plan.push({ name: `${name}.upload`, kind: 'upload' });
  }
  return plan;
}

/**
 * The value a fresh widget starts with: the spec's `default`, else the first combo option, else
 * min/0, '' or false. Used when a saved node has fewer values than its definition has widgets
 * (saved before the widget existed), as the frontend then sends the new widget's default.
 */
export function defaultWidgetValue(spec: InputSpecWire | undefined): unknown {
  const options = specOptions(spec);
  if (options['default'] !== undefined) return options['default'];
  const type = specType(spec);
  if (type === 'COMBO') {
    const choices = Array.isArray(spec?.[0]) ? spec[0] : (options['options'] as unknown[] | undefined);
    return choices?.[0];
  }
  if (type === 'INT' || type === 'FLOAT') return typeof options['min'] === 'number' ? options['min'] : 0;
  if (type === 'BOOLEAN') return false;
  if (type === 'STRING') return '';
  return undefined;
}

/** The stored values in widget order, widgets the saved node had no value for at their default. */
function withDefaults(plan: readonly WidgetSlot[], stored: Map<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const slot of plan) {
    if (slot.kind !== 'value') continue;
    const value = stored.has(slot.name) ? stored.get(slot.name) : defaultWidgetValue(slot.spec);
    if (value !== undefined) out.set(slot.name, value);
  }
  return out;
}

function isControlValue(v: unknown): boolean {
  // `true` is the old saved form of "randomize".
  return typeof v === 'boolean' || (typeof v === 'string' && CONTROL_VALUES.has(v));
}

export interface MappedWidgets {
  /** Input name → stored value, in widget order (value widgets only). */
  values: Map<string, unknown>;
  /** Combo input name → the stored value of its upload button widget (usually "image"). */
  uploads: Map<string, unknown>;
  /** Entries of widgets_values nothing consumed (more widgets than the definition declares). */
  unused: number;
}

/**
 * Maps `widgets_values` onto the plan. Helper slots are tolerant: a control slot takes its entry
 * only when that entry looks like a control value and the array is long enough to hold one; a
 * combo's filter-list slot only when there are entries to spare (newer frontends write one).
 */
export function mapWidgetValues(plan: readonly WidgetSlot[], stored: unknown[] | Record<string, unknown> | undefined, fillDefaults = true): MappedWidgets {
  const values = new Map<string, unknown>();
  const uploads = new Map<string, unknown>();
  if (stored && !Array.isArray(stored)) {
    for (const slot of plan) if (slot.kind === 'value' && slot.name in stored) values.set(slot.name, stored[slot.name]);
    return { values, uploads, unused: 0 };
  }
  const list = stored ?? [];
  const valueCount = plan.filter((s) => s.kind === 'value' || s.kind === 'upload').length;
  const controlsStored = list.length > valueCount;
  let spare = list.length - plan.filter((s) => s.kind !== 'filter').length;
  let i = 0;
  for (const slot of plan) {
    if (i >= list.length) break;
    if (slot.kind === 'control') {
      if (controlsStored && isControlValue(list[i])) i++;
      continue;
    }
    if (slot.kind === 'filter') {
      if (spare > 0 && typeof list[i] === 'string' && !CONTROL_VALUES.has(list[i] as string)) {
        spare--;
        i++;
      }
      continue;
    }
    if (slot.kind === 'value') values.set(slot.name, list[i]);
    if (slot.kind === 'upload') uploads.set(slot.name.replace(/\.upload$/, ''), list[i]);
    i++;
  }
  return { values: fillDefaults ? withDefaults(plan, values) : values, uploads, unused: Math.max(0, list.length - i) };
}
