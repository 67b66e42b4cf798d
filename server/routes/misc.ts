/**
 * Routes the frontend calls at boot that have little to serve yet (spec §1.10): `/i18n`,
 * `/workflow_templates`, `/global_subgraphs`, `/node_replacements`. Custom-node packs with
 * `locales/` or `example_workflows/` are not loaded yet, so these answer empty, as ComfyUI does
 * without custom nodes.
 */
import type { Router } from 'express';
import { ERRORS, HttpError } from '../../compat/errors.js';
import type { ServerContext } from '../context.js';

export function registerMiscRoutes(router: Router, _ctx: ServerContext): void {
  router.get('/i18n', (_req, res) => {
    res.json({});
  });
  router.get('/workflow_templates', (_req, res) => {
    res.json({});
  });
  router.get('/workflow_templates/:pack/:name', () => {
    throw new HttpError(ERRORS.NOT_FOUND);
  });
  router.get('/global_subgraphs', (_req, res) => {
    res.json({});
  });
  router.get('/global_subgraphs/:id', () => {
    throw new HttpError(ERRORS.NOT_FOUND);
  });
  router.get('/node_replacements', (_req, res) => {
    res.json({});
  });
}
