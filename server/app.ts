/**
 * `createApp(deps)`: the Express app, the WebSocket hub, the queue and its worker, wired but not
 * listening (`server.ts` / `main.ts` listen). Every route of §1 exists at `/x` and `/api/x`; the
 * jobs routes at `/api/jobs…` and `/api/api/jobs…`; `/internal/*` once.
 */
import path from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { ERRORS, HttpError } from '../compat/errors.js';
import { serverFeatures, type AppDeps, type ServerContext } from './context.js';
import { cacheHeaders } from './http/cache-headers.js';
import { compressResponses } from './http/compress.js';
import { rawBodyReader } from './http/body.js';
import { originCheck, securityMiddleware } from './http/security.js';
import { projectRoot } from './project-root.js';
import { accessOf } from './access.js';
import { auditMiddleware } from './audit-log.js';
import { authMiddleware, Authenticator, CredentialStore, sendUnauthorizedUpgrade } from './auth/index.js';
import { MemoryHistoryStore } from './queue/history-store.js';
import { MemoryFileOwners } from './queue/persistence.js';
import { PromptRateLimiter } from './rate-limit.js';
import { PromptQueue } from './queue/prompt-queue.js';
import { PromptWorker } from './queue/worker.js';
import { registerApiRoutes, registerJobsRoutes } from './routes/index.js';
import { internalRouter, terminalSize } from './routes/internal.js';
import { registerStatic } from './routes/static.js';
import { UserStore } from './users.js';
import { WsHub } from './ws-hub.js';

export interface ComfyApp {
  app: Express;
  hub: WsHub;
  worker: PromptWorker;
  ctx: ServerContext;
  /** Every router and the prefixes it is mounted at (the route-coverage test walks these). */
  mounts: Array<{ prefixes: string[]; router: express.Router }>;
  /** Stops the worker (interrupting a running prompt), closes every socket, detaches from the log. */
  close(): Promise<void>;
}

export function createApp(deps: AppDeps): ComfyApp {
  const { config } = deps;
  const features = () => serverFeatures(config);
  let queue: PromptQueue | null = null;
  const auth = deps.auth ?? new Authenticator({ modes: [], credentials: new CredentialStore(path.join(deps.folders.userDir, 'comfy8-auth.json')), jwt: null });
  const hub = new WsHub({
    authenticate: auth.enabled ? (req) => auth.authenticate(req) : undefined,
    refuseUnauthenticated: (socket, reason) => sendUnauthorizedUpgrade(auth, socket, reason),
    isolated: config.multiUser,
    onUpgrade: (req, status, user) =>
      deps.audit?.write({ user, method: 'GET', route: (req.url ?? '/').split('?')[0] ?? '/', status, outcome: status === 101 ? 'ok' : 'denied', client: req.socket.remoteAddress ?? null }),
    queueRemaining: () => queue?.remaining() ?? 0,
    serverFeatures: features,
    log: deps.log,
    refuseUpgrade: config.corsOrigin === null ? originCheck : undefined,
    terminalSize,
  });
  queue = new PromptQueue(deps.history ?? new MemoryHistoryStore(config.maxHistorySize), () => hub.broadcastStatus(), deps.journal);
  const files = deps.files ?? new MemoryFileOwners();
  const detachLogs = deps.log.buffer.onEntries((entries) => hub.sendLogs(entries));
  const ctx: ServerContext = {
    ...deps,
    executor: deps.createExecutor(hub),
    queue,
    hub,
    auth,
    files,
    limiter: new PromptRateLimiter(config.maxPromptsPerMinute, config.maxQueuedPerUser),
    users: new UserStore(deps.folders.userDir, config.multiUser),
    webRoot: config.frontEndRoot ?? path.join(projectRoot(), 'web'),
    features,
  };
  const worker = new PromptWorker({ queue, executor: ctx.executor, interrupt: deps.interrupt, messenger: hub, log: deps.log, unloadModels: deps.unloadModels, files });
  const close = async () => {
    await worker.stop();
    await hub.close();
    detachLogs();
  };
  const mounts: ComfyApp['mounts'] = [];
  return { app: buildExpress(ctx, mounts), hub, worker, ctx, mounts, close };
}

