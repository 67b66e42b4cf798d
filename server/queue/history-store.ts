/**
 * History: prompt id → entry, in insertion order (spec §1.3). Behind a small interface so a
 * persistent store (SQLite, a later issue) can replace the in-memory one.
 */
import type { HistoryEntry } from '../../compat/api-types.js';

export interface HistoryStore {
  /** Records an entry; when more than `capacity` entries exist the oldest is evicted first. */
  add(promptId: string, entry: HistoryEntry): void;
  get(promptId: string): HistoryEntry | undefined;
  has(promptId: string): boolean;
  /**
   * ComfyUI's `get_history(max_items, offset)`: oldest first; with `maxItems` and no offset,
   * the newest `maxItems`; with `offset`, skip that many from the oldest.
   */
  page(maxItems?: number, offset?: number): Array<[string, HistoryEntry]>;
  /** Every entry, oldest first. */
  entries(): Array<[string, HistoryEntry]>;
  delete(promptId: string): void;
  clear(): void;
  readonly size: number;
}

/** ComfyUI's MAXIMUM_HISTORY_SIZE. */
export const MAXIMUM_HISTORY_SIZE = 10000;

export class MemoryHistoryStore implements HistoryStore {
  private readonly map = new Map<string, HistoryEntry>();
  constructor(private readonly capacity = MAXIMUM_HISTORY_SIZE) {}

  add(promptId: string, entry: HistoryEntry): void {
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(promptId, entry);
  }

  get(promptId: string): HistoryEntry | undefined {
    return this.map.get(promptId);
  }

  has(promptId: string): boolean {
    return this.map.has(promptId);
  }

  page(maxItems?: number, offset = -1): Array<[string, HistoryEntry]> {
    let start = offset;
    if (start < 0 && maxItems !== undefined) start = this.map.size - maxItems;
    const out: Array<[string, HistoryEntry]> = [];
    let i = 0;
    for (const item of this.map) {
      if (i >= start) {
        if (maxItems !== undefined && out.length >= maxItems) break;
        out.push(item);
      }
      i++;
    }
    return out;
  }

  entries(): Array<[string, HistoryEntry]> {
    return [...this.map];
  }

  delete(promptId: string): void {
    this.map.delete(promptId);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
