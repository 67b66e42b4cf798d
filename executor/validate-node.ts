/**
 * Per-node validation (ComfyUI's `validate_inputs`, spec §3.2 step 3): memoized, depth-first
 * through links, with cycle detection. Coerced constants are written back into the prompt's
 * `inputs`, as ComfyUI does, so the queued prompt carries the validated values.
 *
 * ComfyUI recurses once per link (Python's RecursionError near 1,000 nodes deep). Here the
 * depth-first walk keeps its own stack of frames, one per node being checked, so a chain of any
 * length validates in linear time and constant JavaScript stack; the verdicts, errors and their
 * order are those of the recursive walk.
 */
import type { ApiPrompt, ErrorItem } from '../compat/api-types.js';
import { resolveInputTypes, type InputTypes, type NodeDefinition, type NodeEnvironment } from '../nodes/node-api.js';
import { coerceConstant, COERCED_TYPES } from './coerce.js';
import { cycleErrors } from './cycle-report.js';
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
}

/** A linked input whose source node still has to be validated. */
interface SourceLink {
  name: string;
  sourceId: string;
  link: unknown[];
  config: unknown[];
}

/** A node on the walk's stack: its check so far and where it stopped in its input list. */
interface Frame {
  check: NodeCheck;
  slots: { name: string; category: 'required' | 'optional' }[];
  next: number;
  /** The link whose source is the frame above this one. */
  waitingOn?: SourceLink;
}

/** The nodes on the walk's stack, bottom (the output) first: ComfyUI's `visiting` list. */
interface WalkStack {
  frames: Frame[];
  depthOf: Map<string, number>;
}

/**
 * Validates `id` and everything it links to. Throws what checking `id` itself throws (the
 * caller reports it as `exception_during_validation`); a source node that throws gets
 * `exception_during_inner_validation` instead, as in ComfyUI.
 */
export async function validateNode(run: ValidationRun, id: string): Promise<Verdict> {
  const known = run.validated.get(id);
  if (known) return known;
  const stack: WalkStack = { frames: [], depthOf: new Map() };
  pushFrame(stack, openFrame(run, id));
  let rootVerdict: Verdict | undefined;
  while (stack.frames.length > 0) {
    const frame = stack.frames.at(-1)!;
    try {
      const source = advance(frame, stack);
      if (source !== undefined) {
        enterSource(stack, frame, source);
        continue;
      }
      const verdict = await finishFrame(frame);
      popFrame(stack);
      const parent = stack.frames.at(-1);
      if (parent) sourceSettled(parent, verdict);
      else rootVerdict = verdict;
    } catch (err) {
      popFrame(stack);
      const parent = stack.frames.at(-1);
      if (!parent) throw err;
      sourceFailed(parent, err);
    }
  }
  return rootVerdict!;
}

function pushFrame(stack: WalkStack, frame: Frame): void {
  stack.depthOf.set(frame.check.id, stack.frames.length);
  stack.frames.push(frame);
}

function popFrame(stack: WalkStack): void {
  stack.depthOf.delete(stack.frames.pop()!.check.id);
}

/** Starts checking `sourceId` above `frame`; a node that can't even start fails as an inner exception. */
function enterSource(stack: WalkStack, frame: Frame, source: SourceLink): void {
  frame.waitingOn = source;
  try {
    pushFrame(stack, openFrame(frame.check.run, source.sourceId));
  } catch (err) {
    sourceFailed(frame, err);
  }
}

/** Resolves the node's class and input types (each can throw, like ComfyUI's lookups). */
function openFrame(run: ValidationRun, id: string): Frame {
  const node = sourceNode(run.prompt, id);
  const def = classOf(run, node.class_type);
  const inputs = node.inputs;
  if (!isPlainObject(inputs)) throw new PyError('KeyError', `Node ${id} (${pyStr(node.class_type)}) has no 'inputs' object`);
  const types = resolveInputTypes(def, run.env);
  const slots: Frame['slots'] = [];
  for (const category of ['required', 'optional'] as const) {
    for (const name of Object.keys(types[category] ?? {})) slots.push({ name, category });
  }
  return { check: { run, id, inputs, types, def, errors: [], valid: true, receivedTypes: {} }, slots, next: 0 };
}

/**
 * Checks the frame's remaining inputs in order; stops at the first link whose source is neither
 * validated nor on the stack and returns it. A link back into the stack closes a cycle.
 */
function advance(frame: Frame, stack: WalkStack): SourceLink | undefined {
  const { check } = frame;
  while (frame.next < frame.slots.length) {
    const { name, category } = frame.slots[frame.next++]!;
    const source = checkInput(check, name, category);
    if (source === undefined) continue;
    const verdict = check.run.validated.get(source.sourceId) ?? cycleVerdict(check.run, stack, source.sourceId);
    if (verdict === undefined) return source;
    if (!verdict.valid) check.valid = false;
  }
  return undefined;
}

async function finishFrame(frame: Frame): Promise<Verdict> {
  const { check } = frame;
  const { run, id, def } = check;
  if (def.validateInputs) check.errors.push(...(await runCustomValidator(run, id, def, check.inputs, check.types, check.receivedTypes)));
  // A cycle found above this node may already have given it an error: join it.
  const previous = run.validated.get(id) ?? { valid: true, errors: [] };
  const verdict: Verdict = {
    valid: previous.valid && check.valid && check.errors.length === 0,
    errors: [...previous.errors, ...check.errors.filter((e) => !previous.errors.includes(e))],
  };
  run.validated.set(id, verdict);
  return verdict;
}

function sourceSettled(frame: Frame, verdict: Verdict): void {
  frame.waitingOn = undefined;
  if (!verdict.valid) frame.check.valid = false;
}

function sourceFailed(frame: Frame, err: unknown): void {
  const { name, sourceId, link, config } = frame.waitingOn!;
  frame.waitingOn = undefined;
  frame.check.valid = false;
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
  frame.check.run.validated.set(sourceId, { valid: false, errors: [reason] });
}

/** `sourceId` on the stack: every node from it up to the top is on a cycle. */
function cycleVerdict(run: ValidationRun, stack: WalkStack, sourceId: string): Verdict | undefined {
  const depth = stack.depthOf.get(sourceId);
  if (depth === undefined) return undefined;
  const path = [...stack.frames.slice(depth).map((f) => f.check.id), sourceId];
  for (const [nodeId, error] of cycleErrors(run.prompt, path)) run.validated.set(nodeId, { valid: false, errors: [error] });
  return run.validated.get(sourceId)!;
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

/** Checks one input; a well-formed link comes back as the source still to validate. */
function checkInput(check: NodeCheck, name: string, category: 'required' | 'optional'): SourceLink | undefined {
  const spec = check.types[category]![name]!;
  const inputType = spec[0];
  const options = spec[1] ?? {};
  const config = [inputType, options];
  if (!Object.hasOwn(check.inputs, name)) {
    if (category === 'required') {
      check.errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
    }
    return undefined;
  }
  const value = check.inputs[name];
  if (Array.isArray(value)) return checkLinkedInput(check, name, value, config);
  checkConstantInput(check, name, value, config);
  return undefined;
}

function checkLinkedInput(check: NodeCheck, name: string, value: unknown[], config: unknown[]): SourceLink | undefined {
  if (value.length !== 2) {
    check.errors.push({
      type: 'bad_linked_input',
      message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
      details: name,
      extra_info: { input_name: name, input_config: config, received_value: value },
    });
    return undefined;
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
    return undefined;
  }
  return { name, sourceId: sourceId as string, link: value, config };
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
