/**
 * `POST /workflow/convert` (with `/api` alias like every dual-prefix route): a saved UI workflow
 * → the API prompt the frontend's graphToPrompt would send.
 *
 *   body     {"workflow": <UI workflow or API prompt>, "object_info"?: {...}, "include_meta"?: bool}
 *   200      {"prompt": {...}, "warnings": [...]}      (an API prompt comes back unchanged)
 *   400      {"error": {type, message, details, extra_info}, "node_errors": {...}}
 *
 * Node definitions default to this server's `/object_info`; a client may send its own (e.g. a
 * ComfyUI's) to convert workflows for nodes this server does not have.
 */
import type { Response, Router } from 'express';
import type { ErrorItem, NodeDefWire, NodeErrors } from '../../compat/api-types.js';
import { isApiPrompt, isUiWorkflow, workflowToPrompt } from '../../compat/workflow/index.js';
import { jsonObject } from '../http/body.js';
import type { ServerContext } from '../context.js';

export type WorkflowConvertDeps = Pick<ServerContext, 'registry' | 'env'>;

function badRequest(res: Response, error: ErrorItem, nodeErrors: NodeErrors = {}): void {
  res.status(400).json({ error, node_errors: nodeErrors });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function registerWorkflowConvertRoutes(router: Router, deps: WorkflowConvertDeps): void {
  router.post('/workflow/convert', (req, res) => {
    const body = jsonObject(req);
    const workflow = body['workflow'];
    if (workflow === undefined) {
      return badRequest(res, { type: 'no_workflow', message: 'No workflow provided', details: 'send {"workflow": <UI workflow JSON>}', extra_info: {} });
    }
    if (isApiPrompt(workflow)) {
      res.json({ prompt: workflow, warnings: ['the workflow is already an API prompt; returned unchanged'] });
      return;
    }
    if (!isUiWorkflow(workflow)) {
      return badRequest(res, { type: 'invalid_workflow', message: 'Invalid workflow', details: 'workflow must be a UI workflow (an object with a "nodes" array) or an API prompt', extra_info: {} });
    }
    const given = body['object_info'];
    if (given !== undefined && !isObject(given)) {
      return badRequest(res, { type: 'invalid_object_info', message: 'Invalid object_info', details: 'object_info must be an object mapping node class names to definitions, as GET /object_info returns', extra_info: {} });
    }
    const objectInfo = (given as Record<string, NodeDefWire> | undefined) ?? deps.registry.objectInfo(deps.env);
    const includeMeta = typeof body['include_meta'] === 'boolean' ? body['include_meta'] : undefined;
    const result = workflowToPrompt(workflow, objectInfo, { includeMeta });
    if (!result.ok) return badRequest(res, result.error, result.nodeErrors);
    res.json({ prompt: result.prompt, warnings: result.warnings });
  });
}
