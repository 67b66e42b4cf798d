/**
 * Registers every dual-prefix route module on one router (mounted at `/` and `/api`).
 */
import type { Router } from 'express';
import type { ServerContext } from '../context.js';
import { registerMiscRoutes } from './misc.js';
import { registerModelRoutes } from './models.js';
import { registerPromptRoutes } from './prompt.js';
import { registerQueueRoutes } from './queue.js';
import { registerSettingsRoutes } from './settings.js';
import { registerSystemRoutes } from './system.js';
import { registerUploadRoutes } from './upload.js';
import { registerUserdataRoutes } from './userdata.js';
import { registerViewRoutes } from './view.js';
import { registerWorkflowConvertRoutes } from './workflow-convert.js';

export { registerJobsRoutes } from './jobs.js';

export function registerApiRoutes(router: Router, ctx: ServerContext): void {
  registerPromptRoutes(router, ctx);
  registerQueueRoutes(router, ctx);
  registerSystemRoutes(router, ctx);
  registerModelRoutes(router, ctx);
  registerViewRoutes(router, ctx);
  registerUploadRoutes(router, ctx);
  registerUserdataRoutes(router, ctx);
  registerSettingsRoutes(router, ctx);
  registerMiscRoutes(router, ctx);
  registerWorkflowConvertRoutes(router, ctx);
}
