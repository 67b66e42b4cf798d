/**
 * History: prompt id → entry, in insertion order (spec §1.3), each with the user who queued it.
 * Behind a small interface: `MemoryHistoryStore` here, the SQLite one in `sqlite-store.ts`.
 */
import type { HistoryEntry } from '../../compat/api-types.js';

export interface HistoryStore {
  /** Records an entry; when more than `capacity` entries exist the oldest is evicted first. */
  add(promptId: string, entry: HistoryEntry, owner?: string): void;
  get(promptId: string): HistoryEntry | undefined;
  has(promptId: string): boolean;
  /** The user who queued the prompt (`default` when none was recorded). */
  ownerOf(promptId: string): string | undefined;
  /**
   * ComfyUI's `get_history(max_items, offset)`: oldest first; with `maxItems` and no offset,
   * the newest `maxItems`; with `offset`, skip that many from the oldest. With `owner`, only
   * that user's entries count.
   */
  page(maxItems?: number, offset?: number, owner?: string): Array<[string, HistoryEntry]>;
  /** Every entry (of `owner`, when given), oldest first. */
  entries(owner?: string): Array<[string, HistoryEntry]>;
  delete(promptId: string): void;
  /** Removes every entry (of `owner`, when given). */
  clear(owner?: string): void;
  readonly size: number;
}

/** ComfyUI's MAXIMUM_HISTORY_SIZE. */
export const MAXIMUM_HISTORY_SIZE = 10000;

export const DEFAULT_OWNER = 'default';

/** ComfyUI's paging arithmetic over an already filtered, oldest-first list. */
export function pageOf<T>(items: T[], maxItems: number | undefined, offset = -1): T[] {
  let start = offset;
  if (start < 0 && maxItems !== undefined) start = items.length - maxItems;
  start = Math.max(0, start);
  return items.slice(start, maxItems === undefined ? undefined : start + Math.max(0, maxItems));
}

export class MemoryHistoryStore implements HistoryStore {
  private readonly map = new Map<string, { entry: HistoryEntry; owner: string }>();
  constructor(private readonly capacity = MAXIMUM_HISTORY_SIZE) {}

  add(promptId: string, entry: HistoryEntry, owner = DEFAULT_OWNER): void {
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(promptId, { entry, owner });
  }

  get(promptId: string): HistoryEntry | undefined {
    return this.map.get(promptId)?.entry;
  }

  has(promptId: string): boolean {
    return this.map.has(promptId);
  }

  ownerOf(promptId: string): string | undefined {
    return this.map.get(promptId)?.owner;
  }

  page(maxItems?: number, offset = -1, owner?: string): Array<[string, HistoryEntry]> {
    return pageOf(this.entries(owner), maxItems, offset);
  }

  entries(owner?: string): Array<[string, HistoryEntry]> {
    const out: Array<[string, HistoryEntry]> = [];
    for (const [id, item] of this.map) if (owner === undefined || item.owner === owner) out.push([id, item.entry]);
    return out;
  }

  delete(promptId: string): void {
    this.map.delete(promptId);
  }

  clear(owner?: string): void {
    if (owner === undefined) this.map.clear();
    else for (const [id, item] of this.map) if (item.owner === owner) this.map.delete(id);
  }

  get size(): number {
    return this.map.size;
  }
}
