/**
 * Graphs far deeper or longer than ComfyUI handles: validation and execution walk them with
 * their own stacks (no recursion limit), and a long dependency cycle gets a bounded report.
 */
import { describe, expect, it } from 'vitest';
import type { ApiPrompt } from '../../compat/api-types.js';
import { createInterruptFlag, PromptExecutor, validatePrompt, type CachePolicyName, type ExecutionEventSink } from '../../executor/index.js';
import { CYCLE_REPORT_MAX_NODES } from '../../executor/cycle-report.js';
import { makeTestEnv } from '../helpers/env.js';
import { CallCounter, stubRegistry } from './stub-nodes.js';

const env = makeTestEnv();
const CHAIN_LENGTH = 5_000;
const RING_LENGTH = 2_000;

/**
 * Const → Double × length → Show: single-input, single-output links like ImageInvert's. Node
 * ids are numbers from `firstId` (ComfyUI's kind; other ids only make the run slower: each
 * progress_state message repeats every started node, as ComfyUI's does).
 */
function chain(length: number, firstId = 0, start = 0): ApiPrompt {
  const id = (i: number) => String(firstId + i);
  const prompt: ApiPrompt = { [id(0)]: { class_type: 'Const', inputs: { value: start } } };
  for (let i = 1; i <= length; i++) prompt[id(i)] = { class_type: 'Double', inputs: { value: [id(i - 1), 0] } };
  prompt.out = { class_type: 'Show', inputs: { value: [id(length), 0] } };
  return prompt;
}

/** `length` Double nodes each reading the previous one, the first reading the last. */
function ring(length: number): ApiPrompt {
  const prompt: ApiPrompt = {};
  for (let i = 1; i <= length; i++) prompt[String(i)] = { class_type: 'Double', inputs: { value: [String(i === 1 ? length : i - 1), 0] } };
  prompt.out = { class_type: 'Show', inputs: { value: [String(length), 0] } };
  return prompt;
}

/** The 400 body the server would send for a failed validation. */
async function replyFor(prompt: ApiPrompt): Promise<{ body: string; nodeErrors: Record<string, { errors: { type: string; details: string; extra_info: Record<string, unknown> }[] }> }> {
  const result = await validatePrompt(prompt, stubRegistry(new CallCounter()), env);
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('validation passed');
  return { body: JSON.stringify({ error: result.error, node_errors: result.nodeErrors }), nodeErrors: result.nodeErrors };
}

describe('validation of deep graphs', () => {
  it(`a ${CHAIN_LENGTH}-node linear chain validates`, async () => {
    const result = await validatePrompt(chain(CHAIN_LENGTH), stubRegistry(new CallCounter()), env);
    expect(result).toEqual({ ok: true, outputs: ['out'], nodeErrors: {} });
  });

  it('a bad constant at the bottom of a deep chain is reported on that node only', async () => {
    const prompt = chain(CHAIN_LENGTH);
    prompt['0']!.inputs.value = 5000;
    const { nodeErrors } = await replyFor(prompt);
    expect(Object.keys(nodeErrors)).toEqual(['0']);
    expect(nodeErrors['0']!.errors.map((e) => e.type)).toEqual(['value_bigger_than_max']);
  });

  it('a broken link at the bottom of a deep chain is an inner exception on its node', async () => {
    const prompt = chain(CHAIN_LENGTH);
    prompt['1']!.inputs.value = ['missing', 0];
    const { nodeErrors } = await replyFor(prompt);
    expect(Object.keys(nodeErrors)).toEqual(['1']);
    expect(nodeErrors['1']!.errors[0]).toMatchObject({ type: 'exception_during_inner_validation', details: "'missing'", extra_info: { input_name: 'value', linked_node: ['1', 0] } });
  });

  it('a self-loop is a one-node cycle', async () => {
    const { nodeErrors } = await replyFor({ '1': { class_type: 'Double', inputs: { value: ['1', 0] } }, out: { class_type: 'Show', inputs: { value: ['1', 0] } } });
    expect(nodeErrors['1']!.errors).toEqual([
      { type: 'dependency_cycle', message: 'Dependency cycle detected', details: '1 (Double) -> 1 (Double)', extra_info: { node_id: '1', cycle_nodes: ['1'] } },
    ]);
  });
});

