/**
 * Legacy group nodes (type `workflow>Name`, older `workflow/Name`; definition in
 * `extra.groupNodes[Name]`), expanded as the frontend's groupNode.ts does: inner node `i` becomes
 * `"<group id>:<i>"`; the group's inputs, outputs and widgets are the inner ones left unconnected
 * inside the group, in inner-node order.
 */
import type { InputSpecWire, NodeDefWire } from '../api-types.js';
import type { BuildContext } from './flatten.js';
import { makeExecNode } from './flatten.js';
import type { ExecNode } from './model.js';
import type { GroupNodeDefinition, UiNode, UiWorkflow } from './types.js';
import { isWidgetInput, mapWidgetValues, orderedInputs, specType, widgetPlan } from './widgets.js';

type GroupLink = GroupNodeDefinition['links'][number];

interface GroupLinks {
  /** index → slot → links leaving that output inside the group. */
  from: Map<number, Map<number, GroupLink[]>>;
  /** index → slot → the link entering that input from inside the group. */
  to: Map<number, Map<number, GroupLink>>;
  /** index → slot → type, for inner outputs also linked outside. */
  external: Map<number, Map<number, string>>;
}

interface GroupWidget {
  index: number;
  inputName: string;
  spec: InputSpecWire;
}

interface GroupLayout {
  widgets: GroupWidget[];
  /** Group input slot → inner (index, input slot). */
  inputs: { index: number; slot: number }[];
  /** Group output slot → inner (index, output slot). */
  outputs: { index: number; slot: number }[];
}

export function groupNodeName(workflow: UiWorkflow, type: string): string | null {
  const m = /^workflow[>/](.*)$/s.exec(type);
  if (!m) return null;
  return workflow.extra?.groupNodes?.[m[1]!] ? m[1]! : null;
}

function indexLinks(data: GroupNodeDefinition): GroupLinks {
  const links: GroupLinks = { from: new Map(), to: new Map(), external: new Map() };
  for (const l of data.links ?? []) {
    const [origin, originSlot, target, targetSlot] = l;
    if (origin === null || origin === undefined) continue; // fed from outside the group
    if (!links.from.has(origin)) links.from.set(origin, new Map());
    const slots = links.from.get(origin)!;
    slots.set(originSlot, [...(slots.get(originSlot) ?? []), l]);
    if (!links.to.has(target)) links.to.set(target, new Map());
    links.to.get(target)!.set(targetSlot, l);
  }
  for (const [index, slot, type] of data.external ?? []) {
    if (!links.external.has(index)) links.external.set(index, new Map());
    links.external.get(index)!.set(slot, String(type));
  }
  return links;
}

/** The definition the frontend builds for an inner node; virtual nodes get a synthetic one. */
function innerDef(ctx: BuildContext, data: GroupNodeDefinition, links: GroupLinks, node: UiNode, index: number): Pick<NodeDefWire, 'input' | 'input_order' | 'output'> | null {
  const real = ctx.virtualTypes.has(node.type) ? undefined : ctx.objectInfo[node.type];
  if (real) return real;
  const from = links.from.get(index);
  if (node.type === 'PrimitiveNode') {
    const first = from?.get(0)?.[0];
    if (!first) return null; // an unconnected primitive contributes nothing
    const type = String(first[5]);
    return { input: { required: { value: [type, {}] } }, input_order: { required: ['value'] }, output: [type] };
  }
  if (node.type === 'Reroute') {
    const to = links.to.get(index);
    if (to && from && !links.external.get(index)?.has(0)) return null; // used only inside the group
    let type = '*';
    const firstTarget = from?.get(0)?.[0];
    if (firstTarget) type = String(data.nodes[firstTarget[2]]?.inputs?.[firstTarget[3]]?.type ?? '*');
    else if (to?.get(0)) type = String(data.nodes[to.get(0)![0]!]?.outputs?.[to.get(0)![1]]?.type ?? '*');
    else type = String(data.links.find((l) => l[2] === index)?.[5] ?? links.external.get(index)?.get(0) ?? '*');
    return { input: { required: { [type]: [type, { forceInput: true }] } }, input_order: { required: [type] }, output: [type] };
  }
  return null;
}

function withSeedControl(name: string, spec: InputSpecWire): InputSpecWire {
  const options = { ...((spec[1] as Record<string, unknown> | undefined) ?? {}) };
  // The group widget gets a new name, so the frontend's name-based seed rule must travel with it.
  if (options['control_after_generate'] === undefined && specType(spec) === 'INT' && (name === 'seed' || name === 'noise_seed')) options['control_after_generate'] = true;
  return [spec[0], options];
}

