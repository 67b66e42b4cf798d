/**
 * The prompt as it grows during a run (ComfyUI's DynamicPrompt): the submitted nodes plus the
 * ephemeral nodes that expansions splice in, each remembering its parent and display node.
 */
import type { ApiNode, ApiPrompt } from '../compat/api-types.js';
import { isPlainObject } from './py-values.js';

export class NodeNotFoundError extends Error {
  constructor(nodeId: string) {
    super(`Node ${nodeId} not found`);
    this.name = 'graph.NodeNotFoundError';
  }
}

export class DynamicPrompt {
  private readonly ephemeral = new Map<string, ApiNode>();
  private readonly parents = new Map<string, string>();
  private readonly displays = new Map<string, string>();

  constructor(readonly original: ApiPrompt) {}

  getNode(nodeId: string): ApiNode {
    const node = this.ephemeral.get(nodeId) ?? (Object.hasOwn(this.original, nodeId) ? this.original[nodeId] : undefined);
    if (!node) throw new NodeNotFoundError(nodeId);
    return node;
  }

  hasNode(nodeId: string): boolean {
    return this.ephemeral.has(nodeId) || Object.hasOwn(this.original, nodeId);
  }

  addEphemeralNode(nodeId: string, node: ApiNode, parentId: string, displayId: string): void {
    this.ephemeral.set(nodeId, node);
    this.parents.set(nodeId, parentId);
    this.displays.set(nodeId, displayId);
  }

  /** The submitted node an expansion node descends from. */
  realNodeId(nodeId: string): string {
    let id = nodeId;
    while (this.parents.has(id)) id = this.parents.get(id)!;
    return id;
  }

  parentNodeId(nodeId: string): string | null {
    return this.parents.get(nodeId) ?? null;
  }

  /** The node the UI should highlight (`display_node`). */
  displayNodeId(nodeId: string): string {
    let id = nodeId;
    while (this.displays.has(id)) id = this.displays.get(id)!;
    return id;
  }

  allNodeIds(): string[] {
    return [...new Set([...Object.keys(this.original), ...this.ephemeral.keys()])];
  }
}

/** A node's `inputs`, or `{}` for a malformed node (validation reports those; keying must not crash). */
export function nodeInputs(node: ApiNode): Record<string, unknown> {
  return isPlainObject(node.inputs) ? node.inputs : {};
}
