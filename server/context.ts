/**
 * What `createApp` needs (AppDeps) and what every route module gets (ServerContext).
 */
import type { ApiPrompt } from '../compat/api-types.js';
import type { FolderPaths } from '../compat/folder-paths.js';
import type { ExecutionEventSink, InterruptFlag, ValidationResult } from '../executor/types.js';
import type { NodeEnvironment } from '../nodes/node-api.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { Config } from './config.js';
import type { ServerLogger } from './logger.js';
import type { AuditLog } from './audit-log.js';
import type { Authenticator } from './auth/index.js';
import type { PromptRateLimiter } from './rate-limit.js';
import type { HistoryStore } from './queue/history-store.js';
import type { FileOwners, QueueJournal } from './queue/persistence.js';
import type { PromptQueue } from './queue/prompt-queue.js';
import type { JobExecutor } from './queue/worker.js';
import type { UserStore } from './users.js';
import type { WsHub } from './ws-hub.js';

export type PromptValidator = (prompt: ApiPrompt, partialExecutionTargets?: string[]) => Promise<ValidationResult>;

export interface AppDeps {
  config: Config;
  folders: FolderPaths;
  registry: NodeRegistry;
  env: NodeEnvironment;
  log: ServerLogger;
  /** Builds the executor around the event sink (the WebSocket hub, created by createApp). */
  createExecutor: (events: ExecutionEventSink) => JobExecutor;
  validate: PromptValidator;
  interrupt: InterruptFlag;
  /** Defaults to an in-memory store. */
  history?: HistoryStore;
  /** Where pending jobs survive a restart; defaults to memory only. */
  journal?: QueueJournal;
  /** Owners of outputs and uploads; defaults to memory only. */
  files?: FileOwners;
  /** Authentication (absent or with no modes: none). */
  auth?: Authenticator;
  audit?: AuditLog | null;
  /** `/free {unload_models}`; optional until a model cache exists. */
  unloadModels?: () => void;
  /** Version strings reported by `/system_stats`. */
  version?: string;
  /** Custom node packs' WEB_DIRECTORY folders: pack name → absolute dir. */
  extensionWebDirs?: Record<string, string>;
}

export interface ServerContext extends AppDeps {
  executor: JobExecutor;
  queue: PromptQueue;
  hub: WsHub;
  users: UserStore;
  files: FileOwners;
  limiter: PromptRateLimiter;
  /** The static web root: `--front-end-root`, else the project's `web/` folder. */
  webRoot: string;
  /** The server feature flags (`/features` and the WS reply). */
  features(): Record<string, unknown>;
}

/** Server feature flags (spec §1.8); CLI extras cannot override the core keys. */
export function serverFeatures(config: Config): Record<string, unknown> {
  return {
    ...config.extraFeatureFlags,
    supports_preview_metadata: true,
    supports_model_type_tags: true,
    max_upload_size: config.maxUploadBytes,
    extension: { manager: { supports_v4: true } },
    node_replacements: true,
    assets: false,
  };
}
