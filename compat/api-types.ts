/**
 * ComfyUI wire shapes (spec/comfyui-api.md). Field names stay snake_case here, and only here.
 */

/** A link from an input to output slot `slot` of node `nodeId`: `["4", 0]`. */
export type Link = [nodeId: string, slot: number];

export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
  [extra: string]: unknown;
}

/** An API-format prompt: node id → node (spec §3.1). */
export type ApiPrompt = Record<string, ApiNode>;

export function isLink(value: unknown): value is Link {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    typeof value[1] === 'number' &&
    Number.isInteger(value[1])
  );
}

/** One validation or request error: `{type, message, details, extra_info}` (spec §3.2). */
export interface ErrorItem {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeErrorEntry {
  errors: ErrorItem[];
  dependent_outputs: string[];
  class_type: string;
}

export type NodeErrors = Record<string, NodeErrorEntry>;

/** The queue 5-tuple `[number, prompt_id, prompt, extra_data, outputs_to_execute]` (spec §1.2). */
export type QueueItem = [number: number, promptId: string, prompt: ApiPrompt, extraData: Record<string, unknown>, outputs: string[]];

/** A UI dict of lists, e.g. `{"images": [{filename, subfolder, type}]}` (spec §3.8). */
export type UiOutput = Record<string, unknown[]>;

export interface ImageRef {
  filename: string;
  subfolder: string;
  type: 'output' | 'input' | 'temp';
}

/** A lifecycle message recorded in history: `["execution_start", {...}]`. */
export type StatusMessage = [type: string, data: Record<string, unknown>];

export interface HistoryStatus {
  status_str: 'success' | 'error';
  completed: boolean;
  messages: StatusMessage[];
}

export interface NodeMeta {
  node_id: string;
  display_node: string;
  parent_node: string | null;
  real_node_id: string;
}

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, UiOutput>;
  status: HistoryStatus;
  meta: Record<string, NodeMeta>;
}

/** Input spec as `/object_info` shows it: `[TYPE]` or `[TYPE, options]`; TYPE may be a combo list. */
export type InputSpecWire = [string | unknown[]] | [string | unknown[], Record<string, unknown>];

/** NodeDef in ComfyUI's V1 `/object_info` shape (spec §1.5). */
export interface NodeDefWire {
  input: {
    required?: Record<string, InputSpecWire>;
    optional?: Record<string, InputSpecWire>;
    hidden?: Record<string, string | InputSpecWire>;
  };
  input_order: { required?: string[]; optional?: string[]; hidden?: string[] };
  is_input_list: boolean;
  output: (string | unknown[])[];
  output_is_list: boolean[];
  output_name: string[];
  output_tooltips?: string[];
  name: string;
  display_name: string;
  description: string;
  python_module: string;
  category: string;
  output_node: boolean;
  has_intermediate_output: boolean;
  search_aliases: string[];
  deprecated?: true;
  experimental?: true;
  dev_only?: true;
}
