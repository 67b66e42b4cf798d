/**
 * UI-format workflows as the ComfyUI frontend saves them (litegraph JSON, spec §4.1): schema 0.4
 * (links as arrays) and schema 1 (links as objects), subgraph definitions, legacy group nodes.
 * Only the fields the converter reads are typed; everything else passes through as unknown.
 */

export type UiNodeId = number | string;

export interface UiInputSlot {
  name: string;
  type: string | number;
  link: number | null;
  /** Present on widget-backed sockets ("converted widgets"). */
  widget?: { name: string };
  label?: string;
  slot_index?: number;
  [extra: string]: unknown;
}

export interface UiOutputSlot {
  name: string;
  type: string | number;
  links?: number[] | null;
  slot_index?: number;
  widget?: { name: string };
  [extra: string]: unknown;
}

export interface UiNode {
  id: UiNodeId;
  type: string;
  mode?: number;
  title?: string;
  inputs?: UiInputSlot[];
  outputs?: UiOutputSlot[];
  properties?: Record<string, unknown>;
  /** Usually an array in widget order; some custom nodes store an object keyed by widget name. */
  widgets_values?: unknown[] | Record<string, unknown>;
  [extra: string]: unknown;
}

/** Schema 0.4: `[link_id, origin_id, origin_slot, target_id, target_slot, type]`. */
export type UiLinkArray = [number, UiNodeId, number, UiNodeId, number, string | number];

/** Schema 1 and subgraph definitions. */
export interface UiLinkObject {
  id: number;
  origin_id: UiNodeId;
  origin_slot: number;
  target_id: UiNodeId;
  target_slot: number;
  type: string | number;
  parentId?: number;
}

export type UiLink = UiLinkArray | UiLinkObject;

/** A subgraph's own input/output slot (on its input node / output node). */
export interface SubgraphIoSlot {
  id?: string;
  name: string;
  type: string | number;
  linkIds?: number[];
  [extra: string]: unknown;
}

export interface SubgraphDefinition {
  id: string;
  name?: string;
  nodes: UiNode[];
  links?: UiLink[];
  inputs?: SubgraphIoSlot[];
  outputs?: SubgraphIoSlot[];
  widgets?: unknown[];
  [extra: string]: unknown;
}

/** `extra.groupNodes[name]`: a legacy group node's inner graph, nodes addressed by index. */
export interface GroupNodeDefinition {
  nodes: (UiNode & { index?: number })[];
  /** `[origin_index | null, origin_slot, target_index, target_slot, link_id, type]`; null origin = fed from outside. */
  links: [number | null, number, number, number, unknown, string | number][];
  /** `[node_index, output_slot, type]`: inner outputs that are also linked outside the group. */
  external?: [number, number, string | number][];
  config?: Record<string, { input?: Record<string, { name?: string; visible?: boolean }>; output?: Record<string, { name?: string; visible?: boolean }> }>;
}

export interface UiWorkflow {
  id?: string;
  version?: number;
  nodes: UiNode[];
  links?: UiLink[];
  groups?: unknown[];
  extra?: {
    frontendVersion?: string;
    groupNodes?: Record<string, GroupNodeDefinition>;
    reroutes?: unknown[];
    [extra: string]: unknown;
  };
  definitions?: { subgraphs?: SubgraphDefinition[] };
  /** Schema 1 only. */
  state?: { lastNodeId?: number; lastLinkId?: number; lastGroupId?: number; lastRerouteId?: number };
  [extra: string]: unknown;
}

/** A link in one shape, whatever the schema. */
export interface NormalLink {
  id: number;
  originId: UiNodeId;
  originSlot: number;
  targetId: UiNodeId;
  targetSlot: number;
  type: string;
}

/** Subgraph IO pseudo-node ids inside a definition. */
export const SUBGRAPH_INPUT_NODE_ID = -10;
export const SUBGRAPH_OUTPUT_NODE_ID = -20;

export function normalizeLink(link: UiLink): NormalLink | null {
  if (Array.isArray(link)) {
    if (link.length < 5) return null;
    return { id: Number(link[0]), originId: link[1], originSlot: Number(link[2]), targetId: link[3], targetSlot: Number(link[4]), type: String(link[5] ?? '*') };
  }
  if (!link || typeof link !== 'object') return null;
  return { id: Number(link.id), originId: link.origin_id, originSlot: Number(link.origin_slot), targetId: link.target_id, targetSlot: Number(link.target_slot), type: String(link.type ?? '*') };
}

export function linkMap(links: readonly UiLink[] | undefined): Map<number, NormalLink> {
  const out = new Map<number, NormalLink>();
  for (const raw of links ?? []) {
    const link = normalizeLink(raw);
    if (link && Number.isFinite(link.id)) out.set(link.id, link);
  }
  return out;
}
