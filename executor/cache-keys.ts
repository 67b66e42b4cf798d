/**
 * Cache key making, apart from cache keeping (spec §3.10). A node's key is its input signature:
 * class type, IS_CHANGED fingerprint, its id only when NOT_IDEMPOTENT or it takes UNIQUE_ID,
 * inputs sorted by name with links as ("ANCESTOR", ancestor index, slot), then the same for
 * every ancestor in a deterministic depth-first order. Node ids of ancestors never enter the
 * key, so identical sub-graphs hit under different ids.
 */
import { isLink } from '../compat/api-types.js';
import { ExecutionBlocker, resolveInputTypes, type NodeDefinition, type NodeEnvironment } from '../nodes/node-api.js';
import { nodeInputs, type DynamicPrompt } from './dynamic-prompt.js';
import { gatherInputs, sliceCalls } from './input-data.js';
import { isPlainObject } from './py-values.js';
import type { NodeLookup } from './validate-node.js';

/** Per-prompt IS_CHANGED results (ComfyUI's IsChangedCache). */
export class FingerprintCache {
  private readonly results = new Map<string, unknown>();

  constructor(
    private readonly dyn: DynamicPrompt,
    private readonly nodes: NodeLookup,
    private readonly env: NodeEnvironment,
  ) {}

  async get(nodeId: string): Promise<unknown> {
    if (this.results.has(nodeId)) return this.results.get(nodeId);
    const value = await this.compute(nodeId);
    this.results.set(nodeId, value);
    return value;
  }

  private async compute(nodeId: string): Promise<unknown> {
    const node = this.dyn.getNode(nodeId);
    const def = this.nodes.get(node.class_type);
    if (!def?.isChanged) return false;
    if (Object.hasOwn(node, 'is_changed')) return node.is_changed;
    try {
      const types = resolveInputTypes(def, this.env);
      // Only constants: linked inputs arrive undefined, as ComfyUI passes no outputs here.
      const { values } = gatherInputs(nodeInputs(node), types, nodeId, undefined, { prompt: {}, dynprompt: null, extraData: {} });
      const results: unknown[] = [];
      for (const call of sliceCalls(values, def.inputIsList === true)) {
        const result = await def.isChanged(call, this.env);
        results.push(result instanceof ExecutionBlocker ? null : result);
      }
      return results;
    } catch (err) {
      this.env.log.warn(`WARNING: IS_CHANGED of node ${nodeId} failed: ${(err as Error).message}`);
      return Number.NaN;
    }
  }
}

/** Key sets name each node's cache entry and its expansion sub-cache. */
export interface CacheKeySet {
  addKeys(nodeIds: Iterable<string>): Promise<void>;
  dataKey(nodeId: string): string | undefined;
  subcacheKey(nodeId: string): string | undefined;
  usedKeys(): Set<string>;
  usedSubcacheKeys(): Set<string>;
  nodeIds(): string[];
}

export type CacheKeySetFactory = () => CacheKeySet;

export class InputSignatureKeySet implements CacheKeySet {
  private readonly keys = new Map<string, string>();
  private readonly subcacheKeys = new Map<string, string>();

  constructor(
    private readonly dyn: DynamicPrompt,
    private readonly fingerprints: FingerprintCache,
    private readonly nodes: NodeLookup,
    private readonly env: NodeEnvironment,
  ) {}

  async addKeys(nodeIds: Iterable<string>): Promise<void> {
    for (const id of nodeIds) {
      if (this.keys.has(id) || !this.dyn.hasNode(id)) continue;
      this.keys.set(id, hashKey(await this.signature(id)));
      this.subcacheKeys.set(id, JSON.stringify([id, this.dyn.getNode(id).class_type]));
    }
  }

  dataKey(nodeId: string): string | undefined {
    return this.keys.get(nodeId);
  }

  subcacheKey(nodeId: string): string | undefined {
    return this.subcacheKeys.get(nodeId);
  }

  usedKeys(): Set<string> {
    return new Set(this.keys.values());
  }

  usedSubcacheKeys(): Set<string> {
    return new Set(this.subcacheKeys.values());
  }

  nodeIds(): string[] {
    return [...this.keys.keys()];
  }

  private async signature(nodeId: string): Promise<unknown[]> {
    const order = new Map<string, number>();
    const ancestors: string[] = [];
    this.collectAncestors(nodeId, ancestors, order);
    const parts = [await this.immediateSignature(nodeId, order)];
    for (const ancestor of ancestors) parts.push(await this.immediateSignature(ancestor, order));
    return parts;
  }

  private collectAncestors(nodeId: string, ancestors: string[], order: Map<string, number>): void {
    if (!this.dyn.hasNode(nodeId)) return;
    const inputs = nodeInputs(this.dyn.getNode(nodeId));
    for (const name of Object.keys(inputs).sort()) {
      const value = inputs[name];
      if (!isLink(value) || order.has(value[0])) continue;
      ancestors.push(value[0]);
      order.set(value[0], ancestors.length - 1);
      this.collectAncestors(value[0], ancestors, order);
    }
  }

  private async immediateSignature(nodeId: string, order: Map<string, number>): Promise<unknown> {
    // A missing node can't be cached: NaN never matches.
    if (!this.dyn.hasNode(nodeId)) return [Number.NaN];
    const node = this.dyn.getNode(nodeId);
    const def = this.nodes.get(node.class_type);
    const signature: unknown[] = [node.class_type, await this.fingerprints.get(nodeId)];
    if (def && (def.notIdempotent || this.takesUniqueId(def))) signature.push(nodeId);
    const inputs = nodeInputs(node);
    for (const name of Object.keys(inputs).sort()) {
      const value = inputs[name];
      signature.push(isLink(value) ? [name, ['ANCESTOR', order.get(value[0]), value[1]]] : [name, value]);
    }
    return signature;
  }

  private takesUniqueId(def: NodeDefinition): boolean {
    return Object.values(resolveInputTypes(def, this.env).hidden ?? {}).includes('UNIQUE_ID');
  }
}

let uniqueKeyCounter = 0;

/**
 * A canonical string for a signature. Values that can't be compared (NaN, class instances
 * such as tensors) make the key unique, like Python's NaN that never equals itself.
 */
export function hashKey(value: unknown): string {
  const state = { comparable: true };
  const text = canonical(value, state);
  return state.comparable ? text : `\u0000unique:${++uniqueKeyCounter}`;
}

function canonical(value: unknown, state: { comparable: boolean }): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) state.comparable = false;
    return Number.isFinite(value) ? String(value) : `"#${value}"`;
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, state)).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k], state)}`).join(',')}}`;
  }
  state.comparable = false;
  return '?';
}
