/**
 * The scheduler (ComfyUI's TopologicalSort + ExecutionList, spec §3.5): a topological dissolve
 * of the needed part of the graph. A staged node may go back to waiting after gaining
 * dependencies (lazy inputs, expansions) or while its async work runs (external blocks).
 * It knows nothing of cache storage: `isCached`/`cachedValue` are asked of its host.
 */
import { isLink } from '../compat/api-types.js';
import type { DynamicPrompt } from './dynamic-prompt.js';
import { nodeInputs } from './dynamic-prompt.js';
import type { CacheEntry } from './cache-entry.js';

export class NodeInputError extends Error {
  override name = 'graph.NodeInputError';
}

export interface SchedulerHost {
  /** A value exists for the node (output cache or produced earlier in this run). */
  isCached(nodeId: string): boolean;
  cachedValue(nodeId: string): CacheEntry | undefined;
  isLazyInput(nodeId: string, inputName: string): boolean;
  isOutputNode(nodeId: string): boolean;
  isAsyncNode(nodeId: string): boolean;
}

export type StageResult = { nodeId: string } | { cycle: string[] } | null;

export class ExecutionList {
  private readonly pending = new Map<string, true>();
  private readonly blockCount = new Map<string, number>();
  /** from → (to → sockets): `to` waits for `from`. */
  private readonly blocking = new Map<string, Map<string, Set<number>>>();
  /** to → sources whose values `to` may read (ComfyUI's execution_cache). */
  private readonly readable = new Map<string, Set<string>>();
  /** Values produced or looked up during this run, held until the run ends. */
  private readonly values = new Map<string, CacheEntry>();
  private externalBlocks = 0;
  private released = false;
  private waiters: (() => void)[] = [];
  private staged: string | null = null;

  constructor(
    private readonly dyn: DynamicPrompt,
    private readonly host: SchedulerHost,
  ) {}

  isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** A value exists for `nodeId` in this run or the output cache. */
  hasValue(nodeId: string): boolean {
    return this.values.has(nodeId) || this.host.isCached(nodeId);
  }

