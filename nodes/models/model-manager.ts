/**
 * The model manager: one cache of loaded model parts (MMDiT runners now; text encoders and VAEs
 * plug in the same way) for every loader node of the server.
 *
 * - A part is identified by its spec's key (file paths + precision/options): two loaders asking
 *   for the same key share one load, even while the first load is still running.
 * - Parts live under a RAM budget; after each load the least recently used parts that nobody is
 *   using (no open lease) are released until the total fits. A part in use is never released, so
 *   the budget can be exceeded while a prompt holds more than it allows.
 * - `unloadAll()` (ComfyUI's `/free` with `unload_models`) releases every idle part;
 *   `usage()` feeds `/system_stats`.
 *
 *   const models = new ModelManager({ budgetBytes: 12 * 2 ** 30 });
 *   const lease = await models.acquire(mmditPart(['/m/sd35m.safetensors'], 'fp8'));
 *   try { await lease.value.denoise(...) } finally { lease.release() }
 */
import os from 'node:os';
import type { Logger, LoadedModelPart, ModelLease, ModelPartSpec, ModelPrecisionPolicy, ModelStore, ModelStoreUsage } from '../node-api.js';

export const DEFAULT_MODEL_PRECISION: ModelPrecisionPolicy = Object.freeze({ unet: 'fp8', textEncoder: 'auto', vae: 'fp32' });

/** Default budget: 70 % of physical RAM (activations, the node cache and the OS need the rest). */
export function defaultModelBudget(totalBytes = os.totalmem()): number {
  return Math.floor(totalBytes * 0.7);
}

export interface ModelManagerOptions {
  /** Resident bytes the idle parts may hold together (default: defaultModelBudget()). */
  budgetBytes?: number;
  precision?: ModelPrecisionPolicy;
  log?: Logger;
}

interface Entry {
  readonly key: string;
  readonly label: string;
  readonly part: LoadedModelPart<unknown>;
  leases: number;
}

export class ModelManager implements ModelStore {
  readonly precision: ModelPrecisionPolicy;
  readonly budgetBytes: number;
  private readonly log: Logger | undefined;
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();
  private loads = 0;

  constructor(options: ModelManagerOptions = {}) {
    this.precision = options.precision ?? DEFAULT_MODEL_PRECISION;
    this.budgetBytes = options.budgetBytes ?? defaultModelBudget();
    if (!(this.budgetBytes >= 0)) throw new Error(`model manager: budgetBytes must be ≥ 0, got ${this.budgetBytes}`);
    this.log = options.log;
  }

  /** How many times a part was actually loaded (not served from the cache). */
  get loadCount(): number {
    return this.loads;
  }

  async acquire<T>(spec: ModelPartSpec<T>): Promise<ModelLease<T>> {
    const entry = this.entries.get(spec.key) ?? (await this.loadOnce(spec));
    // Touch: move to the most recently used end.
    this.entries.delete(entry.key);
    this.entries.set(entry.key, entry);
    entry.leases++;
    let open = true;
    return {
      value: entry.part.value as T,
      release: () => {
        if (!open) return;
        open = false;
        entry.leases--;
        void this.fitBudget();
      },
    };
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  async unloadAll(): Promise<number> {
    const idle = [...this.entries.values()].filter((e) => e.leases === 0);
    for (const entry of idle) await this.evict(entry);
    return idle.length;
  }

  usage(): ModelStoreUsage {
    const parts = [...this.entries.values()].map((e) => ({ key: e.key, label: e.label, bytes: e.part.bytes, leases: e.leases }));
    return { budgetBytes: this.budgetBytes, residentBytes: parts.reduce((sum, p) => sum + p.bytes, 0), parts };
  }

  private loadOnce<T>(spec: ModelPartSpec<T>): Promise<Entry> {
    const pending = this.loading.get(spec.key);
    if (pending) return pending;
    const promise = (async () => {
      const started = Date.now();
      const part = await spec.load();
      this.loads++;
      const entry: Entry = { key: spec.key, label: spec.label, part, leases: 0 };
      this.entries.set(spec.key, entry);
      this.log?.info(`loaded ${spec.label}: ${(part.bytes / 2 ** 20).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await this.fitBudget(entry);
      return entry;
    })();
    this.loading.set(spec.key, promise);
    promise.then(
      () => this.loading.delete(spec.key),
      () => this.loading.delete(spec.key),
    );
    return promise;
  }

  /** Releases idle parts, least recently used first, until the total fits (never `keep`). */
  private async fitBudget(keep?: Entry): Promise<void> {
    let total = this.usage().residentBytes;
    for (const entry of [...this.entries.values()]) {
      if (total <= this.budgetBytes) return;
      if (entry === keep || entry.leases > 0) continue;
      total -= entry.part.bytes;
      await this.evict(entry);
    }
  }

  private async evict(entry: Entry): Promise<void> {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    this.log?.info(`unloaded ${entry.label}`);
    try {
      await entry.part.release();
    } catch (error) {
      this.log?.warn(`releasing ${entry.label}: ${(error as Error).message}`);
    }
  }
}

/** The environment's manager, or one shared fallback for environments built without one (tests). */
let fallback: ModelManager | undefined;
export function modelStoreOf(env: { readonly models?: ModelStore }): ModelStore {
  if (env.models) return env.models;
  fallback ??= new ModelManager();
  return fallback;
}
