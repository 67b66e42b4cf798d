/**
 * The flattened execution graph the converter works on: every node of the root graph, of each
 * subgraph instance and of each legacy group node gets one ExecNode with its execution id
 * (`"12"`, `"12:5"`, `"12:5:3"`), and every input slot knows where its link comes from.
 */
import type { NodeDefWire } from '../api-types.js';
import type { UiNode } from './types.js';

export const MODE_ALWAYS = 0;
export const MODE_NEVER = 2;
export const MODE_BYPASS = 4;

/**
 * - real: a node the server runs (emitted unless muted/bypassed);
 * - virtual: frontend-only (Reroute, PrimitiveNode, Note, …): never emitted, links pass through
 *   the same-index input;
 * - subgraph / group: containers whose outputs lead to inner nodes.
 */
export type ExecRole = 'real' | 'virtual' | 'subgraph' | 'group';

/** Where an input slot's link comes from, resolved at build time. */
export type InputSource =
  | { kind: 'output'; node: ExecNode; slot: number }
  /** The container's own input slot (subgraph input node, or a group node's external input). */
  | { kind: 'parent-input'; parent: ExecNode; slot: number }
  | { kind: 'broken'; message: string; linkId: number };

export interface ExecInput {
  name: string;
  type: string;
  /** Set on widget-backed sockets. */
  widgetName?: string;
  source: InputSource | null;
}

export interface ExecNode {
  id: string;
  ui: UiNode;
  type: string;
  mode: number;
  title: string;
  role: ExecRole;
  def?: NodeDefWire;
  inputs: ExecInput[];
  outputTypes: string[];
  /** Serializable widget values by input name, in widget order (real nodes). */
  widgets: Map<string, unknown>;
  /** Combo input name → stored value of its upload button widget (older frontends sent it). */
  uploadValues: Map<string, unknown>;
  /** Containers: where each output slot leads (null = nothing connected inside). */
  outputSources?: (InputSource | null)[];
  /** PrimitiveNode: the value it writes into the widgets it drives. */
  primitiveValue?: unknown;
  /** Subgraph instances: value of the promoted widget behind an input slot. */
  promotedWidgets?: Map<number, unknown>;
}

export interface ConvertWarnings {
  warnings: string[];
}
