/**
 * The executor contract, run under every cache policy (ComfyUI runs its execution tests under
 * --cache-classic, --cache-lru and --cache-none the same way).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createInterruptFlag, PromptExecutor, type CachePolicyName, type ExecutionJob } from '../../executor/index.js';
import type { ApiPrompt } from '../../compat/api-types.js';
import { makeTestEnv } from '../helpers/env.js';
import { CallCounter, RecordingSink, stubRegistry } from './stub-nodes.js';

const policies: { name: string; policy: CachePolicyName; caches: boolean }[] = [
  { name: 'classic', policy: { kind: 'classic' }, caches: true },
  { name: 'lru', policy: { kind: 'lru', size: 50 }, caches: true },
  { name: 'none', policy: { kind: 'none' }, caches: false },
  { name: 'ram', policy: { kind: 'ram' }, caches: true },
];

let jobCounter = 0;
const env = makeTestEnv();

function job(prompt: ApiPrompt, outputs: string[], extra: Record<string, unknown> = { client_id: 'C' }, sensitive?: Record<string, unknown>): ExecutionJob {
  jobCounter++;
  return { number: jobCounter, promptId: `p${jobCounter}`, prompt: structuredClone(prompt), extraData: extra, sensitive, outputsToExecute: outputs };
}

const chain: ApiPrompt = {
  '1': { class_type: 'Const', inputs: { value: 5 } },
  '2': { class_type: 'Add', inputs: { a: ['1', 0], b: ['1', 0] } },
  '3': { class_type: 'Show', inputs: { value: ['2', 0] } },
};

describe.each(policies)('PromptExecutor under the $name cache', ({ policy, caches }) => {
  let calls: CallCounter;
  let sink: RecordingSink;
  let executor: PromptExecutor;
  const interrupt = createInterruptFlag();

  beforeEach(() => {
    calls = new CallCounter();
    sink = new RecordingSink();
    // An unbounded free-memory probe keeps the RAM policy from evicting during these tests.
    executor = new PromptExecutor({ nodes: stubRegistry(calls), env, cache: policy, events: sink, ramPressure: { freeMemory: () => Number.MAX_SAFE_INTEGER } });
  });

  it('sends ComfyUI’s message order for one prompt and records history', async () => {
    const j = job(chain, ['3']);
    const result = await executor.execute(j, interrupt);
    expect(sink.types()).toEqual([
      'execution_start',
      'execution_cached',
      'progress_state', 'executing', 'progress_state',
      'progress_state', 'executing', 'progress_state',
      'progress_state', 'executing', 'executed', 'progress_state',
      'execution_success',
    ]);
    expect(sink.events.every((e) => e.sid === 'C')).toBe(true);
    expect(sink.ofType('executing').map((e) => e.data)).toEqual([
      { node: '1', display_node: '1', prompt_id: j.promptId },
      { node: '2', display_node: '2', prompt_id: j.promptId },
      { node: '3', display_node: '3', prompt_id: j.promptId },
    ]);
    expect(sink.ofType('executed')[0]!.data).toEqual({ node: '3', display_node: '3', output: { values: [10] }, prompt_id: j.promptId });
    const lastState = sink.ofType('progress_state').at(-1)!.data as { nodes: Record<string, { state: string }> };
    expect(Object.values(lastState.nodes).map((n) => n.state)).toEqual(['finished', 'finished', 'finished']);
    expect(result.status.status_str).toBe('success');
    expect(result.status.completed).toBe(true);
    expect(result.status.messages.map(([t]) => t)).toEqual(['execution_start', 'execution_cached', 'execution_success']);
    expect(result.status.messages[1]![1]).toMatchObject({ nodes: [], prompt_id: j.promptId });
    expect(typeof result.status.messages[0]![1].timestamp).toBe('number');
    expect(result.outputs).toEqual({ '3': { values: [10] } });
    expect(result.meta).toEqual({ '3': { node_id: '3', display_node: '3', parent_node: null, real_node_id: '3' } });
  });

  it(caches ? 'a repeated prompt is served from the cache' : 'a repeated prompt runs again', async () => {
    await executor.execute(job(chain, ['3']), interrupt);
    sink.clear();
    const result = await executor.execute(job(chain, ['3']), interrupt);
    const cached = sink.ofType('execution_cached')[0]!.data.nodes;
    if (caches) {
      expect(cached).toEqual(['1', '2', '3']);
      expect([calls.of('Const'), calls.of('Add'), calls.of('Show')]).toEqual([1, 1, 1]);
      expect(sink.ofType('executing')).toEqual([]);
      expect(sink.ofType('executed').map((e) => e.data)).toEqual([{ node: '3', display_node: '3', output: { values: [10] }, prompt_id: result.status.messages[0]![1].prompt_id }]);
    } else {
      expect(cached).toEqual([]);
      expect([calls.of('Const'), calls.of('Add'), calls.of('Show')]).toEqual([2, 2, 2]);
    }
    expect(result.outputs).toEqual({ '3': { values: [10] } });
  });

  it('an identical sub-graph under different node ids hits the cache', async () => {
    await executor.execute(job(chain, ['3']), interrupt);
    const renamed: ApiPrompt = {
      '10': { class_type: 'Const', inputs: { value: 5 } },
      '20': { class_type: 'Add', inputs: { a: ['10', 0], b: ['10', 0] } },
      '30': { class_type: 'Show', inputs: { value: ['20', 0] } },
    };
    await executor.execute(job(renamed, ['30']), interrupt);
    expect(calls.of('Add')).toBe(caches ? 1 : 2);
  });

  it('an upstream change re-runs everything downstream only', async () => {
    const prompt: ApiPrompt = {
      ...chain,
      '4': { class_type: 'Const', inputs: { value: 7 } },
      '5': { class_type: 'Show', inputs: { value: ['4', 0] } },
    };
    await executor.execute(job(prompt, ['3', '5']), interrupt);
    const changed = structuredClone(prompt);
    changed['1']!.inputs.value = 6;
    const result = await executor.execute(job(changed, ['3', '5']), interrupt);
    expect(calls.of('Const')).toBe(caches ? 3 : 4);
    expect(calls.of('Add')).toBe(2);
    expect(calls.of('Show')).toBe(caches ? 3 : 4);
    expect(result.outputs['3']).toEqual({ values: [12] });
    expect(result.outputs['5']).toEqual({ values: [7] });
  });

  it('IS_CHANGED returning NaN re-runs the node every time', async () => {
    const prompt: ApiPrompt = { '1': { class_type: 'Volatile', inputs: { value: 1 } }, '2': { class_type: 'Show', inputs: { value: ['1', 0] } } };
    await executor.execute(job(prompt, ['2']), interrupt);
    await executor.execute(job(prompt, ['2']), interrupt);
    expect(calls.of('Volatile')).toBe(2);
    expect(calls.of('Show')).toBe(2);
  });

  it('NOT_IDEMPOTENT nodes are cached per node id', async () => {
    const prompt: ApiPrompt = { '1': { class_type: 'PerNode', inputs: { value: 1 } }, '2': { class_type: 'Show', inputs: { value: ['1', 0] } } };
    await executor.execute(job(prompt, ['2']), interrupt);
    await executor.execute(job({ '9': prompt['1']!, '2': { class_type: 'Show', inputs: { value: ['9', 0] } } }, ['2']), interrupt);
    expect(calls.of('PerNode')).toBe(2);
  });

  it('lazy inputs: only the branch the node asks for runs', async () => {
    const prompt: ApiPrompt = {
      '1': { class_type: 'Const', inputs: { value: 1 } },
      '2': { class_type: 'Fail', inputs: { value: 2 } },
      '3': { class_type: 'Switch', inputs: { pick: true, on_true: ['1', 0], on_false: ['2', 0] } },
      '4': { class_type: 'Show', inputs: { value: ['3', 0] } },
    };
    const result = await executor.execute(job(prompt, ['4']), interrupt);
    expect(result.status.status_str).toBe('success');
    expect(calls.of('Fail')).toBe(0);
    expect(calls.of('Switch.lazy')).toBe(2);
    expect(calls.of('Switch')).toBe(1);
    expect(result.outputs['4']).toEqual({ values: [1] });
    expect(sink.ofType('executing').map((e) => e.data.node)).toEqual(['3', '1', '3', '4']);
  });

  it('lists: OUTPUT_IS_LIST fans out, INPUT_IS_LIST collects, UI merges', async () => {
    const prompt: ApiPrompt = {
      '1': { class_type: 'Range', inputs: { count: 3 } },
      '2': { class_type: 'Double', inputs: { value: ['1', 0] } },
      '3': { class_type: 'Sum', inputs: { values: ['2', 0] } },
      '4': { class_type: 'Show', inputs: { value: ['3', 0] } },
      '5': { class_type: 'Show', inputs: { value: ['2', 0] } },
    };
    const result = await executor.execute(job(prompt, ['4', '5']), interrupt);
    expect(calls.of('Double')).toBe(3);
    expect(calls.of('Sum')).toBe(1);
    expect(result.outputs['2']).toEqual({ doubled: [2, 4, 6] });
    expect(result.outputs['4']).toEqual({ values: [12] });
    expect(result.outputs['5']).toEqual({ values: [2, 4, 6] });
  });

  it('expansion: the sub-graph runs under prefixed ids and feeds the parent’s result', async () => {
    const prompt: ApiPrompt = {
      '1': { class_type: 'AddViaExpansion', inputs: { a: 2, b: 3 } },
      '2': { class_type: 'Show', inputs: { value: ['1', 0] } },
    };
    const result = await executor.execute(job(prompt, ['2']), interrupt);
    expect(result.status.status_str).toBe('success');
    expect(result.outputs['2']).toEqual({ values: [5] });
    expect(result.outputs['1.0.0.shown']).toEqual({ values: [5] });
    expect(result.meta['1.0.0.shown']).toEqual({ node_id: '1.0.0.shown', display_node: '1', parent_node: '1', real_node_id: '1' });
    const executing = sink.ofType('executing').map((e) => e.data);
    expect(executing).toContainEqual({ node: '1.0.0.sum', display_node: '1', prompt_id: expect.any(String) });
    expect(calls.of('AddViaExpansion')).toBe(1);
    await executor.execute(job(prompt, ['2']), interrupt);
    expect(calls.of('AddViaExpansion')).toBe(caches ? 1 : 2);
    expect(calls.of('Add')).toBe(caches ? 1 : 2);
  });

  it('nested expansions: builder ids, display override, per-parent sub-cache when the parent re-runs', async () => {
    const prompt: ApiPrompt = {
      '7': { class_type: 'VolatileExpansion', inputs: { a: 4 } },
      '8': { class_type: 'Show', inputs: { value: ['7', 0] } },
    };
    const first = await executor.execute(job(prompt, ['8']), interrupt);
    expect(first.outputs['8']).toEqual({ values: [10] });
    expect(first.meta['7.0.0.1.0.0.shown']).toEqual({ node_id: '7.0.0.1.0.0.shown', display_node: '7', parent_node: '7.0.0.1', real_node_id: '7' });
    expect(first.meta['7.0.0.2']).toEqual({ node_id: '7.0.0.2', display_node: 'shown-as', parent_node: '7', real_node_id: '7' });
    await executor.execute(job(prompt, ['8']), interrupt);
    expect(calls.of('VolatileExpansion')).toBe(2);
    expect(calls.of('Add')).toBe(caches ? 1 : 2);
    expect(calls.of('Double')).toBe(caches ? 1 : 2);
  });

  it('blockers: a silent block skips consumers; a message is reported and the job goes on', async () => {
    const prompt: ApiPrompt = {
      '1': { class_type: 'Gate', inputs: { value: 1, message: 'closed' } },
      '2': { class_type: 'Show', inputs: { value: ['1', 0] } },
      '3': { class_type: 'Gate', inputs: { value: 1, message: '' } },
      '4': { class_type: 'Show', inputs: { value: ['3', 0] } },
      '5': { class_type: 'Const', inputs: { value: 9 } },
      '6': { class_type: 'Show', inputs: { value: ['5', 0] } },
    };
    const result = await executor.execute(job(prompt, ['2', '4', '6']), interrupt);
    expect(result.status.status_str).toBe('success');
    expect(calls.of('Show')).toBe(1);
    expect(result.outputs).toEqual({ '6': { values: [9] } });
    const errors = sink.ofType('execution_error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.data).toMatchObject({ node_id: '2', node_type: 'Show', exception_message: 'Execution Blocked: closed', exception_type: 'ExecutionBlocked', traceback: [], current_inputs: [], current_outputs: [] });
    expect(result.status.messages.map(([t]) => t)).toEqual(['execution_start', 'execution_cached', 'execution_success']);
  });

  it('hidden inputs are injected, sensitive ones from the job’s hidden slot', async () => {
    const prompt: ApiPrompt = { '1': { class_type: 'Hidden', inputs: { value: 1 } } };
    const extra = { client_id: 'C', extra_pnginfo: { workflow: { v: 1 } }, comfy_usage_source: 'api' };
    const result = await executor.execute(job(prompt, ['1'], extra, { auth_token_comfy_org: 'tok', api_key_comfy_org: 'key' }), interrupt);
    expect(result.outputs['1']).toEqual({
      seen: [{ promptNodes: ['1'], hasDynprompt: true, extra: { workflow: { v: 1 } }, uid: '1', auth: 'tok', key: 'key', source: 'api' }],
    });
  });

  it('a failing node reports execution_error; the next prompt runs normally', async () => {
    const prompt: ApiPrompt = {
      ...chain,
      '4': { class_type: 'Fail', inputs: { value: ['2', 0] } },
      '5': { class_type: 'Show', inputs: { value: ['4', 0] } },
    };
    const failed = await executor.execute(job(prompt, ['5']), interrupt);
    expect(failed.status).toMatchObject({ status_str: 'error', completed: false });
    const [type, data] = failed.status.messages.at(-1)!;
    expect(type).toBe('execution_error');
    expect(data).toMatchObject({
      node_id: '4',
      node_type: 'Fail',
      executed: ['1', '2'],
      exception_message: 'stub failure\n',
      exception_type: 'RangeError',
      current_inputs: { value: [10] },
      current_outputs: caches ? ['1', '2', '3', '4', '5'] : [],
    });
    expect(Object.keys(data).sort()).toEqual(
      ['current_inputs', 'current_outputs', 'exception_message', 'exception_type', 'executed', 'node_id', 'node_type', 'prompt_id', 'timestamp', 'traceback'].sort(),
    );
    expect((data.traceback as string[]).length).toBeGreaterThan(0);
    const healthy = await executor.execute(job(chain, ['3']), interrupt);
    expect(healthy.status.status_str).toBe('success');
    expect(calls.of('Add')).toBe(caches ? 1 : 2);
  });

  it('an interrupt between nodes stops at the next node', async () => {
    sink.onSend = (e) => {
      if (e.type === 'executed' && e.data.node === '4') interrupt.set();
    };
    // Output nodes go first once ready: 1, then 4, then 2 (interrupted), then 3.
    const prompt: ApiPrompt = { ...chain, '4': { class_type: 'Show', inputs: { value: ['1', 0] } } };
    const result = await executor.execute(job(prompt, ['3', '4']), interrupt);
    expect(result.status).toMatchObject({ status_str: 'error', completed: false });
    const [type, data] = result.status.messages.at(-1)!;
    expect(type).toBe('execution_interrupted');
    expect(data).toMatchObject({ node_id: '2', node_type: 'Add', executed: ['1', '4'] });
    expect(Object.keys(data).sort()).toEqual(['executed', 'node_id', 'node_type', 'prompt_id', 'timestamp']);
    expect(result.outputs).toEqual({ '4': { values: [5] } });
    sink.onSend = undefined;
    const next = await executor.execute(job(prompt, ['3', '4']), interrupt);
    expect(next.status.status_str).toBe('success');
    expect(calls.of('Add')).toBe(1);
    expect(calls.of('Const')).toBe(caches ? 1 : 2);
  });

  it.each(['Spin', 'AwaitAbort'])('an interrupt inside a long %s node', async (classType) => {
    sink.onSend = (e) => {
      if (e.type === 'executing' && e.data.node === '2') setTimeout(() => interrupt.set(), 10);
    };
    const prompt: ApiPrompt = {
      '1': { class_type: 'Const', inputs: { value: 1 } },
      '2': { class_type: classType, inputs: { value: ['1', 0] } },
      '3': { class_type: 'Show', inputs: { value: ['2', 0] } },
    };
    const result = await executor.execute(job(prompt, ['3']), interrupt);
    expect(result.status.messages.at(-1)).toEqual(['execution_interrupted', expect.objectContaining({ node_id: '2', node_type: classType, executed: ['1'] })]);
    expect(calls.of('Show')).toBe(0);
  });

  it('progress, previews and progress text go to the client', async () => {
    const prompt: ApiPrompt = { '1': { class_type: 'Steps', inputs: { value: 1 } }, '2': { class_type: 'Show', inputs: { value: ['1', 0] } } };
    const j = job(prompt, ['2']);
    await executor.execute(j, interrupt);
    expect(sink.ofType('progress').map((e) => e.data)).toEqual([
      { value: 1, max: 2, prompt_id: j.promptId, node: '1' },
      { value: 2, max: 2, prompt_id: j.promptId, node: '1' },
    ]);
    expect(sink.previews).toEqual([{ image: { format: 'jpeg', data: new Uint8Array([1, 2, 3]) }, meta: { node_id: '1', prompt_id: j.promptId, display_node_id: '1', parent_node_id: null, real_node_id: '1' }, sid: 'C' }]);
    expect(sink.texts).toEqual([{ nodeId: '1', text: 'halfway', sid: 'C' }]);
    const types = sink.types();
    const firstProgress = types.indexOf('progress');
    expect(types.slice(firstProgress, firstProgress + 2)).toEqual(['progress', 'progress_state']);
  });

  it('without a client id: only interrupts and progress are broadcast', async () => {
    await executor.execute(job(chain, ['3'], {}), interrupt);
    const sent = sink.events.map((e) => [e.type, e.sid]);
    expect(new Set(sent.map(([t]) => t))).toEqual(new Set(['progress_state']));
    expect(sent.every(([, sid]) => sid === undefined)).toBe(true);
    sink.clear();
    sink.onSend = (e) => {
      const states = Object.values(e.data.nodes as Record<string, { state: string }>);
      if (e.type === 'progress_state' && states.some((n) => n.state === 'finished')) interrupt.set();
    };
    const result = await executor.execute(job({ ...chain, '4': { class_type: 'Steps', inputs: { value: 1 } }, '5': { class_type: 'Show', inputs: { value: ['4', 0] } } }, ['3', '5'], {}), interrupt);
    expect(sink.ofType('execution_interrupted')).toHaveLength(1);
    expect(sink.ofType('execution_interrupted')[0]!.sid).toBeUndefined();
    expect(result.status.messages.map(([t]) => t)).toEqual(['execution_start', 'execution_cached', 'execution_interrupted']);
    sink.onSend = undefined;
  });

  it('async nodes run concurrently and the scheduler waits for them', async () => {
    // Each Meet call waits until the other has started: this only finishes if both run at once.
    const prompt: ApiPrompt = {
      '1': { class_type: 'Meet', inputs: { value: 1 } },
      '2': { class_type: 'Meet', inputs: { value: 2 } },
      '3': { class_type: 'Add', inputs: { a: ['1', 0], b: ['2', 0] } },
      '4': { class_type: 'Show', inputs: { value: ['3', 0] } },
    };
    const result = await executor.execute(job(prompt, ['4']), interrupt);
    expect(result.status.status_str).toBe('success');
    expect(result.outputs['4']).toEqual({ values: [3] });
    const order = sink.ofType('executing').map((e) => e.data.node);
    expect([...order.slice(0, 2)].sort()).toEqual(['1', '2']);
    expect(order.slice(2)).toEqual(['3', '4']);
  });

  it('clearCaches forgets everything', async () => {
    await executor.execute(job(chain, ['3']), interrupt);
    executor.clearCaches();
    await executor.execute(job(chain, ['3']), interrupt);
    expect(calls.of('Add')).toBe(2);
  });
});
