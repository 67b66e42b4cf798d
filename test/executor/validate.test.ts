import { describe, expect, it } from 'vitest';
import { validatePrompt } from '../../executor/index.js';
import { NodeRegistry } from '../../nodes/registry.js';
import { defineNode } from '../../nodes/node-api.js';
import { makeTestEnv } from '../helpers/env.js';

const env = makeTestEnv();
const manyChoices = Array.from({ length: 25 }, (_, i) => `m${i}.safetensors`);

const registry = new NodeRegistry();
registry.registerAll([
  defineNode({ name: 'Int', category: 't', inputTypes: { required: { value: ['INT', { min: 4, max: 8 }] } }, returnTypes: ['INT'], execute: ({ value }) => [value] }),
  defineNode({ name: 'Num', category: 't', inputTypes: { required: { value: ['INT'] } }, returnTypes: ['INT'], execute: ({ value }) => [value] }),
  defineNode({ name: 'Float', category: 't', inputTypes: { required: { value: ['FLOAT', { min: 0.5, max: 2.0 }] } }, returnTypes: ['FLOAT'], execute: ({ value }) => [value] }),
  defineNode({ name: 'Text', category: 't', inputTypes: { required: { text: ['STRING'] } }, returnTypes: ['STRING'], execute: ({ text }) => [text] }),
  defineNode({ name: 'Flag', category: 't', inputTypes: { required: { on: ['BOOLEAN'] } }, returnTypes: ['BOOLEAN'], execute: ({ on }) => [on] }),
  defineNode({
    name: 'Pick',
    category: 't',
    inputTypes: {
      required: { choice: [['a', 'b']] },
      optional: { model: [manyChoices], combo: ['COMBO', { options: ['x', 'y'] }], many: ['COMBO', { options: ['p', 'q', 'r'], multiselect: true }], remote: ['COMBO', { remote: { route: '/x' } }] },
    },
    returnTypes: [['a', 'b']],
    execute: ({ choice }) => [choice],
  }),
  defineNode({ name: 'Out', category: 't', outputNode: true, inputTypes: { required: { value: ['INT'] }, optional: { extra: ['STRING,INT'] } }, returnTypes: [], execute: () => [] }),
  defineNode({ name: 'OutAny', category: 't', outputNode: true, inputTypes: { required: { value: ['*'] } }, returnTypes: [], execute: () => [] }),
  defineNode({ name: 'OutText', category: 't', outputNode: true, inputTypes: { required: { text: ['STRING'] } }, returnTypes: [], execute: () => [] }),
  defineNode({ name: 'OutCombo', category: 't', outputNode: true, inputTypes: { required: { c: ['COMBO', { options: ['a', 'b'] }] } }, returnTypes: [], execute: () => [] }),
  defineNode({ name: 'Pass', category: 't', inputTypes: { required: { value: ['INT'] } }, returnTypes: ['INT'], execute: ({ value }) => [value] }),
  defineNode({
    name: 'Checked',
    category: 't',
    outputNode: true,
    inputTypes: { required: { a: ['INT', { min: 10 }], b: ['INT', { min: 10 }] } },
    returnTypes: [],
    validateInputs: { inputs: ['a', 'b'], fn: ({ a }) => (a === 1 ? true : `a must be 1, got ${String(a)}`) },
    execute: () => [],
  }),
  defineNode({
    name: 'Typed',
    category: 't',
    outputNode: true,
    inputTypes: { required: { value: ['STRING'] } },
    returnTypes: [],
    validateInputs: { inputs: [], wantsInputTypes: true, fn: (_inputs, types) => types?.value === 'INT' },
    execute: () => [],
  }),
]);

const validate = (prompt: unknown, targets?: string[]) => validatePrompt(prompt, registry, env, targets);

interface ErrorCase {
  name: string;
  prompt: unknown;
  type: string;
  message: string;
  details: string;
  extraInfo?: Record<string, unknown>;
}

