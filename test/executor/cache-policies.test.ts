/**
 * What each cache policy keeps across prompts, and the executor's robustness edges.
 */
import { describe, expect, it } from 'vitest';
import { createInterruptFlag, PromptExecutor, type CachePolicyName, type ExecutionJob } from '../../executor/index.js';
import type { ApiPrompt } from '../../compat/api-types.js';
import type { RamPressureOptions } from '../../executor/cache-ram.js';
import { defineNode } from '../../nodes/node-api.js';
import { makeTestEnv } from '../helpers/env.js';
import { CallCounter, RecordingSink, stubRegistry } from './stub-nodes.js';

let counter = 0;
const env = makeTestEnv();
const job = (prompt: ApiPrompt, outputs: string[], extra: Record<string, unknown> = { client_id: 'C' }): ExecutionJob => ({
  number: ++counter,
  promptId: `q${counter}`,
  prompt: structuredClone(prompt),
  extraData: extra,
  outputsToExecute: outputs,
});

const promptA: ApiPrompt = {
  '1': { class_type: 'Const', inputs: { value: 1 } },
  '2': { class_type: 'Show', inputs: { value: ['1', 0] } },
};
const promptB: ApiPrompt = {
  '1': { class_type: 'Const', inputs: { value: 2 } },
  '2': { class_type: 'Show', inputs: { value: ['1', 0] } },
};

function setup(cache: CachePolicyName, ramPressure?: RamPressureOptions) {
  const calls = new CallCounter();
  const sink = new RecordingSink();
  const executor = new PromptExecutor({ nodes: stubRegistry(calls), env, cache, events: sink, ramPressure });
  return { calls, sink, executor, interrupt: createInterruptFlag() };
}

describe('what survives a different prompt in between (A, B, A)', () => {
  it.each([
    { name: 'classic', cache: { kind: 'classic' } as CachePolicyName, runsOfA: 2 },
    { name: 'lru 50', cache: { kind: 'lru', size: 50 } as CachePolicyName, runsOfA: 1 },
    { name: 'lru 1', cache: { kind: 'lru', size: 1 } as CachePolicyName, runsOfA: 2 },
    { name: 'none', cache: { kind: 'none' } as CachePolicyName, runsOfA: 2 },
    { name: 'ram (plenty free)', cache: { kind: 'ram' } as CachePolicyName, runsOfA: 1, ram: { freeMemory: () => Number.MAX_SAFE_INTEGER } },
    { name: 'ram (memory short)', cache: { kind: 'ram' } as CachePolicyName, runsOfA: 2, ram: { freeMemory: () => 0, headroomBytes: 1024 } },
  ])('$name: A runs $runsOfA time(s)', async ({ cache, runsOfA, ram }) => {
    const { calls, executor, interrupt } = setup(cache, ram);
    for (const prompt of [promptA, promptB, promptA]) {
      const result = await executor.execute(job(prompt, ['2']), interrupt);
      expect(result.status.status_str).toBe('success');
    }
    expect(calls.of('Const')).toBe(runsOfA + 1);
  });

  it('ram under pressure evicts older prompts first, then the current one', async () => {
    let free = Number.MAX_SAFE_INTEGER;
    const { calls, executor, interrupt } = setup({ kind: 'ram' }, { freeMemory: () => free, headroomBytes: 100 * 1024 });
    await executor.execute(job(promptA, ['2']), interrupt);
    // Short by one small entry: only A's entries (older generation) go.
    free = 100 * 1024 - 1;
    await executor.execute(job(promptB, ['2']), interrupt);
    free = Number.MAX_SAFE_INTEGER;
    await executor.execute(job(promptB, ['2']), interrupt);
    expect(calls.of('Const')).toBe(2);
    await executor.execute(job(promptA, ['2']), interrupt);
    expect(calls.of('Const')).toBe(3);
  });
});

