/**
 * UI graph → API prompt, following the frontend's graphToPrompt (spec §4.2): virtual nodes,
 * muted and bypassed nodes are dropped, links are followed through Reroutes and bypassed nodes,
 * PrimitiveNodes give their value, control widgets stay out of the prompt, and dynamic prompts and
 * filename tokens are expanded.
 */
import { LGraphEventMode, type LGraph, type LGraphNode, type LLink } from '@comfyorg/litegraph';
import { VIRTUAL_NODE_TYPES } from './node-types.js';
import { applyTextReplacements, expandDynamicPrompt, type WidgetLookup } from './text-replacements.js';
import type { ComfyWidget } from './widgets.js';

export type PromptInput = unknown;
export interface PromptNode {
  class_type: string;
  inputs: Record<string, PromptInput>;
  _meta: { title: string };
}
export type ApiPrompt = Record<string, PromptNode>;

type Resolved = { kind: 'link'; nodeId: string; slot: number } | { kind: 'value'; value: unknown } | { kind: 'none' };

const MAX_HOPS = 64;

function isVirtual(node: LGraphNode): boolean {
  return VIRTUAL_NODE_TYPES.has(node.type ?? '') || Boolean((node as { isVirtualNode?: boolean }).isVirtualNode);
}

function typesMatch(a: unknown, b: unknown): boolean {
  const [x, y] = [String(a ?? '*'), String(b ?? '*')];
  if (x === '*' || y === '*' || x === '' || y === '') return true;
  const xs = x.split(',');
  return y.split(',').some((t) => xs.includes(t));
}

/** Which input of a bypassed node stands in for output `slot` (spec §4.2 rule 5). */
function bypassInput(node: LGraphNode, slot: number, targetType: unknown): number {
  const inputs = node.inputs ?? [];
  const outType = node.outputs?.[slot]?.type;
  if (targetType === '*' || !targetType) return inputs[slot] ? slot : 0;
  if (inputs[slot] && typesMatch(inputs[slot].type, outType) && typesMatch(inputs[slot].type, targetType)) return slot;
  const exact = inputs.findIndex((i) => String(i.type) === String(targetType));
  if (exact >= 0) return exact;
  return inputs.findIndex((i) => typesMatch(i.type, outType) && typesMatch(i.type, targetType));
}

function resolveLink(graph: LGraph, link: LLink | undefined, targetType: unknown): Resolved {
  for (let hops = 0; link && hops < MAX_HOPS; hops++) {
    const origin = graph.getNodeById(link.origin_id);
    if (!origin || origin.mode === LGraphEventMode.NEVER) return { kind: 'none' };
    let nextInput: number;
    if (origin.type === 'PrimitiveNode') return { kind: 'value', value: origin.widgets?.[0]?.value };
    if (origin.mode === LGraphEventMode.BYPASS) nextInput = bypassInput(origin, link.origin_slot, targetType);
    else if (isVirtual(origin)) nextInput = link.origin_slot;
    else return { kind: 'link', nodeId: String(origin.id), slot: link.origin_slot };
    const linkId = origin.inputs?.[nextInput]?.link;
    link = linkId == null ? undefined : graph.links.get(linkId);
  }
  return { kind: 'none' };
}

function widgetLookup(graph: LGraph): WidgetLookup {
  return (nodeName, widgetName) => {
    const node = graph._nodes.find((n) => n.title === nodeName) ?? graph._nodes.find((n) => n.properties?.['Node name for S&R'] === nodeName);
    return node?.widgets?.find((w) => w.name === widgetName)?.value;
  };
}

/** The value a widget sends: dynamic prompts and filename tokens expanded as the frontend does. */
function promptValue(graph: LGraph, widget: ComfyWidget): PromptInput {
  const { value } = widget;
  if (Array.isArray(value)) return { __value__: value };
  if (typeof value !== 'string') return value;
  if ((widget.options as { dynamicPrompts?: boolean }).dynamicPrompts) return expandDynamicPrompt(value);
  if (widget.name === 'filename_prefix') return applyTextReplacements(value, widgetLookup(graph));
  return value;
}

function widgetInputs(graph: LGraph, node: LGraphNode): Record<string, PromptInput> {
  const inputs: Record<string, PromptInput> = {};
  for (const widget of (node.widgets ?? []) as ComfyWidget[]) {
    if (!widget.name || widget.serialize === false || widget.promptSkip || widget.type === 'button') continue;
    inputs[widget.name] = promptValue(graph, widget);
  }
  return inputs;
}

function nodeToPrompt(graph: LGraph, node: LGraphNode): PromptNode {
  const inputs = widgetInputs(graph, node);
  for (const input of node.inputs ?? []) {
    if (input.link == null) continue;
    const resolved = resolveLink(graph, graph.links.get(input.link), input.type);
    if (resolved.kind === 'link') inputs[input.name] = [resolved.nodeId, resolved.slot];
    else if (resolved.kind === 'value') inputs[input.name] = resolved.value;
  }
  return { class_type: String(node.type), inputs, _meta: { title: node.title } };
}

export function graphToPrompt(graph: LGraph): ApiPrompt {
  const prompt: ApiPrompt = {};
  for (const node of graph.computeExecutionOrder(false)) {
    if (isVirtual(node) || node.mode === LGraphEventMode.NEVER || node.mode === LGraphEventMode.BYPASS) continue;
    prompt[String(node.id)] = nodeToPrompt(graph, node);
  }
  // Rule 7: links into nodes that were not emitted are dropped.
  for (const entry of Object.values(prompt)) {
    for (const [name, value] of Object.entries(entry.inputs)) {
      if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && !(value[0] in prompt)) delete entry.inputs[name];
    }
  }
  return prompt;
}

/** Node types used in the graph that the server doesn't know (loaded as placeholders). */
export function missingNodeTypes(graph: LGraph): string[] {
  const missing = new Set<string>();
  for (const node of graph._nodes) if ((node as { last_serialization?: unknown }).last_serialization && node.has_errors) missing.add(String(node.type));
  return [...missing].sort();
}
