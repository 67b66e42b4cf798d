/**
 * `startServer(config)`: builds the app from a Config and listens on every `--listen` address
 * (tests pass port 0). `main.ts` is the command-line entry around it.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createInterruptFlag, PromptExecutor, validatePrompt } from '../executor/index.js';
import { createBuiltinRegistry } from '../nodes/builtins.js';
import { ModelManager } from '../nodes/models/model-manager.js';
import { ensureDemoCheckpoint } from '../nodes/loaders/demo-checkpoint.js';
import type { NodeEnvironment } from '../nodes/node-api.js';
import type { NodeRegistry } from '../nodes/registry.js';
import { createApp, type ComfyApp } from './app.js';
import type { Config } from './config.js';
import type { AppDeps } from './context.js';
import { buildFolderPaths, prepareDirectories } from './folders.js';
import { createLogger, type ServerLogger } from './logger.js';
import { loadServerPlugins, type PluginStartOptions } from './plugins.js';
import type { PluginLoadResult } from '../nodes/plugins/index.js';
import { AuditLog } from './audit-log.js';
import { createAuthenticator, refuseOpenListen } from './auth/index.js';
import type { HistoryStore } from './queue/history-store.js';
import { SqliteStore } from './queue/sqlite-store.js';

export interface StartOptions {
  log?: ServerLogger;
  /** Defaults to the built-in nodes. */
  registry?: NodeRegistry;
  history?: HistoryStore;
  /** Custom node packs: loader settings, or `false` to load none (default: load them). */
  plugins?: PluginStartOptions;
}

export interface RunningServer {
  port: number;
  url: string;
  app: ComfyApp;
  /** What the plugin loader found: per-pack reports and WEB_DIRECTORY folders. */
  plugins: PluginLoadResult;
  close(): Promise<void>;
}

export function buildDeps(config: Config, opts: StartOptions = {}): AppDeps {
  const log = opts.log ?? createLogger({ level: config.logLevel, stdout: config.logStdout });
  const folders = buildFolderPaths(config, log);
  const registry = opts.registry ?? createBuiltinRegistry();
  const models = new ModelManager({ precision: config.precision, log });
  for (const note of config.precision.notes) log.info(`precision: ${note}`);
  const env: NodeEnvironment = Object.freeze({ folders, disableMetadata: config.disableMetadata, previewMethod: config.previewMethod, previewSize: config.previewSize, log, models });
  return {
    config,
    folders,
    registry,
    env,
    log,
    interrupt: createInterruptFlag(),
    validate: (prompt, targets) => validatePrompt(prompt, registry, env, targets),
    createExecutor: (events) =>
      new PromptExecutor({ nodes: registry, env, cache: config.cache, events, ramPressure: config.ramHeadroomBytes ? { headroomBytes: config.ramHeadroomBytes } : undefined }),
    history: opts.history,
    unloadModels: () => void models.unloadAll(),
  };
}

function listenOn(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Like asyncio, an IPv6 socket is IPv6-only, so `--listen` (0.0.0.0,::) binds both on one port.
    server.listen({ port, host, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function displayUrl(config: Config, host: string, port: number): string {
  const scheme = config.tls ? 'https' : 'http';
  const shown = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host;
  return `${scheme}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/** SQLite queue/history/file owners, authentication and the audit log, per the Config. */
function attachSecurity(config: Config, deps: AppDeps, opts: StartOptions): { close(): Promise<void> } {
  const userDir = deps.folders.userDir;
  deps.auth = createAuthenticator(config, userDir);
  let store: SqliteStore | null = null;
  if (config.persistQueue && !opts.history) {
    store = new SqliteStore(path.join(userDir, 'comfy8.db'), config.maxHistorySize);
    deps.history = store;
    deps.journal = store;
    deps.files = store.files;
  }
  const audit = config.auditLog === false ? null : new AuditLog({ file: config.auditLog ?? path.join(userDir, 'comfy8-audit.log'), maxBytes: config.auditLogMaxBytes });
  deps.audit = audit;
  return {
    async close() {
      await audit?.close();
      store?.close();
    },
  };
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const refused = refuseOpenListen(config);
  if (refused) throw new Error(refused);
  const deps = buildDeps(config, opts);
  const plugins = await loadServerPlugins(config, deps, opts.plugins);
  prepareDirectories(deps.folders);
  ensureDemoCheckpoint(deps.folders, deps.log); // first start: a tiny demo model so the example workflows run
  const security = attachSecurity(config, deps, opts);
  const comfy = createApp(deps);
  const tls = config.tls ? { key: fs.readFileSync(config.tls.keyFile), cert: fs.readFileSync(config.tls.certFile) } : null;
  const servers: http.Server[] = [];
  let port = config.port;
  try {
    for (const host of config.listen) {
      const server = tls ? https.createServer(tls, comfy.app) : http.createServer(comfy.app);
      comfy.hub.attach(server);
      servers.push(server);
      port = await listenOn(server, port, host);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await comfy.close();
    await security.close();
    throw err;
  }
  comfy.worker.start();
  const close = async () => {
    await comfy.close();
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await security.close();
  };
  return { port, url: displayUrl(config, config.listen[0] ?? '127.0.0.1', port), app: comfy, plugins, close };
}
