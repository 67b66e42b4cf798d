/**
 * Queue, history and file owners in one SQLite database (`<user dir>/comfy8.db`, WAL). Every
 * change is committed before the HTTP answer or the next job starts, so a SIGKILL loses nothing
 * that was acknowledged. Sensitive extra_data (partner API keys) is never written to disk.
 *
 * A job found `running` at start-up was interrupted by a crash: it is re-queued at its original
 * place once; if it was already re-queued after an earlier crash it is recorded as failed, so a
 * prompt that kills the process cannot crash-loop the server.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { HistoryEntry } from '../../compat/api-types.js';
import { DEFAULT_OWNER, MAXIMUM_HISTORY_SIZE, pageOf, type HistoryStore } from './history-store.js';
import { fileKey, type FileOwners, type FileRefKey, type OwnedJob, type QueueJournal, type RestoredQueue } from './persistence.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, prompt_id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_owner ON history (owner, seq);
CREATE TABLE IF NOT EXISTS queue (prompt_id TEXT PRIMARY KEY, owner TEXT NOT NULL, job TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, owner TEXT NOT NULL);
`;

/** At most this many interrupted runs before a job is given up on. */
const MAX_ATTEMPTS = 2;

type Row = { prompt_id: string; entry: string };

export class SqliteStore implements HistoryStore, QueueJournal {
  readonly db: Database.Database;
  readonly files: FileOwners;

  constructor(
    readonly file: string,
    private readonly capacity = MAXIMUM_HISTORY_SIZE,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a process crash (not a power cut).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.files = new SqliteFileOwners(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // --- HistoryStore ---

  add(promptId: string, entry: HistoryEntry, owner = DEFAULT_OWNER): void {
    this.db.transaction(() => {
      if (this.size > this.capacity) this.db.prepare('DELETE FROM history WHERE seq = (SELECT MIN(seq) FROM history)').run();
      this.db
        .prepare('INSERT INTO history (prompt_id, owner, entry) VALUES (?, ?, ?) ON CONFLICT(prompt_id) DO UPDATE SET entry = excluded.entry, owner = excluded.owner')
        .run(promptId, owner, JSON.stringify(entry));
    })();
  }

  get(promptId: string): HistoryEntry | undefined {
    const row = this.db.prepare('SELECT entry FROM history WHERE prompt_id = ?').get(promptId) as { entry: string } | undefined;
    return row ? (JSON.parse(row.entry) as HistoryEntry) : undefined;
  }

  has(promptId: string): boolean {
    return this.db.prepare('SELECT 1 FROM history WHERE prompt_id = ?').get(promptId) !== undefined;
  }

  ownerOf(promptId: string): string | undefined {
    return (this.db.prepare('SELECT owner FROM history WHERE prompt_id = ?').get(promptId) as { owner: string } | undefined)?.owner;
  }

  page(maxItems?: number, offset = -1, owner?: string): Array<[string, HistoryEntry]> {
    const ids = this.ids(owner);
    const wanted = pageOf(ids, maxItems, offset);
    if (wanted.length === 0) return [];
    const first = wanted[0]!.seq;
    const last = wanted[wanted.length - 1]!.seq;
    const rows = this.db
      .prepare(`SELECT prompt_id, entry FROM history WHERE seq BETWEEN ? AND ? ${owner === undefined ? '' : 'AND owner = ?'} ORDER BY seq`)
      .all(...(owner === undefined ? [first, last] : [first, last, owner])) as Row[];
    return rows.map((r) => [r.prompt_id, JSON.parse(r.entry) as HistoryEntry]);
  }

  private ids(owner?: string): Array<{ seq: number }> {
    if (owner === undefined) return this.db.prepare('SELECT seq FROM history ORDER BY seq').all() as Array<{ seq: number }>;
    return this.db.prepare('SELECT seq FROM history WHERE owner = ? ORDER BY seq').all(owner) as Array<{ seq: number }>;
  }

  entries(owner?: string): Array<[string, HistoryEntry]> {
    const rows = (owner === undefined
      ? this.db.prepare('SELECT prompt_id, entry FROM history ORDER BY seq').all()
      : this.db.prepare('SELECT prompt_id, entry FROM history WHERE owner = ? ORDER BY seq').all(owner)) as Row[];
    return rows.map((r) => [r.prompt_id, JSON.parse(r.entry) as HistoryEntry]);
  }

  delete(promptId: string): void {
    this.db.prepare('DELETE FROM history WHERE prompt_id = ?').run(promptId);
  }

  clear(owner?: string): void {
    if (owner === undefined) this.db.prepare('DELETE FROM history').run();
    else this.db.prepare('DELETE FROM history WHERE owner = ?').run(owner);
  }

  get size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM history').get() as { n: number }).n;
  }

  // --- QueueJournal ---

  saved(job: OwnedJob): void {
    const { sensitive: _secret, ...stored } = job;
    this.db
      .prepare("INSERT INTO queue (prompt_id, owner, job) VALUES (?, ?, ?) ON CONFLICT(prompt_id) DO UPDATE SET job = excluded.job, owner = excluded.owner, state = 'pending'")
      .run(job.promptId, job.owner ?? DEFAULT_OWNER, JSON.stringify(stored));
  }

  started(promptId: string): void {
    this.db.prepare("UPDATE queue SET state = 'running', attempts = attempts + 1 WHERE prompt_id = ?").run(promptId);
  }

  removed(promptId: string): void {
    this.db.prepare('DELETE FROM queue WHERE prompt_id = ?').run(promptId);
  }

  cleared(owner?: string): void {
    if (owner === undefined) this.db.prepare("DELETE FROM queue WHERE state = 'pending'").run();
    else this.db.prepare("DELETE FROM queue WHERE state = 'pending' AND owner = ?").run(owner);
  }

  restore(): RestoredQueue {
    const rows = this.db.prepare('SELECT prompt_id, job, state, attempts FROM queue').all() as Array<{ prompt_id: string; job: string; state: string; attempts: number }>;
    const out: RestoredQueue = { pending: [], failed: [] };
    for (const row of rows) {
      // Finished but the process died before the queue row went: history already has it.
      if (this.has(row.prompt_id)) {
        this.removed(row.prompt_id);
        continue;
      }
      const job = JSON.parse(row.job) as OwnedJob;
      if (row.state === 'running' && row.attempts >= MAX_ATTEMPTS) out.failed.push(job);
      else out.pending.push(job);
    }
    this.db.prepare("UPDATE queue SET state = 'pending'").run();
    return out;
  }

}

/** Owners of saved outputs and uploads, in the same database. */
class SqliteFileOwners implements FileOwners {
  constructor(private readonly db: Database.Database) {}

  record(file: FileRefKey, owner: string): void {
    this.db.prepare('INSERT INTO files (key, owner) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET owner = excluded.owner').run(fileKey(file), owner);
  }

  ownerOf(file: FileRefKey): string | undefined {
    return (this.db.prepare('SELECT owner FROM files WHERE key = ?').get(fileKey(file)) as { owner: string } | undefined)?.owner;
  }
}