/** Adds one inner node's exposed outputs, widgets and inputs to the group layout. */
function layoutInnerNode(layout: GroupLayout, def: Pick<NodeDefWire, 'input' | 'input_order' | 'output'>, node: UiNode, index: number, data: GroupNodeDefinition, links: GroupLinks): void {
  const config = data.config?.[String(index)];
  (def.output ?? []).forEach((_type, slot) => {
    const linkedInside = links.from.get(index)?.has(slot) && !links.external.get(index)?.has(slot);
    if (config?.output?.[String(slot)]?.visible ?? !linkedInside) layout.outputs.push({ index, slot });
  });
  const converted: { uiSlot: number; name: string; spec: InputSpecWire }[] = [];
  const sockets: string[] = [];
  for (const { name, spec } of orderedInputs(def as NodeDefWire)) {
    if (!isWidgetInput(spec)) {
      sockets.push(name);
      continue;
    }
    const uiSlot = node.inputs?.findIndex((inp) => inp.name === name && inp.widget?.name === name) ?? -1;
    if (uiSlot >= 0) converted.push({ uiSlot, name, spec });
    else layout.widgets.push({ index, inputName: name, spec: withSeedControl(name, spec) });
  }
  const inside = links.to.get(index);
  sockets.forEach((name, slot) => {
    if (inside?.has(slot) || config?.input?.[name]?.visible === false) return;
    layout.inputs.push({ index, slot });
  });
  // Widgets converted to sockets follow the plain sockets, in socket order.
  converted.sort((a, b) => a.uiSlot - b.uiSlot).forEach(({ name, spec }, j) => {
    const slot = sockets.length + j;
    if (inside?.has(slot)) return;
    layout.widgets.push({ index, inputName: name, spec: withSeedControl(name, spec) });
    layout.inputs.push({ index, slot });
  });
}

function layoutGroup(ctx: BuildContext, data: GroupNodeDefinition, links: GroupLinks): GroupLayout {
  const layout: GroupLayout = { widgets: [], inputs: [], outputs: [] };
  data.nodes.forEach((node, position) => {
    const index = typeof node.index === 'number' ? node.index : position;
    const def = innerDef(ctx, data, links, node, index);
    if (def) layoutInnerNode(layout, def, node, index, data, links);
  });
  return layout;
}

/** Writes the group's widget values into the inner widgets they stand for. */
function applyGroupWidgets(group: ExecNode, layout: GroupLayout, links: GroupLinks, inner: Map<number, ExecNode>): void {
  const names = layout.widgets.map((w, i) => `${i}:${w.inputName}`);
  const required: Record<string, InputSpecWire> = {};
  layout.widgets.forEach((w, i) => (required[names[i]!] = w.spec));
  const plan = widgetPlan({ input: { required }, input_order: { required: names } } as unknown as NodeDefWire);
  const { values } = mapWidgetValues(plan, Array.isArray(group.ui.widgets_values) ? group.ui.widgets_values : []);
  layout.widgets.forEach((w, i) => {
    if (!values.has(names[i]!)) return;
    const value = values.get(names[i]!);
    const target = inner.get(w.index);
    if (!target) return;
    if (target.type === 'PrimitiveNode') {
      target.primitiveValue = value;
      return;
    }
    if (target.type === 'Reroute') {
      for (const l of links.from.get(w.index)?.get(0) ?? []) {
        const fed = inner.get(l[2]);
        const widgetName = fed?.inputs[l[3]]?.widgetName;
        if (fed && widgetName && fed.widgets.has(widgetName)) fed.widgets.set(widgetName, value);
      }
      return;
    }
    if (target.widgets.has(w.inputName)) target.widgets.set(w.inputName, value);
  });
}

export function expandGroupNode(ctx: BuildContext, group: ExecNode): void {
  const data = ctx.workflow.extra!.groupNodes![groupNodeName(ctx.workflow, group.type)!]!;
  const links = indexLinks(data);
  const inner = new Map<number, ExecNode>();
  (data.nodes ?? []).forEach((ui, position) => {
    const index = typeof ui.index === 'number' ? ui.index : position;
    inner.set(index, makeExecNode(ctx, { ...ui, id: index }, `${group.id}:${index}`, group.mode));
  });
  const layout = layoutGroup(ctx, data, links);
  applyGroupWidgets(group, layout, links, inner);
  const external = new Map<string, number>();
  layout.inputs.forEach((ref, groupSlot) => external.set(`${ref.index}/${ref.slot}`, groupSlot));
  for (const [index, node] of inner) {
    node.inputs.forEach((input, slot) => {
      const groupSlot = external.get(`${index}/${slot}`);
      if (groupSlot !== undefined) {
        input.source = { kind: 'parent-input', parent: group, slot: groupSlot };
        return;
      }
      const link = links.to.get(index)?.get(slot);
      const origin = link ? inner.get(link[0]!) : undefined;
      input.source = origin ? { kind: 'output', node: origin, slot: link![1] } : null;
    });
  }
  group.outputSources = layout.outputs.map((ref) => {
    const node = inner.get(ref.index);
    return node ? { kind: 'output' as const, node, slot: ref.slot } : null;
  });
}