const topLevelCases: ErrorCase[] = [
  {
    name: 'node without class_type (no title)',
    prompt: { '1': { inputs: {} } },
    type: 'missing_node_type',
    message: "Node 'ID #1' has no class_type. The workflow may be corrupted or a custom node is missing.",
    details: "Node ID '#1'",
    extraInfo: { node_id: '1', class_type: null, node_title: null },
  },
  {
    name: 'node without class_type (titled)',
    prompt: { '7': { inputs: {}, _meta: { title: 'My Loader' } } },
    type: 'missing_node_type',
    message: "Node 'My Loader' has no class_type. The workflow may be corrupted or a custom node is missing.",
    details: "Node ID '#7'",
    extraInfo: { node_id: '7', class_type: null, node_title: 'My Loader' },
  },
  {
    name: 'unknown class (title defaults to class)',
    prompt: { '3': { class_type: 'NoSuchNode', inputs: {} } },
    type: 'missing_node_type',
    message: "Node 'NoSuchNode' not found. The custom node may not be installed.",
    details: "Node ID '#3'",
    extraInfo: { node_id: '3', class_type: 'NoSuchNode', node_title: 'NoSuchNode' },
  },
  {
    name: 'unknown class (titled)',
    prompt: { '3': { class_type: 'NoSuchNode', inputs: {}, _meta: { title: 'Fancy' } } },
    type: 'missing_node_type',
    message: "Node 'Fancy' not found. The custom node may not be installed.",
    details: "Node ID '#3'",
    extraInfo: { node_id: '3', class_type: 'NoSuchNode', node_title: 'Fancy' },
  },
  { name: 'no output node', prompt: { '1': { class_type: 'Int', inputs: { value: 5 } } }, type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extraInfo: {} },
  { name: 'a list instead of a prompt', prompt: [1, 2], type: 'invalid_prompt', message: 'Invalid prompt: expected an object mapping node ids to nodes', details: 'got a list' },
  { name: 'null prompt', prompt: null, type: 'invalid_prompt', message: 'Invalid prompt: expected an object mapping node ids to nodes', details: 'got null' },
  {
    name: 'a node that is not an object',
    prompt: { '1': 'Out' },
    type: 'missing_node_type',
    message: "Node 'ID #1' has no class_type. The workflow may be corrupted or a custom node is missing.",
    details: "Node ID '#1'",
  },
];

describe('validatePrompt: prompt-level errors', () => {
  it.each(topLevelCases)('$name', async ({ prompt, type, message, details, extraInfo }) => {
    const result = await validate(prompt);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.type).toBe(type);
    expect(result.error.message).toBe(message);
    expect(result.error.details).toBe(details);
    if (extraInfo) expect(result.error.extra_info).toEqual(extraInfo);
    expect(result.nodeErrors).toEqual({});
  });

  it('partial_execution_targets limit the outputs', async () => {
    const prompt = { '1': { class_type: 'Out', inputs: { value: 1 } }, '2': { class_type: 'Out', inputs: { value: 2 } } };
    const result = await validate(prompt, ['2']);
    expect(result).toEqual({ ok: true, outputs: ['2'], nodeErrors: {} });
    const none = await validate(prompt, ['9']);
    expect(!none.ok && none.error.type).toBe('prompt_no_outputs');
  });
});

interface NodeErrorCase {
  name: string;
  prompt: Record<string, unknown>;
  /** The node carrying the error. */
  node: string;
  type: string;
  message: string;
  details: string;
  extraInfo?: Record<string, unknown>;
}

