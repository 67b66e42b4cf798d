/**
 * Widgets for object_info input specs, in ComfyUI's order so `widgets_values` line up with
 * workflows saved by ComfyUI (spec §4.3): a control combo follows seeds, an upload button
 * follows `image_upload` combos.
 */
import type { LGraphNode } from '@comfyorg/litegraph';

/** litegraph's widget interface (its package root doesn't export the name). */
export type IBaseWidget = NonNullable<LGraphNode['widgets']>[number];
import { uploadImage, type InputSpecWire } from './api.js';
import { addMultilineWidget } from './multiline-widget.js';

export const CONTROL_MODES = ['fixed', 'increment', 'decrement', 'randomize'] as const;
type ControlMode = (typeof CONTROL_MODES)[number];

/** Extra fields our widgets carry; `promptSkip` widgets live in widgets_values but never in prompts. */
export interface ComfyWidgetExtra {
  promptSkip?: boolean;
  /** For a control_after_generate combo: the widget it changes after each queue. */
  controls?: IBaseWidget;
}

export type ComfyWidget = IBaseWidget & ComfyWidgetExtra;

/** litegraph warns about widgets without a callback; values are read when queueing. */
const noop = () => {};

const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

/** Whether an input spec gets a widget (rather than only a socket). */
export function isWidgetInput(spec: InputSpecWire): boolean {
  const [type, options] = spec;
  if (options?.['forceInput']) return false;
  return Array.isArray(type) || WIDGET_TYPES.has(type);
}

function numberOptions(type: string, opts: Record<string, unknown>) {
  const isInt = type === 'INT';
  const step = Number(opts['step'] ?? (isInt ? 1 : 0.01));
  const round = typeof opts['round'] === 'number' ? (opts['round'] as number) : step;
  const precision = isInt ? 0 : Math.max(0, Math.min(6, Math.ceil(-Math.log10(round || 0.01))));
  return {
    min: Number(opts['min'] ?? (isInt ? 0 : -Infinity)),
    max: Number(opts['max'] ?? (isInt ? 2048 : Infinity)),
    step: step * 10,
    step2: step,
    precision,
    round: isInt ? 1 : round,
  };
}

function clampRound(value: number, opts: { min: number; max: number; round: number }): number {
  const rounded = opts.round ? Math.round(value / opts.round) * opts.round : value;
  return Math.min(opts.max, Math.max(opts.min, Number(rounded.toFixed(8))));
}

function addNumberWidget(node: LGraphNode, name: string, type: string, opts: Record<string, unknown>): IBaseWidget {
  const options = numberOptions(type, opts);
  const fallback = Number.isFinite(options.min) ? options.min : 0;
  const widget: IBaseWidget = node.addWidget('number', name, Number(opts['default'] ?? fallback), (v: number) => {
    widget.value = clampRound(Number(v), options);
  }, options);
  return widget;
}

function comboValues(type: string | string[], opts: Record<string, unknown>): string[] {
  if (Array.isArray(type)) return type.map(String);
  const options = opts['options'];
  return Array.isArray(options) ? options.map(String) : [];
}

function addUploadButton(node: LGraphNode, combo: IBaseWidget): void {
  const button = node.addWidget('button', 'upload', 'image', () => pickAndUpload(node, combo), { socketless: true }) as ComfyWidget;
  button.label = 'choose file to upload';
  button.promptSkip = true;
}

/** One hidden file input, kept in the document and reused by every upload button. */
function uploadInput(): HTMLInputElement {
  let input = document.getElementById('image-upload-input') as HTMLInputElement | null;
  if (!input) {
    input = document.createElement('input');
    input.id = 'image-upload-input';
    input.type = 'file';
    input.accept = 'image/png,image/jpeg,image/webp';
    input.hidden = true;
    document.body.append(input);
  }
  return input;
}

function pickAndUpload(node: LGraphNode, combo: IBaseWidget): void {
  const input = uploadInput();
  input.value = '';
  input.onchange = () => {
    const file = input.files?.[0];
    if (file) setUploadedImage(node, combo, file).catch((err: unknown) => console.warn('comfy8: upload failed:', err));
  };
  input.click();
}

