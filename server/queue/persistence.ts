/**
 * What survives a restart besides history: the pending queue (`QueueJournal`) and who owns each
 * saved output or upload (`FileOwners`). In-memory versions here; SQLite in `sqlite-store.ts`.
 */
import path from 'node:path';
import type { ExecutionJob } from '../../executor/types.js';

/** A queued job and the user who queued it. */
export interface OwnedJob extends ExecutionJob {
  owner?: string;
}

export interface RestoredQueue {
  /** Jobs still pending, and the one that was running when the process died (re-queued). */
  pending: OwnedJob[];
  /** A job that was running at two crashes in a row: recorded as failed, not re-run again. */
  failed: OwnedJob[];
}

export interface QueueJournal {
  saved(job: OwnedJob): void;
  started(promptId: string): void;
  removed(promptId: string): void;
  /** Removes every pending job (of `owner`, when given). */
  cleared(owner?: string): void;
  restore(): RestoredQueue;
}

/** An output or upload: `{type}/{subfolder}/{filename}` with forward slashes. */
export interface FileRefKey {
  type: string;
  subfolder: string;
  filename: string;
}

export interface FileOwners {
  record(file: FileRefKey, owner: string): void;
  ownerOf(file: FileRefKey): string | undefined;
}

export function fileKey(file: FileRefKey): string {
  const joined = path.posix.normalize([file.subfolder, file.filename].join('/').replace(/\\/g, '/'));
  return `${file.type}/${joined.replace(/^(\.\/|\/)+/, '')}`;
}

export class MemoryJournal implements QueueJournal {
  saved(): void {}
  started(): void {}
  removed(): void {}
  cleared(): void {}
  restore(): RestoredQueue {
    return { pending: [], failed: [] };
  }
}

export class MemoryFileOwners implements FileOwners {
  private readonly owners = new Map<string, string>();
  record(file: FileRefKey, owner: string): void {
    this.owners.set(fileKey(file), owner);
  }
  ownerOf(file: FileRefKey): string | undefined {
    return this.owners.get(fileKey(file));
  }
}