const nodeErrorCases: NodeErrorCase[] = [
  {
    name: 'required input missing',
    prompt: { '1': { class_type: 'Out', inputs: {} } },
    node: '1',
    type: 'required_input_missing',
    message: 'Required input is missing',
    details: 'value',
    extraInfo: { input_name: 'value' },
  },
  {
    name: 'bad linked input',
    prompt: { '1': { class_type: 'Out', inputs: { value: ['2'] } } },
    node: '1',
    type: 'bad_linked_input',
    message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
    details: 'value',
    extraInfo: { input_name: 'value', input_config: ['INT', {}], received_value: ['2'] },
  },
  {
    name: 'return type mismatch',
    prompt: { '1': { class_type: 'Out', inputs: { value: ['2', 0] } }, '2': { class_type: 'Text', inputs: { text: 'x' } } },
    node: '1',
    type: 'return_type_mismatch',
    message: 'Return type mismatch between linked nodes',
    details: 'value, received_type(STRING) mismatch input_type(INT)',
    extraInfo: { input_name: 'value', input_config: ['INT', {}], received_type: 'STRING', linked_node: ['2', 0] },
  },
  {
    name: 'link to a missing node',
    prompt: { '1': { class_type: 'Out', inputs: { value: ['99', 0] } } },
    node: '1',
    type: 'exception_during_validation',
    message: 'Exception when validating node',
    details: "'99'",
  },
  {
    name: 'link to a missing slot',
    prompt: { '1': { class_type: 'Out', inputs: { value: ['2', 3] } }, '2': { class_type: 'Int', inputs: { value: 5 } } },
    node: '1',
    type: 'exception_during_validation',
    message: 'Exception when validating node',
    details: 'tuple index out of range',
  },
  {
    name: 'exception inside an upstream node',
    prompt: { '1': { class_type: 'Out', inputs: { value: ['2', 0] } }, '2': { class_type: 'Pass', inputs: { value: ['99', 0] } } },
    node: '2',
    type: 'exception_during_inner_validation',
    message: 'Exception when validating inner node',
    details: "'99'",
  },
  {
    name: 'node without an inputs object',
    prompt: { '1': { class_type: 'Out' } },
    node: '1',
    type: 'exception_during_validation',
    message: 'Exception when validating node',
    details: "Node 1 (Out) has no 'inputs' object",
  },
  {
    name: 'INT that does not parse',
    prompt: { '1': { class_type: 'Out', inputs: { value: '3.5' } } },
    node: '1',
    type: 'invalid_input_type',
    message: 'Failed to convert an input value to a INT value',
    details: "value, 3.5, invalid literal for int() with base 10: '3.5'",
    extraInfo: { input_name: 'value', input_config: ['INT', {}], received_value: '3.5', exception_message: "invalid literal for int() with base 10: '3.5'" },
  },
  {
    name: 'INT from null',
    prompt: { '1': { class_type: 'Out', inputs: { value: null } } },
    node: '1',
    type: 'invalid_input_type',
    message: 'Failed to convert an input value to a INT value',
    details: "value, None, int() argument must be a string, a bytes-like object or a real number, not 'NoneType'",
  },
  {
    name: 'FLOAT that does not parse',
    prompt: { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Float', inputs: { value: 'abc' } } },
    node: '2',
    type: 'invalid_input_type',
    message: 'Failed to convert an input value to a FLOAT value',
    details: "value, abc, could not convert string to float: 'abc'",
  },
  {
    name: 'value below min',
    prompt: { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Int', inputs: { value: 3 } } },
    node: '2',
    type: 'value_smaller_than_min',
    message: 'Value 3 smaller than min of 4',
    details: 'value',
    extraInfo: { input_name: 'value', input_config: ['INT', { min: 4, max: 8 }], received_value: 3 },
  },
  {
    name: 'value above max',
    prompt: { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Int', inputs: { value: 9 } } },
    node: '2',
    type: 'value_bigger_than_max',
    message: 'Value 9 bigger than max of 8',
    details: 'value',
  },
  {
    name: 'float bounds print as floats',
    prompt: { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Float', inputs: { value: 3 } } },
    node: '2',
    type: 'value_bigger_than_max',
    message: 'Value 3.0 bigger than max of 2.0',
    details: 'value',
  },
  {
    name: 'legacy combo value not in list',
    prompt: { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Pick', inputs: { choice: 'z' } } },
    node: '2',
    type: 'value_not_in_list',
    message: 'Value not in list',
    details: "choice: 'z' not in ['a', 'b']",
    extraInfo: { input_name: 'choice', input_config: [['a', 'b'], {}], received_value: 'z' },
  },
  {
    name: 'combo with more than 20 choices',
    prompt: { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Pick', inputs: { choice: 'a', model: 'nope.ckpt' } } },
    node: '2',
    type: 'value_not_in_list',
    message: 'Value not in list',
    details: "model: 'nope.ckpt' not in (list of length 25)",
    extraInfo: { input_name: 'model', input_config: null, received_value: 'nope.ckpt' },
  },
  {
    name: 'COMBO with options',
    prompt: { '1': { class_type: 'OutCombo', inputs: { c: 'q' } } },
    node: '1',
    type: 'value_not_in_list',
    message: 'Value not in list',
    details: "c: 'q' not in ['a', 'b']",
  },
  {
    name: 'multiselect combo checks each element',
    prompt: { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Pick', inputs: { choice: 'a', many: { __value__: ['p', 'z', 'w'] } } } },
    node: '2',
    type: 'value_not_in_list',
    message: 'Value not in list',
    details: "many: 'z', 'w' not in ['p', 'q', 'r']",
  },
  {
    name: 'custom validator rejects (one error per input it takes)',
    prompt: { '1': { class_type: 'Checked', inputs: { a: 2, b: 3 } } },
    node: '1',
    type: 'custom_validation_failed',
    message: 'Custom validation failed for node',
    details: 'a - a must be 1, got 2',
    extraInfo: { input_name: 'a' },
  },
  {
    name: 'dependency cycle',
    prompt: { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Pass', inputs: { value: ['3', 0] } }, '3': { class_type: 'Pass', inputs: { value: ['2', 0] } } },
    node: '2',
    type: 'dependency_cycle',
    message: 'Dependency cycle detected',
    details: '2 (Pass) -> 3 (Pass) -> 2 (Pass)',
    extraInfo: { node_id: '2', cycle_nodes: ['2', '3'] },
  },
];

describe('validatePrompt: node errors', () => {
  it.each(nodeErrorCases)('$name', async ({ prompt, node, type, message, details, extraInfo }) => {
    const result = await validate(prompt);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.type).toBe('prompt_outputs_failed_validation');
    expect(result.error.message).toBe('Prompt outputs failed validation');
    const entry = result.nodeErrors[node];
    expect(entry, JSON.stringify(result.nodeErrors)).toBeDefined();
    expect(entry!.class_type).toBe((prompt[node] as { class_type: string }).class_type);
    expect(entry!.dependent_outputs).toEqual(['1']);
    const error = entry!.errors.find((e) => e.type === type);
    expect(error, JSON.stringify(entry!.errors)).toBeDefined();
    expect(error!.message).toBe(message);
    expect(error!.details).toBe(details);
    if (extraInfo) expect(error!.extra_info).toMatchObject(extraInfo);
  });

  it('the custom validator gets one error per input and replaces the min check for them', async () => {
    const result = await validate({ '1': { class_type: 'Checked', inputs: { a: 2, b: 3 } } });
    expect(!result.ok && result.nodeErrors['1']!.errors.map((e) => e.details)).toEqual(['a - a must be 1, got 2', 'b - a must be 1, got 2']);
    expect(await validate({ '1': { class_type: 'Checked', inputs: { a: 1, b: 3 } } })).toMatchObject({ ok: true });
  });

  it('a validator taking input_types skips the type check and sees the link type', async () => {
    const prompt = { '1': { class_type: 'Typed', inputs: { value: ['2', 0] } }, '2': { class_type: 'Int', inputs: { value: 5 } } };
    expect(await validate(prompt)).toMatchObject({ ok: true, outputs: ['1'] });
    const wrong = { '1': { class_type: 'Typed', inputs: { value: ['2', 0] } }, '2': { class_type: 'Text', inputs: { text: 'x' } } };
    const result = await validate(wrong);
    expect(!result.ok && result.nodeErrors['1']!.errors[0]).toMatchObject({ type: 'custom_validation_failed', details: 'input_types', extra_info: { input_name: 'input_types' } });
  });

  it('details of prompt_outputs_failed_validation join the outputs’ own errors', async () => {
    const result = await validate({ '1': { class_type: 'Out', inputs: { value: 'x', extra: 5 } } });
    expect(!result.ok && result.error.details).toBe(
      "Failed to convert an input value to a INT value: value, x, invalid literal for int() with base 10: 'x'",
    );
    const two = await validate({ '1': { class_type: 'Checked', inputs: { a: 2, b: 3 } } });
    expect(!two.ok && two.error.details).toBe('Custom validation failed for node: a - a must be 1, got 2\nCustom validation failed for node: b - a must be 1, got 2');
  });

  it('a node failing only because of its source carries no errors of its own', async () => {
    const result = await validate({ '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Int', inputs: { value: 100 } } });
    expect(!result.ok && Object.keys(result.nodeErrors)).toEqual(['2']);
    expect(!result.ok && result.error.details).toBe('');
  });

  it('partial success: valid outputs run, invalid ones are reported', async () => {
    const prompt = {
      '1': { class_type: 'Out', inputs: { value: 5 } },
      '2': { class_type: 'OutAny', inputs: { value: ['3', 0] } },
      '3': { class_type: 'Int', inputs: { value: 1 } },
    };
    const result = await validate(prompt);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.outputs).toEqual(['1']);
    expect(result.nodeErrors).toEqual({
      '3': {
        errors: [{ type: 'value_smaller_than_min', message: 'Value 1 smaller than min of 4', details: 'value', extra_info: { input_name: 'value', input_config: ['INT', { min: 4, max: 8 }], received_value: 1 } }],
        dependent_outputs: ['2'],
        class_type: 'Int',
      },
    });
  });

  it('nodes not reachable from an output are not validated', async () => {
    const prompt = { '1': { class_type: 'Out', inputs: { value: 5 } }, '2': { class_type: 'Int', inputs: { value: 'garbage' } } };
    expect(await validate(prompt)).toEqual({ ok: true, outputs: ['1'], nodeErrors: {} });
  });

  it('remote combos are not checked', async () => {
    const prompt = { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: 'Pick', inputs: { choice: 'a', remote: 'anything' } } };
    expect(await validate(prompt)).toMatchObject({ ok: true });
  });
});

interface CoercionCase {
  node: string;
  input: string;
  value: unknown;
  expected: unknown;
}

const coercions: CoercionCase[] = [
  { node: 'Int', input: 'value', value: 5.9, expected: 5 },
  { node: 'Int', input: 'value', value: '6', expected: 6 },
  { node: 'Int', input: 'value', value: ' 7 ', expected: 7 },
  { node: 'Num', input: 'value', value: true, expected: 1 },
  { node: 'Num', input: 'value', value: -2.7, expected: -2 },
  { node: 'Int', input: 'value', value: -4.5 + 9, expected: 4 },
  { node: 'Float', input: 'value', value: '1.5', expected: 1.5 },
  { node: 'Float', input: 'value', value: '1e0', expected: 1 },
  { node: 'Text', input: 'text', value: 5, expected: '5' },
  { node: 'Text', input: 'text', value: true, expected: 'True' },
  { node: 'Text', input: 'text', value: null, expected: 'None' },
  { node: 'Flag', input: 'on', value: 'false', expected: true },
  { node: 'Flag', input: 'on', value: '', expected: false },
  { node: 'Flag', input: 'on', value: 0, expected: false },
  { node: 'Flag', input: 'on', value: 2, expected: true },
  { node: 'Text', input: 'text', value: { __value__: 'wrapped' }, expected: 'wrapped' },
  { node: 'Pick', input: 'choice', value: { __value__: 'b' }, expected: 'b' },
];

describe('validatePrompt: constant coercion writes back into the prompt', () => {
  it.each(coercions)('$node $input: $value → $expected', async ({ node, input, value, expected }) => {
    const prompt = { '1': { class_type: 'OutAny', inputs: { value: ['2', 0] } }, '2': { class_type: node, inputs: { [input]: value } } };
    const result = await validate(prompt);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(prompt['2'].inputs[input]).toEqual(expected);
  });

  it('types are matched per §3.3 (unions, wildcards)', async () => {
    const prompt = { '1': { class_type: 'Out', inputs: { value: 5, extra: ['2', 0] } }, '2': { class_type: 'Text', inputs: { text: 'x' } } };
    expect(await validate(prompt)).toMatchObject({ ok: true });
  });
});
