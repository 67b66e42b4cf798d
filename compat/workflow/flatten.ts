/**
 * Builds the flattened execution graph (model.ts) from a UI workflow: one ExecNode per node of the
 * root graph and of every subgraph instance (ids `"<instance>:<inner>"`, nested `a:b:c`), with
 * each input's link source resolved inside its own graph. Legacy group nodes are expanded by
 * group-nodes.ts.
 */
import type { NodeDefWire } from '../api-types.js';
import { invalidNode } from './errors.js';
import { expandGroupNode, groupNodeName } from './group-nodes.js';
import { MODE_ALWAYS, MODE_BYPASS, MODE_NEVER, type ExecNode, type ExecRole, type InputSource } from './model.js';
import { linkMap, SUBGRAPH_INPUT_NODE_ID, SUBGRAPH_OUTPUT_NODE_ID, type NormalLink, type SubgraphDefinition, type UiNode, type UiWorkflow } from './types.js';
import { hasControl, mapWidgetValues, orderedInputs, widgetPlan } from './widgets.js';

/** Frontend-only node types: never sent to the server. */
export const DEFAULT_VIRTUAL_TYPES = ['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote', 'Label (rgthree)', 'Bookmark (rgthree)', 'Fast Groups Muter (rgthree)', 'Fast Groups Bypasser (rgthree)'];

const MAX_SUBGRAPH_DEPTH = 32;

export interface BuildContext {
  objectInfo: Record<string, NodeDefWire>;
  workflow: UiWorkflow;
  subgraphs: Map<string, SubgraphDefinition>;
  virtualTypes: Set<string>;
  /** Give widgets the saved node has no value for their default (see WorkflowToPromptOptions). */
  fillMissingWidgets: boolean;
  /** Every node created, containers and inner nodes alike, in creation order. */
  all: ExecNode[];
  warnings: string[];
}

export interface Scope {
  prefix: string;
  /** The subgraph instance or group node this graph lives in. */
  parent?: ExecNode;
  links: Map<number, NormalLink>;
  nodes: Map<string, ExecNode>;
  depth: number;
}

function roleOf(ctx: BuildContext, node: UiNode): ExecRole {
  if (ctx.virtualTypes.has(node.type)) return 'virtual';
  if (ctx.subgraphs.has(node.type)) return 'subgraph';
  if (groupNodeName(ctx.workflow, node.type) !== null) return 'group';
  return 'real';
}

function nodeMode(node: UiNode, parentMode: number): number {
  // A muted or bypassed container mutes or bypasses everything inside it.
  if (parentMode === MODE_NEVER || parentMode === MODE_BYPASS) return parentMode;
  return typeof node.mode === 'number' ? node.mode : MODE_ALWAYS;
}

/** An ExecNode for one UI node; inputs are wired later, once every node of the graph exists. */
export function makeExecNode(ctx: BuildContext, ui: UiNode, id: string, parentMode: number): ExecNode {
  if (!ui || typeof ui !== 'object' || typeof ui.type !== 'string') throw invalidNode(id, { id, type: String(ui?.type) }, 'node has no type');
  const role = roleOf(ctx, ui);
  const def = role === 'real' ? ctx.objectInfo[ui.type] : undefined;
  const node: ExecNode = {
    id,
    ui,
    type: ui.type,
    mode: nodeMode(ui, parentMode),
    title: ui.title ?? def?.display_name ?? ui.type,
    role,
    def,
    inputs: (Array.isArray(ui.inputs) ? ui.inputs : []).map((slot) => ({ name: String(slot?.name ?? ''), type: String(slot?.type ?? '*'), widgetName: slot?.widget?.name, source: null })),
    outputTypes: (Array.isArray(ui.outputs) ? ui.outputs : []).map((slot) => String(slot?.type ?? '*')),
    widgets: new Map(),
    uploadValues: new Map(),
  };
  if (def) {
    const mapped = mapWidgetValues(widgetPlan(def), ui.widgets_values, ctx.fillMissingWidgets);
    node.widgets = mapped.values;
    node.uploadValues = mapped.uploads;
    if (mapped.unused > 0) ctx.warnings.push(`node ${id} (${ui.type}): ${mapped.unused} widgets_values entr${mapped.unused === 1 ? 'y' : 'ies'} beyond the widgets its definition declares were ignored`);
  }
  if (ui.type === 'PrimitiveNode' && Array.isArray(ui.widgets_values)) node.primitiveValue = ui.widgets_values[0];
  ctx.all.push(node);
  return node;
}