function buildExpress(ctx: ServerContext, mounts: ComfyApp['mounts']): Express {
  const { config } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (config.printServer) {
    app.use((req, _res, next) => {
      ctx.log.debug(`${req.method} ${req.originalUrl}`);
      next();
    });
  }
  app.use(securityMiddleware({ corsOrigin: config.corsOrigin, offline: config.offline }));
  if (ctx.audit) app.use(auditMiddleware(ctx.audit, (req) => accessOf(ctx, req).user));
  // Before every route (static files included): nothing is served to an unauthenticated client.
  if (ctx.auth) app.use(authMiddleware(ctx.auth));
  app.use(cacheHeaders());
  if (config.compressResponseBody) app.use(compressResponses());
  app.use(rawBodyReader(config.maxUploadBytes));

  const api = express.Router();
  registerApiRoutes(api, ctx);
  app.use('/api', api);
  app.use(api);
  const jobs = express.Router();
  registerJobsRoutes(jobs, ctx);
  app.use('/api/api', jobs);
  app.use('/api', jobs);
  const internal = internalRouter(ctx);
  app.use('/internal', internal);
  registerStatic(app, ctx);
  mounts.push({ prefixes: ['', '/api'], router: api }, { prefixes: ['/api', '/api/api'], router: jobs }, { prefixes: ['/internal'], router: internal }, { prefixes: [''], router: app.router });

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new HttpError(ERRORS.NOT_FOUND)));
  app.use(errorHandler(ctx));
  return app;
}

/** Catalogued errors get their ComfyUI body; anything else is logged and answered as a 500. */
function errorHandler(ctx: ServerContext) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const httpError = toHttpError(err);
    if (!httpError) ctx.log.error(`${req.method} ${req.originalUrl} failed:`, err);
    const e = httpError ?? new HttpError(ERRORS.INTERNAL_ERROR);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(e.status);
    const body = e.body();
    if (typeof body === 'string') res.type('text/plain').send(body);
    else res.json(body);
  };
}

function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  const e = err as { code?: string; type?: string; status?: number; message?: string };
  if (e?.code === 'LIMIT_FILE_SIZE' || e?.code === 'LIMIT_FIELD_VALUE' || e?.status === 413) return new HttpError(ERRORS.UPLOAD_TOO_LARGE);
  if (typeof e?.code === 'string' && e.code.startsWith('LIMIT_')) return new HttpError(ERRORS.UPLOAD_BAD_MULTIPART, { vars: { details: e.message ?? e.code } });
  if (e?.message && /Multipart|Unexpected end of form|Malformed part header/i.test(e.message)) return new HttpError(ERRORS.UPLOAD_BAD_MULTIPART, { vars: { details: e.message } });
  // A path the file system refuses (too long, a file used as a folder…) is the client's input.
  if (typeof e?.code === 'string' && ['ENAMETOOLONG', 'ENOTDIR', 'EISDIR', 'EILSEQ', 'EINVAL', 'EEXIST'].includes(e.code)) {
    return new HttpError(ERRORS.FS_BAD_PATH, { vars: { details: e.code } });
  }
  if (e?.status === 400 && e?.type === 'entity.parse.failed') return new HttpError(ERRORS.BODY_INVALID_JSON);
  // A path parameter that is not valid percent-encoding (`%c0%ae`): the client's input, not a 500.
  if (e?.status === 400 && /^Failed to decode param/.test(e?.message ?? '')) return new HttpError(ERRORS.FS_BAD_PATH, { vars: { details: 'malformed percent-encoding' } });
  return null;
}
