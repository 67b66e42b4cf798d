/**
 * The `dependency_cycle` error (spec §3.2 step 4). ComfyUI gives every node on a cycle an error
 * whose `details` is the whole path and whose `extra_info.cycle_nodes` is the whole list, so a
 * reply grows with the square of the ring size (a 2,000-node ring in a ~120 KB prompt made a
 * ~200 MB reply). Cycles up to `CYCLE_REPORT_MAX_NODES` nodes are reported exactly as ComfyUI
 * does; longer ones are abridged, which bounds each error to a fixed number of node names:
 *
 *   details     "<first 8 path entries> -> ... (N more nodes) -> <closing entry>"
 *   cycle_nodes the first CYCLE_REPORT_MAX_NODES node ids of the cycle, in path order
 *   cycle_length the full number of nodes on the cycle (present only when abridged)
 */
import type { ApiPrompt, ErrorItem } from '../compat/api-types.js';
import { pyStr } from './py-values.js';

/** Longest cycle reported in full; longer cycles are abridged. */
export const CYCLE_REPORT_MAX_NODES = 16;
/** Path entries shown before the ellipsis in an abridged `details`. */
const ABRIDGED_HEAD_ENTRIES = 8;

/**
 * One error per node of the cycle closed by `path` (`path[0] === path.at(-1)`), keyed by node id.
 * The details string and node list are built once and shared by every node's error.
 */
export function cycleErrors(prompt: ApiPrompt, path: string[]): Map<string, ErrorItem> {
  const cycleNodes = [...new Set(path)];
  const abridged = cycleNodes.length > CYCLE_REPORT_MAX_NODES;
  const details = abridged ? abridgedDetails(prompt, path) : path.map((id) => describe(prompt, id)).join(' -> ');
  const listed = abridged ? cycleNodes.slice(0, CYCLE_REPORT_MAX_NODES) : cycleNodes;
  const errors = new Map<string, ErrorItem>();
  for (const nodeId of cycleNodes) {
    const extraInfo: Record<string, unknown> = { node_id: nodeId, cycle_nodes: listed };
    if (abridged) extraInfo.cycle_length = cycleNodes.length;
    errors.set(nodeId, { type: 'dependency_cycle', message: 'Dependency cycle detected', details, extra_info: extraInfo });
  }
  return errors;
}

function abridgedDetails(prompt: ApiPrompt, path: string[]): string {
  const head = path.slice(0, ABRIDGED_HEAD_ENTRIES).map((id) => describe(prompt, id));
  const omitted = path.length - ABRIDGED_HEAD_ENTRIES - 1;
  return `${head.join(' -> ')} -> ... (${omitted} more nodes) -> ${describe(prompt, path.at(-1)!)}`;
}

function describe(prompt: ApiPrompt, id: string): string {
  return `${id} (${pyStr(prompt[id]?.class_type)})`;
}