/** Where link `linkId` of this graph comes from. */
export function linkSource(scope: Scope, linkId: number | null | undefined): InputSource | null {
  if (linkId === null || linkId === undefined) return null;
  const link = scope.links.get(Number(linkId));
  if (!link) return { kind: 'broken', linkId, message: `link ${linkId} is not in the workflow's links` };
  if (Number(link.originId) === SUBGRAPH_INPUT_NODE_ID && scope.parent) return { kind: 'parent-input', parent: scope.parent, slot: link.originSlot };
  const origin = scope.nodes.get(String(link.originId));
  if (!origin) return { kind: 'broken', linkId, message: `link ${linkId} comes from node ${link.originId}, which is not in the workflow` };
  return { kind: 'output', node: origin, slot: link.originSlot };
}

/** Creates and wires every node of one graph (root or subgraph definition), recursing into containers. */
export function buildScope(ctx: BuildContext, uiNodes: readonly UiNode[], scope: Scope): void {
  const parentMode = scope.parent?.mode ?? MODE_ALWAYS;
  for (const ui of uiNodes) {
    const id = `${scope.prefix}${ui?.id}`;
    if (scope.nodes.has(String(ui?.id))) throw invalidNode(id, ui, `duplicate node id ${ui.id}`);
    scope.nodes.set(String(ui.id), makeExecNode(ctx, ui, id, parentMode));
  }
  for (const node of scope.nodes.values()) {
    node.ui.inputs?.forEach((slot, i) => {
      node.inputs[i]!.source = linkSource(scope, slot?.link);
    });
  }
  for (const node of scope.nodes.values()) {
    if (node.role === 'subgraph') expandSubgraph(ctx, node, scope.depth + 1);
    else if (node.role === 'group') expandGroupNode(ctx, node);
  }
}

function expandSubgraph(ctx: BuildContext, instance: ExecNode, depth: number): void {
  if (depth > MAX_SUBGRAPH_DEPTH) throw invalidNode(instance.id, instance.ui, `subgraphs nested deeper than ${MAX_SUBGRAPH_DEPTH} levels (a subgraph that contains itself?)`);
  const def = ctx.subgraphs.get(instance.type)!;
  const scope: Scope = { prefix: `${instance.id}:`, parent: instance, links: linkMap(def.links), nodes: new Map(), depth };
  buildScope(ctx, Array.isArray(def.nodes) ? def.nodes : [], scope);
  const outputCount = Math.max(instance.outputTypes.length, def.outputs?.length ?? 0);
  instance.outputSources = [];
  for (let slot = 0; slot < outputCount; slot++) {
    const link = [...scope.links.values()].find((l) => Number(l.targetId) === SUBGRAPH_OUTPUT_NODE_ID && l.targetSlot === slot);
    instance.outputSources.push(link ? linkSource(scope, link.id) : null);
  }
  instance.promotedWidgets = promotedWidgets(instance, def, scope);
}

/** The inner widget a subgraph input feeds (its first link that lands on a widget socket). */
function promotedTarget(scope: Scope, slot: number): { node: ExecNode; widgetName: string } | undefined {
  for (const l of scope.links.values()) {
    if (Number(l.originId) !== SUBGRAPH_INPUT_NODE_ID || l.originSlot !== slot) continue;
    const node = scope.nodes.get(String(l.targetId));
    const widgetName = node?.inputs[l.targetSlot]?.widgetName;
    if (node && widgetName) return { node, widgetName };
  }
  return undefined;
}

/**
 * A subgraph input wired to a widget inside becomes a widget on the instance; the instance's
 * `widgets_values` holds one value per such input, in input order. Older files also kept a slot
 * for the control value after seed-like widgets; that shows as a longer array.
 */
function promotedWidgets(instance: ExecNode, def: SubgraphDefinition, scope: Scope): Map<number, unknown> {
  const out = new Map<number, unknown>();
  const stored = instance.ui.widgets_values;
  if (!Array.isArray(stored) || stored.length === 0) return out;
  const promoted = (def.inputs ?? []).flatMap((_input, slot) => {
    const target = promotedTarget(scope, slot);
    return target ? [{ slot, ...target }] : [];
  });
  const withControlSlots = stored.length > promoted.length;
  let i = 0;
  for (const { slot, node, widgetName } of promoted) {
    if (i < stored.length) out.set(slot, stored[i]);
    i++;
    const spec = node.def ? orderedInputs(node.def).find((input) => input.name === widgetName)?.spec : undefined;
    if (withControlSlots && spec && hasControl(widgetName, spec)) i++;
  }
  return out;
}

export function createBuildContext(workflow: UiWorkflow, objectInfo: Record<string, NodeDefWire>, virtualTypes: readonly string[], fillMissingWidgets = true): BuildContext {
  const subgraphs = new Map<string, SubgraphDefinition>();
  for (const sg of workflow.definitions?.subgraphs ?? []) if (sg && typeof sg.id === 'string') subgraphs.set(sg.id, sg);
  return { objectInfo, workflow, subgraphs, virtualTypes: new Set(virtualTypes), fillMissingWidgets, all: [], warnings: [] };
}
