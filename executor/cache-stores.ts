/**
 * Cache keeping, apart from key making (spec §3.10). One interface, four policies:
 * classic (only entries whose keys occur in the current prompt survive), LRU (keep ≤ N, evict
 * by prompt generation), RAM pressure (keep everything until free memory runs low) and none
 * (a null object: nothing is ever kept, so no caller needs an "is caching on?" branch).
 */
import type { CacheEntry } from './cache-entry.js';
import type { CacheKeySet, CacheKeySetFactory } from './cache-keys.js';
import type { DynamicPrompt } from './dynamic-prompt.js';

export interface OutputStore {
  /** Keys this prompt's nodes; call once per prompt before anything else. */
  setPrompt(dyn: DynamicPrompt, makeKeys: CacheKeySetFactory, nodeIds: Iterable<string>): Promise<void>;
  /** Drops what the policy no longer keeps. */
  cleanUnused(): void;
  /** Looks up an entry and marks it used. */
  get(nodeId: string): CacheEntry | undefined;
  getLocal(nodeId: string): CacheEntry | undefined;
  set(nodeId: string, entry: CacheEntry): void;
  setLocal(nodeId: string, entry: CacheEntry): void;
  /** Keys an expansion's nodes under their parent; returns the store to clean afterwards. */
  ensureSubcacheFor(parentId: string, childIds: string[]): Promise<OutputStore>;
  /** Node ids the store can key in this prompt (ComfyUI's `current_outputs`). */
  allNodeIds(): string[];
  /** Called after every node; the RAM-pressure policy evicts here. */
  afterNode(): void;
  clear(): void;
}

/** A flat store keyed by the current prompt's key set (ComfyUI's BasicCache). */
class BasicStore {
  protected readonly entries = new Map<string, CacheEntry>();
  protected readonly subcaches = new Map<string, HierarchicalStore>();
  protected keys: CacheKeySet | undefined;
  protected dyn: DynamicPrompt | undefined;
  protected makeKeys: CacheKeySetFactory | undefined;

  async setPrompt(dyn: DynamicPrompt, makeKeys: CacheKeySetFactory, nodeIds: Iterable<string>): Promise<void> {
    this.dyn = dyn;
    this.makeKeys = makeKeys;
    this.keys = makeKeys();
    await this.keys.addKeys(nodeIds);
  }

  protected cleanEntries(): void {
    const used = this.keys?.usedKeys() ?? new Set();
    for (const key of [...this.entries.keys()]) if (!used.has(key)) this.entries.delete(key);
  }

  protected cleanSubcaches(): void {
    const used = this.keys?.usedSubcacheKeys() ?? new Set();
    for (const key of [...this.subcaches.keys()]) if (!used.has(key)) this.subcaches.delete(key);
  }

  protected localGet(nodeId: string): CacheEntry | undefined {
    const key = this.keys?.dataKey(nodeId);
    return key === undefined ? undefined : this.entries.get(key);
  }

  protected localSet(nodeId: string, entry: CacheEntry): void {
    const key = this.keys?.dataKey(nodeId);
    if (key !== undefined) this.entries.set(key, entry);
  }

  protected async subcacheFor(parentId: string, childIds: string[]): Promise<HierarchicalStore> {
    const key = this.keys!.subcacheKey(parentId)!;
    let sub = this.subcaches.get(key);
    if (!sub) this.subcaches.set(key, (sub = new HierarchicalStore()));
    await sub.setPrompt(this.dyn!, this.makeKeys!, childIds);
    return sub;
  }

  localSubcache(parentId: string): HierarchicalStore | undefined {
    const key = this.keys?.subcacheKey(parentId);
    return key === undefined ? undefined : this.subcaches.get(key);
  }

  allNodeIds(): string[] {
    const ids = new Set(this.keys?.nodeIds() ?? []);
    for (const sub of this.subcaches.values()) for (const id of sub.allNodeIds()) ids.add(id);
    return [...ids];
  }

  clear(): void {
    this.entries.clear();
    this.subcaches.clear();
  }

  afterNode(): void {}
}

