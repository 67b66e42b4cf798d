/**
 * UI workflow → API prompt, giving what the frontend's `graphToPrompt` gives (spec §4.2).
 *
 *   const r = workflowToPrompt(workflow, objectInfo);
 *   if (r.ok) post({ prompt: r.prompt }); else report(r.error, r.nodeErrors);
 */
import type { ApiNode, ApiPrompt, ErrorItem, NodeDefWire, NodeErrors } from '../api-types.js';
import { isUiWorkflow } from './detect.js';
import { processDynamicPrompt, type RandomSource } from './dynamic-prompts.js';
import { invalidWorkflow, missingNodeType, WorkflowConvertError } from './errors.js';
import { buildScope, createBuildContext, DEFAULT_VIRTUAL_TYPES, type BuildContext } from './flatten.js';
import { MODE_BYPASS, MODE_NEVER, type ExecNode, type InputSource } from './model.js';
import { LinkResolver } from './resolve.js';
import { linkMap, type UiWorkflow } from './types.js';
import { orderedInputs } from './widgets.js';

export interface WorkflowToPromptOptions {
  /** Add `_meta: {title}` to each node, as frontends since mid-2024 do (default true). */
  includeMeta?: boolean;
  /** Extra frontend-only node types to skip, on top of DEFAULT_VIRTUAL_TYPES. */
  virtualNodeTypes?: readonly string[];
  /**
   * Resolve `{a|b}` choices and strip comments in `dynamicPrompts` text widgets as the frontend
   * does at queue time (default true, with Math.random); pass a random source for repeatable
   * picks, or false to send the text as stored.
   */
  dynamicPrompts?: boolean | RandomSource;
  /**
   * Legacy frontends (app.js, before the standalone frontend) left out converted widgets whose
   * input socket was unconnected. 'auto' (default): do so when the workflow has no
   * `extra.frontendVersion`.
   */
  legacyConvertedWidgets?: boolean | 'auto';
  /**
   * Older frontends also sent the image upload button's value (`"image"`) under the button's name:
   * `"choose file to upload"` until late 2023, then `"upload"`; current ones send nothing. 'auto'
   * (default) guesses the era from the workflow: `extra.frontendVersion` → omit; groups saved
   * without `font_size` → "choose file to upload"; `extra.ds` or slots saved with a `shape` →
   * "upload"; else "choose file to upload". The guess can be wrong for early-2024 files.
   */
  uploadWidget?: 'auto' | 'omit' | 'upload' | 'choose file to upload';
  /**
   * A widget the saved node has no value for (it was saved before the widget existed) starts at
   * its default, which the frontend then sends: 'default' (default). 'omit' leaves it out, which
   * is what the saving version sent when the definitions are newer than the workflow.
   */
  missingWidgets?: 'default' | 'omit';
}

export type WorkflowToPromptResult =
  | { ok: true; prompt: ApiPrompt; warnings: string[] }
  | { ok: false; error: ErrorItem; nodeErrors: NodeErrors; warnings: string[] };

const CONTROL_SOURCE_TYPES = new Set(['Reroute']);

/** The PrimitiveNode feeding a widget socket, looking through legacy Reroutes. */
function feedingPrimitive(source: InputSource | null): ExecNode | undefined {
  let current = source;
  for (let hops = 0; current?.kind === 'output' && hops < 1000; hops++) {
    const node = current.node;
    if (node.type === 'PrimitiveNode') return node;
    if (!CONTROL_SOURCE_TYPES.has(node.type)) return undefined;
    current = node.inputs[0]?.source ?? null;
  }
  return undefined;
}

/** Each PrimitiveNode writes its value into the widgets it drives (its applyToGraph). */
function applyPrimitives(nodes: readonly ExecNode[]): void {
  for (const node of nodes) {
    for (const input of node.inputs) {
      if (!input.widgetName || !node.widgets.has(input.widgetName)) continue;
      const primitive = feedingPrimitive(input.source);
      if (primitive && primitive.primitiveValue !== undefined) node.widgets.set(input.widgetName, primitive.primitiveValue);
    }
  }
}

function wrapList(value: unknown): unknown {
  return Array.isArray(value) ? { __value__: value } : value;
}

interface EmitSettings {
  random: RandomSource | null;
  dropUnlinkedConverted: boolean;
  uploadName: string | null;
}

function hasShapedSlots(workflow: UiWorkflow): boolean {
  return workflow.nodes.some((n) => [...(n.inputs ?? []), ...(n.outputs ?? [])].some((slot) => slot && 'shape' in slot));
}

function uploadWidgetName(workflow: UiWorkflow, option: WorkflowToPromptOptions['uploadWidget']): string | null {
  const choice = option ?? 'auto';
  if (choice === 'omit') return null;
  if (choice !== 'auto') return choice;
  if (workflow.extra?.frontendVersion) return null;
  const groups = (workflow.groups ?? []) as Record<string, unknown>[];
  if (groups.length && groups.every((g) => g && !('font_size' in g))) return 'choose file to upload';
  return workflow.extra?.ds || hasShapedSlots(workflow) ? 'upload' : 'choose file to upload';
}