describe('dependency cycle reports', () => {
  it(`a ${CYCLE_REPORT_MAX_NODES}-node cycle is reported in full, as ComfyUI does`, async () => {
    const n = CYCLE_REPORT_MAX_NODES;
    const { nodeErrors } = await replyFor(ring(n));
    const path = [n, ...Array.from({ length: n }, (_, i) => n - 1 - i).map((i) => (i === 0 ? n : i))];
    const pathIds = Array.from({ length: n }, (_, i) => String(n - i));
    expect(Object.keys(nodeErrors).sort()).toEqual(pathIds.slice().sort());
    for (const id of pathIds) {
      expect(nodeErrors[id]!.errors).toEqual([
        {
          type: 'dependency_cycle',
          message: 'Dependency cycle detected',
          details: path.map((i) => `${i} (Double)`).join(' -> '),
          extra_info: { node_id: id, cycle_nodes: pathIds },
        },
      ]);
    }
  });

  it(`a ${RING_LENGTH}-node ring gets an abridged error on every node and a reply linear in the ring`, async () => {
    const prompt = ring(RING_LENGTH);
    const { body, nodeErrors } = await replyFor(prompt);
    expect(Object.keys(nodeErrors)).toHaveLength(RING_LENGTH);
    const error = nodeErrors['1']!.errors[0]!;
    expect(error.type).toBe('dependency_cycle');
    // The walk enters at 2000 and goes down: 2000 -> 1999 -> ... -> 1 -> 2000.
    expect(error.details).toBe(
      `${Array.from({ length: 8 }, (_, i) => `${RING_LENGTH - i} (Double)`).join(' -> ')} -> ... (${RING_LENGTH - 8} more nodes) -> ${RING_LENGTH} (Double)`,
    );
    expect(error.extra_info.cycle_nodes).toHaveLength(CYCLE_REPORT_MAX_NODES);
    expect(error.extra_info).toMatchObject({ node_id: '1', cycle_length: RING_LENGTH });
    // Unbounded, the reply held every path in every error: ~2,000 × 2,000 node names (~100 MB).
    expect(body.length).toBeLessThan(RING_LENGTH * 600);
    expect(body.length).toBeLessThan(JSON.stringify({ prompt }).length * 10);
  });
});

/** Counts events without keeping them: a 5,000-node run sends 10,000 progress_state messages. */
class CountingSink implements ExecutionEventSink {
  readonly counts = new Map<string, number>();
  lastExecuted: Record<string, unknown> | undefined;
  cached: unknown[] = [];
  send(type: string, data: Record<string, unknown>): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    if (type === 'executed') this.lastExecuted = data;
    if (type === 'execution_cached') this.cached = data.nodes as unknown[];
  }
  sendPreview(): void {}
  sendProgressText(): void {}
}

function chainExecutor(policy: CachePolicyName) {
  const calls = new CallCounter();
  const sink = new CountingSink();
  const executor = new PromptExecutor({ nodes: stubRegistry(calls), env, cache: policy, events: sink, ramPressure: { freeMemory: () => Number.MAX_SAFE_INTEGER } });
  const run = (prompt: ApiPrompt, id: string) =>
    executor.execute({ number: 1, promptId: id, prompt, extraData: { client_id: 'C' }, outputsToExecute: ['out'] }, createInterruptFlag());
  return { calls, sink, run };
}

describe(`execution of a ${CHAIN_LENGTH}-node chain`, () => {
  it('runs every node once, then serves the chain from the cache under other ids', { timeout: 300_000 }, async () => {
    const { calls, sink, run } = chainExecutor({ kind: 'classic' });
    const first = await run(chain(CHAIN_LENGTH, 0, 3), 'p1');
    expect(first.status.status_str).toBe('success');
    expect(calls.of('Double')).toBe(CHAIN_LENGTH);
    expect(sink.counts.get('executed')).toBe(CHAIN_LENGTH + 1);
    expect(sink.lastExecuted).toMatchObject({ node: 'out', output: { values: [3 * 2 ** CHAIN_LENGTH] } });

    const renamed = await run(chain(CHAIN_LENGTH, 10_000, 3), 'p2');
    expect(renamed.status.status_str).toBe('success');
    expect(sink.cached).toHaveLength(CHAIN_LENGTH + 2);
    expect(calls.of('Double')).toBe(CHAIN_LENGTH);
  });
});

const policies: { name: string; policy: CachePolicyName }[] = [
  { name: 'classic', policy: { kind: 'classic' } },
  { name: 'lru', policy: { kind: 'lru', size: 10 } },
  { name: 'ram', policy: { kind: 'ram' } },
];

describe.each(policies)('chain cache keys under the $name cache', ({ policy }) => {
  it('a renamed chain hits; a changed constant at its bottom misses all the way up', async () => {
    const length = 40;
    const { calls, sink, run } = chainExecutor(policy);
    await run(chain(length, 0, 3), 'p1');
    await run(chain(length, 10_000, 3), 'p2');
    // LRU keeps only 10 results, but the output's is among them, so nothing upstream is needed.
    if (policy.kind !== 'lru') expect(sink.cached).toHaveLength(length + 2);
    expect(calls.of('Double')).toBe(length);
    await run(chain(length, 10_000, 4), 'p3');
    expect(sink.cached).toEqual([]);
    expect(calls.of('Double')).toBe(2 * length);
  });
});
