/**
 * Node expansion (spec §3.8): a node returns `{expand, result}`; the sub-graph's nodes join the
 * run under ids `<parent>.<call>.<graph>.<local>` (ComfyUI GraphBuilder's format), the parent
 * waits for the nodes its `result` links to, then completes with their values.
 */
import { isLink, type ApiNode, type ApiPrompt } from '../compat/api-types.js';
import { mergeResults, type SubgraphPart } from './run-node.js';
import { definitionOf, type PromptRun } from './run-state.js';
import type { NodeDefinition } from '../nodes/node-api.js';
import { isPlainObject } from './py-values.js';

/**
 * Namespaces an expansion's ids under its parent call, unless they already are (a node that
 * built them with the parent's prefix). Links to ids outside the graph are left alone.
 */
export function prefixExpansion(parentId: string, callIndex: number, part: SubgraphPart): { graph: ApiPrompt; result: unknown[] } {
  const graph = part.graph ?? {};
  const result = part.result ?? [];
  const ids = Object.keys(graph);
  if (ids.every((id) => id.startsWith(`${parentId}.`))) return { graph, result };
  const prefix = `${parentId}.${callIndex}.0.`;
  const rename = (value: unknown) => (isLink(value) && Object.hasOwn(graph, value[0]) ? [prefix + value[0], value[1]] : value);
  const renamed: ApiPrompt = {};
  for (const [id, node] of Object.entries(graph)) {
    const inputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(isPlainObject(node.inputs) ? node.inputs : {})) inputs[name] = rename(value);
    renamed[prefix + id] = { ...node, inputs };
  }
  return { graph: renamed, result: result.map(rename) };
}

/** Adds the expansion to the run; the parent stays pending until the linked nodes are done. */
export async function spliceExpansion(run: PromptRun, parentId: string, parts: SubgraphPart[]): Promise<void> {
  const resolved: { isSubgraph: boolean; result: unknown[] }[] = [];
  const newIds: string[] = [];
  const newOutputs: string[] = [];
  const links: [string, number][] = [];
  parts.forEach((part, callIndex) => {
    if (!part.graph) {
      resolved.push({ isSubgraph: false, result: part.result ?? [] });
      return;
    }
    const { graph, result } = prefixExpansion(parentId, callIndex, part);
    for (const [id, node] of Object.entries(graph)) {
      newIds.push(id);
      const display = typeof node.override_display_id === 'string' ? node.override_display_id : parentId;
      run.dyn.addEphemeralNode(id, node as ApiNode, parentId, display);
      if (definitionOf(run, id).outputNode === true) newOutputs.push(id);
    }
    for (const r of result) if (isLink(r)) links.push([r[0], r[1]]);
    resolved.push({ isSubgraph: true, result });
  });
  const subcache = await run.store.ensureSubcacheFor(parentId, newIds);
  subcache.cleanUnused();
  for (const id of newOutputs) {
    run.list.addNode(id);
    run.list.linkValue(id, parentId);
  }
  for (const [from, socket] of links) run.list.addStrongLink(from, socket, parentId);
  run.pendingSubgraphs.set(parentId, resolved);
}

/**
 * The parent's outputs once its expansion ran. As in ComfyUI, each linked result contributes
 * every element of the linked output list at its position.
 */
export function resolveExpansionResults(run: PromptRun, parentId: string, def: NodeDefinition): unknown[][] {
  const parts = run.pendingSubgraphs.get(parentId)!;
  run.pendingSubgraphs.delete(parentId);
  const tuples = parts.map((part) => {
    if (!part.isSubgraph) return part.result;
    const values: unknown[] = [];
    for (const r of part.result) {
      if (!isLink(r)) {
        values.push(r);
        continue;
      }
      const entry = run.list.readValue(r[0], parentId);
      if (!entry) throw new Error(`expansion of node ${parentId}: node ${r[0]} produced no value`);
      values.push(...(entry.outputs[r[1]] ?? []));
    }
    return values;
  });
  return tuples.length > 0 ? mergeResults(tuples, def) : [];
}
