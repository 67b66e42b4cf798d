/**
 * `GET /prompt` and `POST /prompt` (spec §1.2): priority, client-chosen id, validation,
 * extra_data (client_id, Comfy-Usage-Source, create_time), sensitive keys split off, enqueue.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import type { ApiPrompt, ErrorItem, NodeErrors } from '../../compat/api-types.js';
import { ERRORS, HttpError } from '../../compat/errors.js';
import { isApiPrompt, isUiWorkflow, workflowToPrompt } from '../../compat/workflow/index.js';
import { jsonObject } from '../http/body.js';
import type { ServerContext } from '../context.js';
import { accessOf } from '../access.js';

export const SENSITIVE_EXTRA_DATA_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org'];

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL_UUID.test(value);
}

export function registerPromptRoutes(router: Router, ctx: ServerContext): void {
  router.get('/prompt', (_req, res) => {
    res.json({ exec_info: { queue_remaining: ctx.queue.remaining() } });
  });
  router.post('/prompt', (req, res) => postPrompt(ctx, req, res));
}

function explicitNumber(body: Record<string, unknown>): number | undefined {
  if (!('number' in body)) return undefined;
  const n = typeof body['number'] === 'string' && body['number'].trim() !== '' ? Number(body['number']) : body['number'];
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new HttpError(ERRORS.PROMPT_BAD_NUMBER, { details: `number must be a number, got ${JSON.stringify(body['number'])}` });
  }
  return n;
}

function promptId(body: Record<string, unknown>): string {
  const id = body['prompt_id'];
  if (id === undefined || id === null) return randomUUID();
  if (!isCanonicalUuid(id)) {
    throw new HttpError(ERRORS.PROMPT_INVALID_ID, { details: `prompt_id must be a UUID in canonical lowercase hyphenated form, got ${JSON.stringify(id)}` });
  }
  return id;
}

function partialTargets(body: Record<string, unknown>): string[] | undefined {
  const t = body['partial_execution_targets'];
  if (t === undefined || t === null) return undefined;
  if (!Array.isArray(t)) throw new HttpError(ERRORS.PROMPT_BAD_TARGETS, { details: `got ${typeof t}` });
  return t.map((x) => String(x));
}

function buildExtraData(body: Record<string, unknown>, req: Request): Record<string, unknown> {
  const given = body['extra_data'];
  const extra: Record<string, unknown> = given && typeof given === 'object' && !Array.isArray(given) ? { ...(given as Record<string, unknown>) } : {};
  if ('client_id' in body) extra['client_id'] = body['client_id'];
  const usage = req.headers['comfy-usage-source'];
  if (typeof usage === 'string' && !('comfy_usage_source' in extra)) extra['comfy_usage_source'] = usage;
  return extra;
}

function splitSensitive(extra: Record<string, unknown>): Record<string, unknown> {
  const sensitive: Record<string, unknown> = {};
  for (const key of SENSITIVE_EXTRA_DATA_KEYS) {
    if (key in extra) {
      sensitive[key] = extra[key];
      delete extra[key];
    }
  }
  return sensitive;
}

async function postPrompt(ctx: ServerContext, req: Request, res: Response): Promise<void> {
  ctx.log.info('got prompt');
  const body = jsonObject(req);
  const access = accessOf(ctx, req);
  ctx.limiter.check(access.user, ctx.queue.pendingOf(access.user));
  // ComfyUI consumes a counter value before it even looks at the prompt.
  const number = ctx.queue.nextNumber(explicitNumber(body), Boolean(body['front']));
  const fromWorkflow = promptFromWorkflow(ctx, body);
  if (fromWorkflow && 'error' in fromWorkflow) {
    res.status(400).json({ error: fromWorkflow.error, node_errors: fromWorkflow.nodeErrors });
    return;
  }
  if (!fromWorkflow && !('prompt' in body)) throw new HttpError(ERRORS.PROMPT_MISSING);
  const prompt = fromWorkflow ? fromWorkflow.prompt : body['prompt'];
  if (!prompt || typeof prompt !== 'object' || Array.isArray(prompt)) {
    throw new HttpError(ERRORS.PROMPT_NOT_OBJECT, { details: 'prompt must be an object mapping node ids to {class_type, inputs}' });
  }
  const id = promptId(body);
  const targets = partialTargets(body);
  const validation = await ctx.validate(prompt as ApiPrompt, targets);
  const extraData = buildExtraData(body, req);
  if (fromWorkflow) attachWorkflow(extraData, body['workflow']);
  if (!validation.ok) {
    ctx.log.warn(`invalid prompt: ${JSON.stringify(validation.error)}`);
    res.status(400).json({ error: validation.error, node_errors: validation.nodeErrors });
    return;
  }
  const sensitive = splitSensitive(extraData);
  extraData['create_time'] = Date.now();
  ctx.queue.put({ number, promptId: id, prompt: prompt as ApiPrompt, extraData, sensitive, outputsToExecute: validation.outputs, owner: access.user });
  ctx.limiter.accept(access.user);
  res.locals['auditPromptId'] = id;
  res.json({ prompt_id: id, number, node_errors: validation.nodeErrors });
}

/**
 * Comfy8 extension: `{"workflow": <saved UI workflow>}` in place of `prompt`. The workflow is
 * converted here as the frontend's graphToPrompt would, and stored in `extra_pnginfo` so saved
 * PNGs embed it as ComfyUI's do. Returns undefined when the body carries a `prompt`.
 */
function promptFromWorkflow(
  ctx: ServerContext,
  body: Record<string, unknown>,
): { prompt: ApiPrompt } | { error: ErrorItem; nodeErrors: NodeErrors } | undefined {
  if ('prompt' in body || !('workflow' in body)) return undefined;
  const workflow = body['workflow'];
  if (isApiPrompt(workflow)) return { prompt: workflow as ApiPrompt };
  if (!isUiWorkflow(workflow)) {
    const details = 'workflow must be a UI workflow (an object with a "nodes" array) or an API prompt';
    return { error: { type: 'invalid_workflow', message: 'Invalid workflow', details, extra_info: {} }, nodeErrors: {} };
  }
  const result = workflowToPrompt(workflow, ctx.registry.objectInfo(ctx.env));
  return result.ok ? { prompt: result.prompt } : { error: result.error, nodeErrors: result.nodeErrors };
}

function attachWorkflow(extraData: Record<string, unknown>, workflow: unknown): void {
  if (!isUiWorkflow(workflow)) return;
  const given = extraData['extra_pnginfo'];
  const pnginfo = given && typeof given === 'object' && !Array.isArray(given) ? { ...(given as Record<string, unknown>) } : {};
  if (!('workflow' in pnginfo)) pnginfo['workflow'] = workflow;
  extraData['extra_pnginfo'] = pnginfo;
}