  addNode(nodeId: string, includeLazy = false): void {
    const stack = [nodeId];
    const links: [string, number, string][] = [];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (this.pending.has(id)) continue;
      this.pending.set(id, true);
      this.blockCount.set(id, 0);
      this.blocking.set(id, new Map());
      // A cached node never reads its inputs, so its uncached ancestors are not needed.
      if (this.hasValue(id)) continue;
      for (const [name, value] of Object.entries(nodeInputs(this.dyn.getNode(id)))) {
        if (!isLink(value)) continue;
        if (!includeLazy && this.host.isLazyInput(id, name)) continue;
        if (!this.hasValue(value[0])) stack.push(value[0]);
        links.push([value[0], value[1], id]);
      }
    }
    for (const [from, socket, to] of links) this.addStrongLink(from, socket, to);
  }

  addStrongLink(from: string, socket: number, to: string): void {
    if (!this.hasValue(from)) {
      this.addNode(from);
      const blocked = this.blocking.get(from)!;
      if (!blocked.has(to)) {
        blocked.set(to, new Set());
        this.blockCount.set(to, (this.blockCount.get(to) ?? 0) + 1);
      }
      blocked.get(to)!.add(socket);
    }
    this.linkValue(from, to);
  }

  /** Lets `to` read `from`'s value (captured now if it already exists, so eviction can't lose it). */
  linkValue(from: string, to: string): void {
    let sources = this.readable.get(to);
    if (!sources) this.readable.set(to, (sources = new Set()));
    sources.add(from);
    if (!this.values.has(from)) {
      const cached = this.host.cachedValue(from);
      if (cached) this.values.set(from, cached);
    }
  }

  /** A lazy input the node asked for becomes a hard dependency. */
  makeInputStrongLink(to: string, inputName: string): void {
    const inputs = nodeInputs(this.dyn.getNode(to));
    if (!Object.hasOwn(inputs, inputName)) {
      throw new NodeInputError(`Node ${to} says it needs input ${inputName}, but there is no input to that node at all`);
    }
    const value = inputs[inputName];
    if (!isLink(value)) throw new NodeInputError(`Node ${to} says it needs input ${inputName}, but that value is a constant`);
    this.addStrongLink(value[0], value[1], to);
  }

  /** The value `to` may read from `from`, if linked and available. */
  readValue(from: string, to: string): CacheEntry | undefined {
    if (!this.readable.get(to)?.has(from)) return undefined;
    return this.values.get(from);
  }

  /** The value produced for `nodeId` earlier in this run. */
  producedValue(nodeId: string): CacheEntry | undefined {
    return this.values.get(nodeId);
  }

  recordValue(nodeId: string, entry: CacheEntry): void {
    this.values.set(nodeId, entry);
  }

  addExternalBlock(nodeId: string): () => void {
    this.externalBlocks++;
    this.blockCount.set(nodeId, (this.blockCount.get(nodeId) ?? 0) + 1);
    return () => {
      this.externalBlocks--;
      this.blockCount.set(nodeId, this.blockCount.get(nodeId)! - 1);
      this.released = true;
      for (const wake of this.waiters.splice(0)) wake();
    };
  }

  async stage(): Promise<StageResult> {
    if (this.isEmpty()) return null;
    let ready = this.readyNodes();
    while (ready.length === 0 && this.externalBlocks > 0) {
      if (!this.released) await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.released = false;
      ready = this.readyNodes();
    }
    if (ready.length === 0) return { cycle: this.nodesInCycle() };
    this.staged = this.pickNode(ready);
    return { nodeId: this.staged };
  }

  unstage(): void {
    this.staged = null;
  }

  isStagedNodeBlocked(): boolean {
    return this.staged !== null && this.blockCount.get(this.staged)! > 0;
  }

  complete(): void {
    const id = this.staged!;
    this.pending.delete(id);
    for (const blocked of this.blocking.get(id)?.keys() ?? []) {
      this.blockCount.set(blocked, this.blockCount.get(blocked)! - 1);
    }
    this.blocking.delete(id);
    this.staged = null;
  }

  private readyNodes(): string[] {
    return [...this.pending.keys()].filter((id) => this.blockCount.get(id) === 0);
  }

  /**
   * ComfyUI's UX tie-break: output or async nodes first, then a node feeding an output, then
   * one two steps from an output, else the first ready node.
   */
  private pickNode(ready: string[]): string {
    const feeds = (id: string) => [...(this.blocking.get(id)?.keys() ?? [])];
    const direct = ready.find((id) => this.host.isOutputNode(id) || this.host.isAsyncNode(id));
    if (direct !== undefined) return direct;
    const oneStep = ready.find((id) => feeds(id).some((b) => this.host.isOutputNode(b)));
    if (oneStep !== undefined) return oneStep;
    const twoSteps = ready.find((id) => feeds(id).some((b) => feeds(b).some((c) => this.host.isOutputNode(c))));
    return twoSteps ?? ready[0]!;
  }

  /** Dissolves everything not on a cycle; what remains is blamed for the deadlock. */
  private nodesInCycle(): string[] {
    const blockedBy = new Map<string, Set<string>>();
    for (const id of this.pending.keys()) blockedBy.set(id, new Set());
    for (const [from, targets] of this.blocking) {
      for (const to of targets.keys()) blockedBy.get(to)?.add(from);
    }
    let free = [...blockedBy].filter(([, by]) => by.size === 0).map(([id]) => id);
    while (free.length > 0) {
      for (const id of free) {
        for (const by of blockedBy.values()) by.delete(id);
        blockedBy.delete(id);
      }
      free = [...blockedBy].filter(([, by]) => by.size === 0).map(([id]) => id);
    }
    return [...blockedBy.keys()];
  }
}
