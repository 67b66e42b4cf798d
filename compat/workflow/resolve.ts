/**
 * Link resolution as the frontend's ExecutableNodeDTO does it (spec §4.2 rule 5): from an input
 * slot back to the real node output that feeds it, through Reroutes and other virtual nodes
 * (same-index input), bypassed nodes (type-matched input), subgraph and group-node boundaries.
 */
import { brokenLink } from './errors.js';
import { MODE_BYPASS, type ExecNode, type InputSource } from './model.js';

export type Resolved = { kind: 'link'; node: ExecNode; slot: number } | { kind: 'value'; value: unknown };

/** LiteGraph.isValidConnection: `*`/empty match anything; comma lists match when they intersect. */
export function isValidConnection(left: string, right: string): boolean {
  const a = left === '*' ? '' : left;
  const b = right === '*' ? '' : right;
  if (!a || !b || a === b) return true;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (!x.includes(',') && !y.includes(',')) return x === y;
  return x.split(',').some((p) => y.split(',').some((q) => isValidConnection(p, q)));
}

/** Which input of a bypassed node stands in for output `slot` when feeding a `type` input. */
export function bypassInputIndex(node: ExecNode, slot: number, type: string): number {
  const { inputs } = node;
  if (node.role === 'group') {
    // Group nodes keep the older rule: the same index, else the first input, of exactly that type.
    const found = [slot, ...inputs.keys()].find((i) => inputs[i]?.type === type);
    return found === undefined ? -1 : found;
  }
  if (type === '*' || type === '') return inputs.length > slot ? slot : 0;
  const outputType = node.outputTypes[slot] ?? '*';
  const opposite = inputs[slot];
  if (opposite && isValidConnection(opposite.type, outputType) && isValidConnection(opposite.type, type)) return slot;
  const exact = inputs.findIndex((input) => input.type === type);
  if (exact !== -1) return exact;
  return inputs.findIndex((input) => isValidConnection(input.type, outputType) && isValidConnection(input.type, type));
}

export class LinkResolver {
  constructor(private readonly warnings: string[]) {}

  /** What feeds input `slot` of `node`, or undefined when nothing usable does. */
  resolveInput(node: ExecNode, slot: number, visited = new Set<string>(), type?: string): Resolved | undefined {
    const key = `${node.id}[I]${slot}`;
    if (visited.has(key)) throw brokenLink(node.id, node.ui, node.inputs[slot]?.name ?? String(slot), 'links form a loop through virtual or bypassed nodes');
    visited.add(key);
    const input = node.inputs[slot];
    if (!input?.source) return undefined;
    return this.resolveSource(node, input.name, input.source, type ?? input.type, visited);
  }

  private resolveSource(node: ExecNode, inputName: string, source: InputSource, type: string, visited: Set<string>): Resolved | undefined {
    switch (source.kind) {
      case 'broken':
        throw brokenLink(node.id, node.ui, inputName, source.message);
      case 'output':
        return this.resolveOutput(source.node, source.slot, type, visited);
      case 'parent-input': {
        const parentInput = source.parent.inputs[source.slot];
        if (parentInput?.source) return this.resolveInput(source.parent, source.slot, visited);
        const promoted = source.parent.promotedWidgets;
        if (promoted?.has(source.slot)) return { kind: 'value', value: promoted.get(source.slot) };
        return undefined;
      }
    }
  }

  resolveOutput(node: ExecNode, slot: number, type: string, visited: Set<string>): Resolved | undefined {
    const key = `${node.id}[O]${slot}`;
    if (visited.has(key)) throw brokenLink(node.id, node.ui, `output ${slot}`, 'links form a loop through virtual or bypassed nodes');
    visited.add(key);
    if (node.mode === MODE_BYPASS) {
      const index = bypassInputIndex(node, slot, type);
      if (index === -1) {
        this.warnings.push(`bypassed node ${node.id} (${node.type}) has no input matching type ${type} for output ${slot}; the link is dropped`);
        return undefined;
      }
      return this.resolveInput(node, index, visited);
    }
    if (node.role === 'subgraph' || node.role === 'group') {
      const source = node.outputSources?.[slot];
      return source ? this.resolveSource(node, `output ${slot}`, source, type, visited) : undefined;
    }
    if (node.role === 'virtual') {
      return node.inputs[slot] ? this.resolveInput(node, slot, visited, type) : undefined;
    }
    return { kind: 'link', node, slot };
  }
}
