/**
 * Per-node validation (ComfyUI's `validate_inputs`, spec §3.2 step 3): memoized, depth-first
 * through links, with cycle detection. Coerced constants are written back into the prompt's
 * `inputs`, as ComfyUI does, so the queued prompt carries the validated values.
 */
import type { ApiPrompt, ErrorItem } from '../compat/api-types.js';
import { resolveInputTypes, type InputTypes, type NodeDefinition, type NodeEnvironment } from '../nodes/node-api.js';
import { coerceConstant, COERCED_TYPES } from './coerce.js';
import { exceptionMessage, exceptionTypeName, tracebackLines } from './error-format.js';
import { checkConstantRange, checkCombo } from './validate-values.js';
import { runCustomValidator } from './validator-call.js';
import { PyError, isPlainObject, pyRepr, pyStr } from './py-values.js';
import { typesCompatible } from './type-match.js';

export interface NodeLookup {
  get(name: string): NodeDefinition | undefined;
}

export interface Verdict {
  valid: boolean;
  errors: ErrorItem[];
}

export interface ValidationRun {
  prompt: ApiPrompt;
  nodes: NodeLookup;
  env: NodeEnvironment;
  validated: Map<string, Verdict>;
}

interface NodeCheck {
  run: ValidationRun;
  id: string;
  inputs: Record<string, unknown>;
  types: InputTypes;
  def: NodeDefinition;
  errors: ErrorItem[];
  valid: boolean;
  receivedTypes: Record<string, unknown>;
  visiting: string[];
}

export async function validateNode(run: ValidationRun, id: string, visiting: string[] = []): Promise<Verdict> {
  const known = run.validated.get(id);
  if (known) return known;
  if (visiting.includes(id)) return markCycle(run, id, visiting);

  const node = sourceNode(run.prompt, id);
  const def = classOf(run, node.class_type);
  const inputs = node.inputs;
  if (!isPlainObject(inputs)) throw new PyError('KeyError', `Node ${id} (${pyStr(node.class_type)}) has no 'inputs' object`);
  const types = resolveInputTypes(def, run.env);
  const check: NodeCheck = { run, id, inputs, types, def, errors: [], valid: true, receivedTypes: {}, visiting };

  for (const category of ['required', 'optional'] as const) {
    for (const name of Object.keys(types[category] ?? {})) await checkInput(check, name, category);
  }
  if (def.validateInputs) check.errors.push(...(await runCustomValidator(run, id, def, inputs, types, check.receivedTypes)));

  const previous = run.validated.get(id) ?? { valid: true, errors: [] };
  const verdict: Verdict = {
    valid: previous.valid && check.valid && check.errors.length === 0,
    errors: [...previous.errors, ...check.errors.filter((e) => !previous.errors.includes(e))],
  };
  run.validated.set(id, verdict);
  return verdict;
}

function markCycle(run: ValidationRun, id: string, visiting: string[]): Verdict {
  const path = [...visiting.slice(visiting.indexOf(id)), id];
  const cycleNodes = [...new Set(path)];
  const details = path.map((n) => `${n} (${pyStr(run.prompt[n]?.class_type)})`).join(' -> ');
  for (const nodeId of cycleNodes) {
    const error: ErrorItem = {
      type: 'dependency_cycle',
      message: 'Dependency cycle detected',
      details,
      extra_info: { node_id: nodeId, cycle_nodes: cycleNodes },
    };
    run.validated.set(nodeId, { valid: false, errors: [error] });
  }
  return run.validated.get(id)!;
}

/** `prompt[id]` with Python's KeyError when absent. */
function sourceNode(prompt: ApiPrompt, id: unknown): ApiPrompt[string] {
  if (typeof id !== 'string' || !Object.hasOwn(prompt, id)) throw new PyError('KeyError', pyRepr(id));
  return prompt[id]!;
}

function classOf(run: ValidationRun, classType: unknown): NodeDefinition {
  const def = typeof classType === 'string' ? run.nodes.get(classType) : undefined;
  if (!def) throw new PyError('KeyError', pyRepr(classType));
  return def;
}

