/**
 * RAM-pressure policy (the default, spec §3.10): keep every result; after each node, when free
 * memory is under the headroom, evict entries from older prompts first, least recently used
 * first, until the estimated freed bytes cover the shortfall. Only if that is not enough are
 * the current prompt's entries evicted (the running prompt holds its own references to the
 * values it still needs, so that is safe).
 */
import os from 'node:os';
import type { CacheEntry } from './cache-entry.js';
import { LruStore, type OutputStore } from './cache-stores.js';

const GIB = 1024 ** 3;

/** ComfyUI's active headroom: 10% of RAM, clamped to 2–10 GiB. */
export function defaultRamHeadroom(totalBytes = os.totalmem()): number {
  return Math.min(10 * GIB, Math.max(2 * GIB, totalBytes * 0.1));
}

export interface RamPressureOptions {
  /** Bytes of free memory to keep; default `defaultRamHeadroom()`. */
  headroomBytes?: number;
  /** Free-memory probe; default `os.freemem` (MemAvailable on Linux). */
  freeMemory?: () => number;
}

/** Size guess for entries holding no typed arrays, so they still rank in eviction. */
const UNKNOWN_ENTRY_BYTES = 64 * 1024;

export class RamPressureStore extends LruStore implements OutputStore {
  private readonly touched = new Map<string, number>();
  private clock = 0;
  private readonly headroom: number;
  private readonly freeMemory: () => number;

  constructor(opts: RamPressureOptions = {}) {
    super(Number.POSITIVE_INFINITY);
    this.headroom = opts.headroomBytes ?? defaultRamHeadroom();
    this.freeMemory = opts.freeMemory ?? os.freemem;
  }

  override cleanUnused(): void {}

  protected override markUsed(nodeId: string): void {
    super.markUsed(nodeId);
    const key = this.keys?.dataKey(nodeId);
    if (key !== undefined) this.touched.set(key, ++this.clock);
  }

  protected override forget(key: string): void {
    super.forget(key);
    this.touched.delete(key);
  }

  override afterNode(): void {
    const shortfall = this.headroom - this.freeMemory();
    if (shortfall <= 0) return;
    let freed = this.evict(shortfall, false);
    if (freed < shortfall) freed += this.evict(shortfall - freed, true);
  }

  /** Evicts oldest-generation, least-recently-touched entries until `bytes` are (estimated) freed. */
  private evict(bytes: number, includeActive: boolean): number {
    const candidates = [...this.entries.keys()]
      .filter((key) => includeActive || this.usedGeneration.get(key) !== this.generation)
      .sort((a, b) => (this.usedGeneration.get(a) ?? 0) - (this.usedGeneration.get(b) ?? 0) || (this.touched.get(a) ?? 0) - (this.touched.get(b) ?? 0));
    let freed = 0;
    for (const key of candidates) {
      if (freed >= bytes) break;
      freed += estimateBytes(this.entries.get(key)!);
      this.forget(key);
    }
    return freed;
  }

  override clear(): void {
    super.clear();
    this.touched.clear();
  }
}

/** Bytes of typed-array data reachable from an entry's outputs (shared buffers counted once). */
export function estimateBytes(entry: CacheEntry): number {
  const seen = new Set<ArrayBufferLike>();
  let total = 0;
  const visit = (value: unknown, depth: number): void => {
    if (depth > 4 || value === null || typeof value !== 'object') return;
    if (ArrayBuffer.isView(value)) {
      if (!seen.has(value.buffer)) {
        seen.add(value.buffer);
        total += value.byteLength;
      }
      return;
    }
    const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
    for (const child of children.slice(0, 1024)) visit(child, depth + 1);
  };
  visit(entry.outputs, 0);
  return total > 0 ? total : UNKNOWN_ENTRY_BYTES;
}
