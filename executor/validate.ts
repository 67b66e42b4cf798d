/**
 * Prompt validation (ComfyUI's `validate_prompt`, spec §3.2). Only nodes reachable from the
 * outputs are checked. Mutates the prompt: coerced constants replace the submitted ones
 * (`"3"` → 3 for an INT, `{"__value__": [...]}` → the list), so queue it after validating.
 */
import type { ErrorItem, NodeErrors } from '../compat/api-types.js';
import type { ApiPrompt } from '../compat/api-types.js';
import type { NodeEnvironment } from '../nodes/node-api.js';
import { exceptionMessage, exceptionTypeName, tracebackLines } from './error-format.js';
import { isPlainObject, pyStr } from './py-values.js';
import type { ValidationResult } from './types.js';
import { validateNode, type NodeLookup, type ValidationRun, type Verdict } from './validate-node.js';

export type { NodeLookup } from './validate-node.js';

export async function validatePrompt(
  prompt: unknown,
  nodes: NodeLookup,
  env: NodeEnvironment,
  partialExecutionTargets?: string[],
): Promise<ValidationResult> {
  if (!isPlainObject(prompt)) return fail(invalidPrompt(prompt));
  const classError = checkClassTypes(prompt, nodes);
  if (classError) return fail(classError);

  const targets = Array.isArray(partialExecutionTargets) ? partialExecutionTargets : undefined;
  const outputs = Object.keys(prompt).filter((id) => {
    const def = nodes.get((prompt[id] as { class_type: string }).class_type)!;
    return def.outputNode === true && (targets === undefined || targets.includes(id));
  });
  if (outputs.length === 0) {
    return fail({ type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} });
  }
  return validateOutputs({ prompt: prompt as ApiPrompt, nodes, env, validated: new Map() }, outputs);
}

function fail(error: ErrorItem, nodeErrors: NodeErrors = {}): ValidationResult {
  return { ok: false, error, nodeErrors };
}

function invalidPrompt(prompt: unknown): ErrorItem {
  const got = Array.isArray(prompt) ? 'a list' : prompt === null ? 'null' : `a ${typeof prompt}`;
  return {
    type: 'invalid_prompt',
    message: 'Invalid prompt: expected an object mapping node ids to nodes',
    details: `got ${got}`,
    extra_info: {},
  };
}

/** Step 1: every node needs a known class_type; the first failure aborts with no node errors. */
function checkClassTypes(prompt: Record<string, unknown>, nodes: NodeLookup): ErrorItem | undefined {
  for (const [id, node] of Object.entries(prompt)) {
    const data = isPlainObject(node) ? node : {};
    const meta = isPlainObject(data._meta) ? data._meta : {};
    if (!Object.hasOwn(data, 'class_type')) {
      const title = meta.title;
      return {
        type: 'missing_node_type',
        message: `Node '${title ? pyStr(title) : `ID #${id}`}' has no class_type. The workflow may be corrupted or a custom node is missing.`,
        details: `Node ID '#${id}'`,
        extra_info: { node_id: id, class_type: null, node_title: title ?? null },
      };
    }
    const classType = data.class_type;
    if (typeof classType !== 'string' || !nodes.get(classType)) {
      const title = Object.hasOwn(meta, 'title') ? meta.title : classType;
      return {
        type: 'missing_node_type',
        message: `Node '${pyStr(title)}' not found. The custom node may not be installed.`,
        details: `Node ID '#${id}'`,
        extra_info: { node_id: id, class_type: classType, node_title: title },
      };
    }
  }
  return undefined;
}

async function validateOutputs(run: ValidationRun, outputs: string[]): Promise<ValidationResult> {
  const good: string[] = [];
  const failed: { output: string; reasons: ErrorItem[] }[] = [];
  const nodeErrors: NodeErrors = {};
  for (const output of outputs) {
    const verdict = await validateOutput(run, output);
    if (verdict.valid) {
      good.push(output);
      continue;
    }
    failed.push({ output, reasons: verdict.errors });
    collectNodeErrors(run, output, nodeErrors);
  }
  if (good.length === 0) {
    const details = failed.flatMap((f) => f.reasons.map((r) => `${r.message}: ${r.details}`)).join('\n');
    return fail({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} }, nodeErrors);
  }
  return { ok: true, outputs: good, nodeErrors };
}

async function validateOutput(run: ValidationRun, output: string): Promise<Verdict> {
  try {
    return await validateNode(run, output);
  } catch (err) {
    const reason: ErrorItem = {
      type: 'exception_during_validation',
      message: 'Exception when validating node',
      details: exceptionMessage(err),
      extra_info: { exception_type: exceptionTypeName(err), traceback: tracebackLines(err) },
    };
    const verdict = { valid: false, errors: [reason] };
    run.validated.set(output, verdict);
    return verdict;
  }
}

/**
 * ComfyUI attributes every node that carries its own errors so far to the failing output
 * (nodes failing only because of an upstream node are left out).
 */
function collectNodeErrors(run: ValidationRun, output: string, nodeErrors: NodeErrors): void {
  for (const [id, verdict] of run.validated) {
    if (verdict.valid || verdict.errors.length === 0) continue;
    // defineProperty, not `??=`: node ids like "__proto__" or "toString" must become own keys.
    if (!Object.hasOwn(nodeErrors, id)) Object.defineProperty(nodeErrors, id, { value: { errors: verdict.errors, dependent_outputs: [], class_type: run.prompt[id]!.class_type }, enumerable: true, writable: true, configurable: true });
    nodeErrors[id]!.dependent_outputs.push(output);
  }
}