async function checkInput(check: NodeCheck, name: string, category: 'required' | 'optional'): Promise<void> {
  const spec = check.types[category]![name]!;
  const inputType = spec[0];
  const options = spec[1] ?? {};
  const config = [inputType, options];
  if (!Object.hasOwn(check.inputs, name)) {
    if (category === 'required') {
      check.errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
    }
    return;
  }
  const value = check.inputs[name];
  if (Array.isArray(value)) return checkLinkedInput(check, name, value, config);
  checkConstantInput(check, name, value, config);
}

async function checkLinkedInput(check: NodeCheck, name: string, value: unknown[], config: unknown[]): Promise<void> {
  if (value.length !== 2) {
    check.errors.push({
      type: 'bad_linked_input',
      message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
      details: name,
      extra_info: { input_name: name, input_config: config, received_value: value },
    });
    return;
  }
  const [sourceId, slot] = value;
  const source = sourceNode(check.run.prompt, sourceId);
  const receivedType = returnTypeAt(classOf(check.run, source.class_type), slot);
  check.receivedTypes[name] = receivedType;
  if (!check.def.validateInputs?.wantsInputTypes && !typesCompatible(receivedType, config[0])) {
    check.errors.push({
      type: 'return_type_mismatch',
      message: 'Return type mismatch between linked nodes',
      details: `${name}, received_type(${pyStr(receivedType)}) mismatch input_type(${pyStr(config[0])})`,
      extra_info: { input_name: name, input_config: config, received_type: receivedType, linked_node: value },
    });
    return;
  }
  await validateSource(check, name, sourceId as string, value, config);
}

async function validateSource(check: NodeCheck, name: string, sourceId: string, link: unknown[], config: unknown[]): Promise<void> {
  try {
    const verdict = await validateNode(check.run, sourceId, [...check.visiting, check.id]);
    if (!verdict.valid) check.valid = false;
  } catch (err) {
    check.valid = false;
    const reason: ErrorItem = {
      type: 'exception_during_inner_validation',
      message: 'Exception when validating inner node',
      details: exceptionMessage(err),
      extra_info: {
        input_name: name,
        input_config: config,
        exception_message: exceptionMessage(err),
        exception_type: exceptionTypeName(err),
        traceback: tracebackLines(err),
        linked_node: link,
      },
    };
    check.run.validated.set(sourceId, { valid: false, errors: [reason] });
  }
}

/** `RETURN_TYPES[slot]` with Python tuple indexing (negative from the end, IndexError past it). */
function returnTypeAt(def: NodeDefinition, slot: unknown): unknown {
  const types = def.returnTypes;
  if (typeof slot !== 'number' || !Number.isInteger(slot)) {
    throw new PyError('TypeError', `tuple indices must be integers or slices, not ${slot === null ? 'NoneType' : typeof slot === 'number' ? 'float' : typeof slot === 'string' ? 'str' : typeof slot}`);
  }
  const index = slot < 0 ? types.length + slot : slot;
  if (index < 0 || index >= types.length) throw new PyError('IndexError', 'tuple index out of range');
  return types[index];
}

function checkConstantInput(check: NodeCheck, name: string, raw: unknown, config: unknown[]): void {
  let value = raw;
  if (isPlainObject(value) && Object.hasOwn(value, '__value__')) {
    value = value.__value__;
    check.inputs[name] = value;
  }
  const inputType = config[0];
  try {
    if ((COERCED_TYPES as readonly unknown[]).includes(inputType)) {
      value = coerceConstant(inputType, value);
      check.inputs[name] = value;
    }
  } catch (err) {
    check.errors.push({
      type: 'invalid_input_type',
      message: `Failed to convert an input value to a ${pyStr(inputType)} value`,
      details: `${name}, ${pyStr(value)}, ${exceptionMessage(err)}`,
      extra_info: { input_name: name, input_config: config, received_value: value, exception_message: exceptionMessage(err) },
    });
    return;
  }
  const spec = check.def.validateInputs;
  const validatorTakesIt = spec !== undefined && (spec.inputs === '*' || spec.inputs.includes(name));
  if (validatorTakesIt) return;
  const error = checkConstantRange(name, value, config) ?? checkCombo(name, value, config);
  if (error) check.errors.push(error);
}
