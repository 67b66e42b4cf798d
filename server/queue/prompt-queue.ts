/**
 * The prompt queue (spec §3.4): pending jobs ordered by (number, prompt_id), at most one running
 * job, the history store, and the `/free` flags. Every change calls `onChange` (the WS `status`
 * broadcast).
 */
import type { HistoryEntry, QueueItem } from '../../compat/api-types.js';
import type { ExecutionJob } from '../../executor/types.js';
import { DEFAULT_OWNER, MemoryHistoryStore, type HistoryStore } from './history-store.js';
import { MemoryJournal, type OwnedJob, type QueueJournal } from './persistence.js';

export interface FreeFlags {
  unloadModels: boolean;
  freeMemory: boolean;
}

export function toQueueItem(job: ExecutionJob): QueueItem {
  return [job.number, job.promptId, job.prompt, job.extraData, job.outputsToExecute];
}

function compareJobs(a: ExecutionJob, b: ExecutionJob): number {
  if (a.number !== b.number) return a.number - b.number;
  return a.promptId < b.promptId ? -1 : a.promptId > b.promptId ? 1 : 0;
}

export class PromptQueue {
  private pendingJobs: OwnedJob[] = [];
  private runningJob: OwnedJob | null = null;
  private flags: FreeFlags = { unloadModels: false, freeMemory: false };
  private wakers: Array<() => void> = [];
  /** ComfyUI's `self.number`: the priority counter for jobs without an explicit number. */
  private counter = 0;

  constructor(
    readonly history: HistoryStore = new MemoryHistoryStore(),
    private readonly onChange: () => void = () => {},
    private readonly journal: QueueJournal = new MemoryJournal(),
  ) {
    const restored = journal.restore();
    for (const job of restored.pending) this.insert(job);
    for (const job of restored.failed) this.recordLost(job);
    const highest = Math.max(-1, ...this.pendingJobs.map((j) => Math.abs(j.number)));
    this.counter = Number.isFinite(highest) ? Math.floor(highest) + 1 : 0;
  }

  /** A job that was running at two crashes in a row: failed, so it cannot crash-loop the server. */
  private recordLost(job: OwnedJob): void {
    const message = 'the server stopped twice while this prompt was running; it was not run again';
    const data = { prompt_id: job.promptId, timestamp: Date.now(), node_id: '', node_type: '', executed: [], exception_message: message, exception_type: 'ServerRestart', traceback: [], current_inputs: {}, current_outputs: [] };
    this.history.add(job.promptId, { prompt: toQueueItem(job), outputs: {}, status: { status_str: 'error', completed: false, messages: [['execution_error', data]] }, meta: {} }, job.owner ?? DEFAULT_OWNER);
    this.journal.removed(job.promptId);
  }

  private insert(job: OwnedJob): void {
    const i = this.pendingJobs.findIndex((p) => compareJobs(job, p) < 0);
    if (i < 0) this.pendingJobs.push(job);
    else this.pendingJobs.splice(i, 0, job);
  }

  /** Priority for a new job (spec §1.2): explicit number, else the counter (negated with front). */
  nextNumber(explicit: number | undefined, front: boolean): number {
    if (explicit !== undefined) return explicit;
    const n = front ? -this.counter : this.counter;
    this.counter++;
    return n;
  }

  put(job: OwnedJob): void {
    this.journal.saved(job);
    this.insert(job);
    this.onChange();
    this.wake();
  }

  /** Takes the first pending job and marks it running; null if none (or one already runs). */
  startNext(): OwnedJob | null {
    if (this.runningJob || this.pendingJobs.length === 0) return null;
    this.runningJob = this.pendingJobs.shift()!;
    this.journal.started(this.runningJob.promptId);
    this.onChange();
    return this.runningJob;
  }

  /** Records the running job's history entry and clears it. */
  finish(entry: Omit<HistoryEntry, 'prompt'>): void {
    const job = this.runningJob;
    if (!job) return;
    this.runningJob = null;
    this.history.add(job.promptId, { prompt: toQueueItem(job), ...entry }, job.owner ?? DEFAULT_OWNER);
    this.journal.removed(job.promptId);
    this.onChange();
  }

  running(): OwnedJob | null {
    return this.runningJob;
  }

  pending(): OwnedJob[] {
    return this.pendingJobs.slice();
  }

  /** Pending jobs of one user. */
  pendingOf(owner: string): number {
    return this.pendingJobs.filter((j) => (j.owner ?? DEFAULT_OWNER) === owner).length;
  }

  /** pending + running (`queue_remaining`). */
  remaining(): number {
    return this.pendingJobs.length + (this.runningJob ? 1 : 0);
  }

  /** Removes a pending job by id; true if one was removed. */
  delete(promptId: string, owner?: string): boolean {
    const i = this.pendingJobs.findIndex((j) => j.promptId === promptId && (owner === undefined || (j.owner ?? DEFAULT_OWNER) === owner));
    if (i < 0) return false;
    this.pendingJobs.splice(i, 1);
    this.journal.removed(promptId);
    this.onChange();
    return true;
  }

  /** Removes every pending job (of `owner`, when given). */
  wipe(owner?: string): void {
    this.pendingJobs = owner === undefined ? [] : this.pendingJobs.filter((j) => (j.owner ?? DEFAULT_OWNER) !== owner);
    this.journal.cleared(owner);
    this.onChange();
  }

  setFlag(name: keyof FreeFlags): void {
    this.flags[name] = true;
    this.wake();
  }

  /** Returns and resets the `/free` flags. */
  takeFlags(): FreeFlags {
    const f = this.flags;
    this.flags = { unloadModels: false, freeMemory: false };
    return f;
  }

  /** Resolves when a job is queued, a flag is set, or `wake()` is called. */
  waitForWork(): Promise<void> {
    if (this.pendingJobs.length > 0 || this.flags.freeMemory || this.flags.unloadModels) return Promise.resolve();
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const resolve of w) resolve();
  }
}