export async function setUploadedImage(node: LGraphNode, combo: IBaseWidget, file: File): Promise<void> {
  const result = await uploadImage(file);
  const name = result.subfolder ? `${result.subfolder}/${result.name}` : result.name;
  const values = combo.options.values as string[];
  if (!values.includes(name)) values.push(name);
  combo.value = name;
  combo.callback?.(name);
  node.setDirtyCanvas(true, true);
}

function addControlWidget(node: LGraphNode, target: IBaseWidget, mode: ControlMode): void {
  const control = node.addWidget('combo', 'control_after_generate', mode, noop, { values: [...CONTROL_MODES], socketless: true }) as ComfyWidget;
  control.promptSkip = true;
  control.controls = target;
}

function controlModeOf(name: string, opts: Record<string, unknown>): ControlMode | null {
  const flag = opts['control_after_generate'];
  if (typeof flag === 'string' && (CONTROL_MODES as readonly string[]).includes(flag)) return flag as ControlMode;
  if (flag === true) return 'randomize';
  if (flag === undefined && (name === 'seed' || name === 'noise_seed')) return 'randomize';
  return null;
}

/** Adds the widget(s) for one input; returns the main widget. */
export function addInputWidget(node: LGraphNode, name: string, spec: InputSpecWire): IBaseWidget {
  const [type, rawOpts] = spec;
  const opts = rawOpts ?? {};
  if (type === 'INT' || type === 'FLOAT') {
    const widget = addNumberWidget(node, name, type, opts);
    const mode = type === 'INT' ? controlModeOf(name, opts) : null;
    if (mode) addControlWidget(node, widget, mode);
    return widget;
  }
  if (type === 'BOOLEAN') {
    const labels = { on: String(opts['label_on'] ?? 'true'), off: String(opts['label_off'] ?? 'false') };
    return node.addWidget('toggle', name, Boolean(opts['default'] ?? false), noop, labels);
  }
  if (type === 'STRING') {
    const dynamicPrompts = Boolean(opts['dynamicPrompts']);
    if (opts['multiline']) return addMultilineWidget(node, name, String(opts['default'] ?? ''), dynamicPrompts);
    return node.addWidget('text', name, String(opts['default'] ?? ''), noop, { dynamicPrompts } as never);
  }
  const values = comboValues(type, opts);
  const initial = String(opts['default'] ?? values[0] ?? '');
  const combo = node.addWidget('combo', name, initial, noop, { values });
  if (opts['image_upload']) addUploadButton(node, combo);
  if (opts['control_after_generate']) addControlWidget(node, combo, controlModeOf(name, opts) ?? 'fixed');
  return combo;
}

function nextControlledValue(target: IBaseWidget, mode: string): unknown {
  const value = target.value;
  if (target.type === 'combo') {
    const values = (target.options.values as string[]) ?? [];
    const index = values.indexOf(String(value));
    if (mode === 'increment') return values[Math.min(values.length - 1, index + 1)] ?? value;
    if (mode === 'decrement') return values[Math.max(0, index - 1)] ?? value;
    if (mode === 'randomize') return values[Math.floor(Math.random() * values.length)] ?? value;
    return value;
  }
  const { min = 0, max = 2 ** 53 - 1, step2 = 1 } = target.options as { min?: number; max?: number; step2?: number };
  const lo = Number.isFinite(min) ? min : 0;
  const hi = Math.min(Number.isFinite(max) ? max : 2 ** 53 - 1, 1125899906842624);
  if (mode === 'increment') return Math.min(hi, Number(value) + step2);
  if (mode === 'decrement') return Math.max(lo, Number(value) - step2);
  if (mode === 'randomize') return lo + Math.floor(Math.random() * ((hi - lo) / step2 + 1)) * step2;
  return value;
}

/** ComfyUI's "control after generate": run once after each successful queue. */
export function applyControlWidgets(nodes: LGraphNode[]): void {
  for (const node of nodes) {
    for (const widget of (node.widgets ?? []) as ComfyWidget[]) {
      if (!widget.controls) continue;
      widget.controls.value = nextControlledValue(widget.controls, String(widget.value)) as never;
    }
    node.setDirtyCanvas(true, false);
  }
}