describe('executor edges', () => {
  it('a cached output node without UI replays executed with output null', async () => {
    const { sink, executor, interrupt } = setup({ kind: 'classic' });
    const prompt: ApiPrompt = { '1': { class_type: 'Const', inputs: { value: 1 } }, '2': { class_type: 'Silent', inputs: { value: ['1', 0] } } };
    await executor.execute(job(prompt, ['2']), interrupt);
    expect(sink.ofType('executed')).toEqual([]);
    const second = await executor.execute(job(prompt, ['2']), interrupt);
    expect(sink.ofType('executed').map((e) => e.data.output)).toEqual([null]);
    expect(second.outputs).toEqual({});
  });

  it('a dependency cycle found at run time is an execution_error', async () => {
    const { executor, interrupt } = setup({ kind: 'classic' });
    const prompt: ApiPrompt = {
      '1': { class_type: 'Add', inputs: { a: ['2', 0], b: 1 } },
      '2': { class_type: 'Add', inputs: { a: ['1', 0], b: 1 } },
      '3': { class_type: 'Show', inputs: { value: ['1', 0] } },
    };
    const result = await executor.execute(job(prompt, ['3']), interrupt);
    const [type, data] = result.status.messages.at(-1)!;
    expect(type).toBe('execution_error');
    expect(data).toMatchObject({ exception_type: 'graph.DependencyCycleError', exception_message: 'Dependency cycle detected', traceback: [] });
    // As in ComfyUI, nodes downstream of the cycle stay in the blamed set; the first pending one is named.
    expect(data.node_id).toBe('3');
  });

  it('never rejects: an unknown output id becomes an error status', async () => {
    const { executor, interrupt } = setup({ kind: 'lru', size: 5 });
    const result = await executor.execute(job(promptA, ['42']), interrupt);
    expect(result.status).toMatchObject({ status_str: 'error', completed: false });
    expect(result.status.messages.at(-1)![0]).toBe('execution_error');
  });

  it('an error inside an expansion names the real (parent) node', async () => {
    const calls = new CallCounter();
    const registry = stubRegistry(calls);
    registry.register(
      defineNode({
        name: 'ExpandToFail',
        category: 'test',
        inputTypes: { required: {} },
        returnTypes: ['INT'],
        execute: () => ({ expand: { f: { class_type: 'Fail', inputs: { value: 1 } } }, result: [['f', 0]] }),
      }),
    );
    const executor = new PromptExecutor({ nodes: registry, env, cache: { kind: 'classic' }, events: new RecordingSink() });
    const prompt: ApiPrompt = { '5': { class_type: 'ExpandToFail', inputs: {} }, '6': { class_type: 'Show', inputs: { value: ['5', 0] } } };
    const result = await executor.execute(job(prompt, ['6']), createInterruptFlag());
    expect(result.status.messages.at(-1)).toEqual(['execution_error', expect.objectContaining({ node_id: '5', node_type: 'ExpandToFail', exception_type: 'RangeError' })]);
  });

  it('intermediate-output nodes replay their cached UI when they did not run', async () => {
    const calls = new CallCounter();
    const registry = stubRegistry(calls);
    registry.register(
      defineNode({
        name: 'Peek',
        category: 'test',
        hasIntermediateOutput: true,
        inputTypes: { required: { value: ['INT'] } },
        returnTypes: ['INT'],
        execute: ({ value }) => ({ result: [value], ui: { peek: [value] } }),
      }),
    );
    const sink = new RecordingSink();
    const executor = new PromptExecutor({ nodes: registry, env, cache: { kind: 'classic' }, events: sink });
    const prompt: ApiPrompt = { '1': { class_type: 'Peek', inputs: { value: 3 } }, '2': { class_type: 'Show', inputs: { value: ['1', 0] } } };
    await executor.execute(job(prompt, ['2']), createInterruptFlag());
    sink.clear();
    const second = await executor.execute(job(prompt, ['2']), createInterruptFlag());
    expect(sink.ofType('executed').map((e) => e.data.node)).toEqual(['2', '1']);
    expect(second.outputs).toEqual({ '2': { values: [3] }, '1': { peek: [3] } });
  });

  it('an interrupt flag that cannot notify is polled, so ctx.signal still aborts', async () => {
    const flag = { isSet: false, set() { this.isSet = true; }, reset() { this.isSet = false; } };
    const { sink, executor } = setup({ kind: 'classic' });
    sink.onSend = (e) => {
      if (e.type === 'executing' && e.data.node === '2') setTimeout(() => flag.set(), 5);
    };
    const prompt: ApiPrompt = { '1': { class_type: 'Const', inputs: { value: 1 } }, '2': { class_type: 'AwaitAbort', inputs: { value: ['1', 0] } }, '3': { class_type: 'Show', inputs: { value: ['2', 0] } } };
    const result = await executor.execute(job(prompt, ['3']), flag);
    expect(result.status.messages.at(-1)![0]).toBe('execution_interrupted');
  });

  it('IS_CHANGED that throws counts as NaN: the node always re-runs', async () => {
    const { calls, executor, interrupt } = setup({ kind: 'classic' });
    const prompt: ApiPrompt = { '1': { class_type: 'FlakyFingerprint', inputs: { value: 1 } }, '2': { class_type: 'Show', inputs: { value: ['1', 0] } } };
    await executor.execute(job(prompt, ['2']), interrupt);
    await executor.execute(job(prompt, ['2']), interrupt);
    expect(calls.of('FlakyFingerprint')).toBe(2);
  });

  it('ctx.progress() raises once the flag is set', async () => {
    const { sink, executor, interrupt } = setup({ kind: 'classic' });
    sink.onText = () => interrupt.set();
    const prompt: ApiPrompt = { '1': { class_type: 'Steps', inputs: { value: 1 } }, '2': { class_type: 'Show', inputs: { value: ['1', 0] } } };
    const result = await executor.execute(job(prompt, ['2']), interrupt);
    expect(sink.ofType('progress').map((e) => e.data.value)).toEqual([1]);
    expect(result.status.messages.at(-1)).toEqual(['execution_interrupted', expect.objectContaining({ node_id: '1', node_type: 'Steps', executed: [] })]);
  });

  it('a broken event sink does not break the run', async () => {
    const calls = new CallCounter();
    const executor = new PromptExecutor({
      nodes: stubRegistry(calls),
      env,
      cache: { kind: 'classic' },
      events: {
        send() {
          throw new Error('socket gone');
        },
        sendPreview() {},
        sendProgressText() {},
      },
    });
    const result = await executor.execute(job(promptA, ['2']), createInterruptFlag());
    expect(result.status.status_str).toBe('success');
  });
});
