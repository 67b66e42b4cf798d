/**
 * Cache key making, apart from cache keeping (spec §3.10). A node's key is its input signature:
 * class type, IS_CHANGED fingerprint, its id only when NOT_IDEMPOTENT or it takes UNIQUE_ID,
 * inputs sorted by name with links as ("ANCESTOR", ancestor index, slot), then the same for
 * every ancestor in a deterministic depth-first order. Node ids of ancestors never enter the
 * key, so identical sub-graphs hit under different ids. Keys are digests of that signature's
 * canonical text (chain-shaped ancestries are digested link by link, in linear time).
 */
import { createHash } from 'node:crypto';
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
  private readonly templates = new Map<string, SignatureTemplate>();
  private readonly chainKeys = new Map<string, ChainKey | null>();

  constructor(
    private readonly dyn: DynamicPrompt,
    private readonly fingerprints: FingerprintCache,
    private readonly nodes: NodeLookup,
    private readonly env: NodeEnvironment,
  ) {}

  async addKeys(nodeIds: Iterable<string>): Promise<void> {
    for (const id of nodeIds) {
      if (this.keys.has(id) || !this.dyn.hasNode(id)) continue;
      this.keys.set(id, await this.signatureKey(id));
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

  /**
   * The canonical text of the node's signature (its own, then each ancestor's), kept only as a
   * digest: a 5,000-node chain has ~12.5 million ancestor entries over all its keys, too many
   * to keep as text. Equal texts give equal keys, so hits are exactly those of the text.
   * A chain-shaped ancestry (one link per node, no cycle) is keyed from its source's key in
   * constant time instead: its text is fixed by the sequence of its nodes' own signatures.
   */
  private async signatureKey(nodeId: string): Promise<string> {
    const chain = await this.chainKey(nodeId);
    if (chain) return chain.comparable ? `chain:${chain.digest}` : hashKey(Number.NaN);
    const order = new Map<string, number>();
    const ids = [nodeId, ...this.collectAncestors(nodeId, order)];
    // Await only templates not made yet: one await per ancestor would cost a microtask each.
    for (const id of ids) if (!this.templates.has(id)) await this.template(id);
    let comparable = true;
    const parts: string[] = [];
    for (const id of ids) {
      const template = this.templates.get(id)!;
      comparable &&= template.comparable;
      parts.push(template.render(order));
    }
    const digest = createHash('sha256').update(`[${parts.join(',')}]`);
    return comparable ? `graph:${digest.digest('base64')}` : hashKey(Number.NaN);
  }

  /**
   * The node's key when its ancestry is a chain, else null: walks down to a node already keyed
   * (or the chain's start), then keys the walked nodes upwards, each from the one below.
   */
  private async chainKey(nodeId: string): Promise<ChainKey | null> {
    const walk: string[] = [];
    const onWalk = new Set<string>();
    let below: ChainKey | null | undefined;
    for (let id = nodeId; ; ) {
      const known = this.chainKeys.get(id);
      if (known !== undefined || onWalk.has(id)) {
        below = known ?? null;
        break;
      }
      walk.push(id);
      onWalk.add(id);
      const links = this.sortedLinks(id);
      if (links.length !== 1) {
        below = links.length === 0 ? undefined : null;
        break;
      }
      id = links[0]!;
    }
    for (const id of walk.reverse()) {
      if (below !== null) {
        const template = await this.template(id);
        const digest = createHash('sha256').update(template.shape).update('\n').update(below?.digest ?? '');
        below = { digest: digest.digest('base64'), comparable: template.comparable && (below?.comparable ?? true) };
      }
      this.chainKeys.set(id, below);
    }
    return this.chainKeys.get(nodeId)!;
  }

  /**
   * Every ancestor once, in ComfyUI's order: depth-first, inputs sorted by name, a node listed
   * when first reached. An explicit stack, so chains of any length don't overflow.
   */
  private collectAncestors(nodeId: string, order: Map<string, number>): string[] {
    const ancestors: string[] = [];
    const stack = [{ links: this.sortedLinks(nodeId), next: 0 }];
    while (stack.length > 0) {
      const frame = stack.at(-1)!;
      if (frame.next >= frame.links.length) {
        stack.pop();
        continue;
      }
      const sourceId = frame.links[frame.next++]!;
      if (order.has(sourceId)) continue;
      ancestors.push(sourceId);
      order.set(sourceId, ancestors.length - 1);
      stack.push({ links: this.sortedLinks(sourceId), next: 0 });
    }
    return ancestors;
  }

  /** Source ids of the node's linked inputs, by input name. */
  private sortedLinks(nodeId: string): string[] {
    if (!this.dyn.hasNode(nodeId)) return [];
    const inputs = nodeInputs(this.dyn.getNode(nodeId));
    const sources: string[] = [];
    for (const name of Object.keys(inputs).sort()) {
      const value = inputs[name];
      if (isLink(value)) sources.push(value[0]);
    }
    return sources;
  }

  private async template(nodeId: string): Promise<SignatureTemplate> {
    let template = this.templates.get(nodeId);
    if (!template) {
      template = signatureTemplate(await this.immediateSignature(nodeId));
      this.templates.set(nodeId, template);
    }
    return template;
  }

  /** The node's own signature; a link stays `[name, AncestorRef]` until rendered for one key. */
  private async immediateSignature(nodeId: string): Promise<unknown[]> {
    // A missing node can't be cached: NaN never matches.
    if (!this.dyn.hasNode(nodeId)) return [Number.NaN];
    const node = this.dyn.getNode(nodeId);
    const def = this.nodes.get(node.class_type);
    const signature: unknown[] = [node.class_type, await this.fingerprints.get(nodeId)];
    if (def && (def.notIdempotent || this.takesUniqueId(def))) signature.push(nodeId);
    const inputs = nodeInputs(node);
    for (const name of Object.keys(inputs).sort()) {
      const value = inputs[name];
      signature.push([name, isLink(value) ? new AncestorRef(value[0], value[1]) : value]);
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

/** A link inside an immediate signature, rendered as `["ANCESTOR", index, slot]` per key. */
class AncestorRef {
  constructor(
    readonly sourceId: string,
    readonly slot: unknown,
  ) {}
}

/** An immediate signature's canonical text, cut around its ancestor references. */
interface SignatureTemplate {
  comparable: boolean;
  /** The text with each ancestor index as "@", which canonical text never holds unquoted. */
  shape: string;
  render(order: Map<string, number>): string;
}

interface ChainKey {
  digest: string;
  comparable: boolean;
}

function signatureTemplate(signature: unknown[]): SignatureTemplate {
  const state = { comparable: true };
  const pieces: string[] = [];
  const refs: string[] = [];
  let text = '[';
  for (const [index, part] of signature.entries()) {
    if (index > 0) text += ',';
    const ref = Array.isArray(part) && part[1] instanceof AncestorRef ? part[1] : undefined;
    if (!ref) {
      text += canonical(part, state);
      continue;
    }
    pieces.push(`${text}[${canonical((part as unknown[])[0], state)},["ANCESTOR",`);
    refs.push(ref.sourceId);
    text = `,${canonical(ref.slot, state)}]]`;
  }
  pieces.push(`${text}]`);
  return {
    comparable: state.comparable,
    shape: pieces.join('@'),
    render: (order) => {
      let out = pieces[0]!;
      for (const [i, sourceId] of refs.entries()) out += canonical(order.get(sourceId), state) + pieces[i + 1]!;
      return out;
    },
  };
}