function widgetInputs(node: ExecNode, settings: EmitSettings): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  const specs = new Map(orderedInputs(node.def!).map((i) => [i.name, i.spec]));
  for (const [name, stored] of node.widgets) {
    if (settings.dropUnlinkedConverted && node.inputs.some((i) => i.widgetName === name && !i.source)) continue;
    let value = stored;
    const options = specs.get(name)?.[1] as Record<string, unknown> | undefined;
    if (settings.random && options?.['dynamicPrompts'] && typeof value === 'string') value = processDynamicPrompt(value, settings.random);
    inputs[name] = wrapList(value);
    if (settings.uploadName && node.uploadValues.has(name)) inputs[settings.uploadName] = node.uploadValues.get(name);
  }
  return inputs;
}

function emitNode(node: ExecNode, resolver: LinkResolver, settings: EmitSettings, includeMeta: boolean): ApiNode {
  const inputs = widgetInputs(node, settings);
  node.inputs.forEach((input, slot) => {
    const resolved = resolver.resolveInput(node, slot);
    if (!resolved) return;
    inputs[input.name] = resolved.kind === 'value' ? wrapList(resolved.value) : [resolved.node.id, resolved.slot];
  });
  const out: ApiNode = { inputs, class_type: node.type };
  if (includeMeta) out._meta = { title: node.title };
  return out;
}

/** Rule 7: an input linked to a node that was not emitted (muted, say) is removed. */
function pruneDanglingLinks(prompt: ApiPrompt): void {
  for (const node of Object.values(prompt)) {
    for (const [name, value] of Object.entries(node.inputs)) {
      if (Array.isArray(value) && value.length === 2 && !(String(value[0]) in prompt)) delete node.inputs[name];
    }
  }
}

function buildGraph(workflow: UiWorkflow, objectInfo: Record<string, NodeDefWire>, options: WorkflowToPromptOptions): BuildContext {
  const virtualTypes = [...DEFAULT_VIRTUAL_TYPES, ...(options.virtualNodeTypes ?? [])];
  const ctx = createBuildContext(workflow, objectInfo, virtualTypes, (options.missingWidgets ?? 'default') === 'default');
  buildScope(ctx, workflow.nodes, { prefix: '', links: linkMap(workflow.links), nodes: new Map(), depth: 0 });
  applyPrimitives(ctx.all);
  return ctx;
}

function emitSettings(workflow: UiWorkflow, options: WorkflowToPromptOptions): EmitSettings {
  const dyn = options.dynamicPrompts ?? true;
  const legacy = options.legacyConvertedWidgets ?? 'auto';
  return {
    random: dyn === false ? null : dyn === true ? Math.random : dyn,
    dropUnlinkedConverted: legacy === 'auto' ? !workflow.extra?.frontendVersion : legacy,
    uploadName: uploadWidgetName(workflow, options.uploadWidget),
  };
}

function convert(workflow: UiWorkflow, objectInfo: Record<string, NodeDefWire>, options: WorkflowToPromptOptions, warnings: string[]): ApiPrompt {
  const ctx = buildGraph(workflow, objectInfo, options);
  warnings.push(...ctx.warnings);
  const resolver = new LinkResolver(warnings);
  const settings = emitSettings(workflow, options);
  const prompt: ApiPrompt = {};
  for (const node of ctx.all) {
    if (node.role !== 'real' || node.mode === MODE_NEVER || node.mode === MODE_BYPASS) continue;
    if (!node.def) throw missingNodeType(node.id, node.ui, Object.keys(objectInfo));
    prompt[node.id] = emitNode(node, resolver, settings, options.includeMeta ?? true);
  }
  pruneDanglingLinks(prompt);
  return prompt;
}

export function workflowToPrompt(workflow: unknown, objectInfo: Record<string, NodeDefWire>, options: WorkflowToPromptOptions = {}): WorkflowToPromptResult {
  const warnings: string[] = [];
  try {
    if (!isUiWorkflow(workflow)) throw invalidWorkflow('not a UI workflow: expected an object with a "nodes" array (and "links")');
    return { ok: true, prompt: convert(workflow, objectInfo, options, warnings), warnings };
  } catch (err) {
    if (err instanceof WorkflowConvertError) return { ok: false, error: err.item, nodeErrors: err.nodeErrors, warnings };
    // A field of the wrong shape deep inside a hand-edited or corrupted file.
    if (err instanceof TypeError || err instanceof RangeError) {
      const bad = invalidWorkflow(`malformed workflow: ${err.message}`);
      return { ok: false, error: bad.item, nodeErrors: {}, warnings };
    }
    throw err;
  }
}