/** Classic policy: expansion nodes live in a sub-cache per parent (ComfyUI's HierarchicalCache). */
export class HierarchicalStore extends BasicStore implements OutputStore {
  cleanUnused(): void {
    this.cleanEntries();
    this.cleanSubcaches();
  }

  private storeFor(nodeId: string): BasicStore | undefined {
    const chain: string[] = [];
    for (let p = this.dyn?.parentNodeId(nodeId) ?? null; p !== null; p = this.dyn!.parentNodeId(p)) chain.push(p);
    let store: BasicStore | undefined = this;
    for (const parent of chain.reverse()) {
      store = store.localSubcache(parent);
      if (!store) return undefined;
    }
    return store;
  }

  get(nodeId: string): CacheEntry | undefined {
    return this.getLocal(nodeId);
  }

  getLocal(nodeId: string): CacheEntry | undefined {
    const store = this.storeFor(nodeId) as HierarchicalStore | undefined;
    return store?.localGet(nodeId);
  }

  set(nodeId: string, entry: CacheEntry): void {
    this.setLocal(nodeId, entry);
  }

  setLocal(nodeId: string, entry: CacheEntry): void {
    (this.storeFor(nodeId) as HierarchicalStore | undefined)?.localSet(nodeId, entry);
  }

  async ensureSubcacheFor(parentId: string, childIds: string[]): Promise<OutputStore> {
    const store = this.storeFor(parentId) as HierarchicalStore | undefined;
    if (!store) throw new Error(`no cache for the parent of expanded node ${parentId}`);
    return store.subcacheFor(parentId, childIds);
  }
}

/** LRU policy: one flat store; an entry's generation is the last prompt that used it. */
export class LruStore extends BasicStore implements OutputStore {
  protected generation = 0;
  private minGeneration = 0;
  protected readonly usedGeneration = new Map<string, number>();

  constructor(private readonly maxSize: number) {
    super();
  }

  override async setPrompt(dyn: DynamicPrompt, makeKeys: CacheKeySetFactory, nodeIds: Iterable<string>): Promise<void> {
    const ids = [...nodeIds];
    await super.setPrompt(dyn, makeKeys, ids);
    this.generation++;
    for (const id of ids) this.markUsed(id);
  }

  cleanUnused(): void {
    while (this.entries.size > this.maxSize && this.minGeneration < this.generation) {
      this.minGeneration++;
      for (const [key, gen] of [...this.usedGeneration]) {
        if (gen < this.minGeneration) this.forget(key);
      }
    }
  }

  protected forget(key: string): void {
    this.entries.delete(key);
    this.usedGeneration.delete(key);
  }

  protected markUsed(nodeId: string): void {
    const key = this.keys?.dataKey(nodeId);
    if (key !== undefined) this.usedGeneration.set(key, this.generation);
  }

  get(nodeId: string): CacheEntry | undefined {
    this.markUsed(nodeId);
    return this.localGet(nodeId);
  }

  getLocal(nodeId: string): CacheEntry | undefined {
    return this.localGet(nodeId);
  }

  set(nodeId: string, entry: CacheEntry): void {
    this.setLocal(nodeId, entry);
  }

  setLocal(nodeId: string, entry: CacheEntry): void {
    this.markUsed(nodeId);
    this.localSet(nodeId, entry);
  }

  /** Expansion nodes join the flat key set; their parent and they count as used now. */
  async ensureSubcacheFor(parentId: string, childIds: string[]): Promise<OutputStore> {
    await this.keys!.addKeys(childIds);
    this.markUsed(parentId);
    for (const id of childIds) this.markUsed(id);
    return this;
  }

  override clear(): void {
    super.clear();
    this.usedGeneration.clear();
  }
}

/** None policy: the null object. */
export class NullStore implements OutputStore {
  async setPrompt(): Promise<void> {}
  cleanUnused(): void {}
  get(): CacheEntry | undefined {
    return undefined;
  }
  getLocal(): CacheEntry | undefined {
    return undefined;
  }
  set(): void {}
  setLocal(): void {}
  async ensureSubcacheFor(): Promise<OutputStore> {
    return this;
  }
  allNodeIds(): string[] {
    return [];
  }
  afterNode(): void {}
  clear(): void {}
}
