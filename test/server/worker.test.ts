/**
 * The worker loop on its own: a real queue and worker, with an executor that throws (which the
 * real one never does by contract) to show the loop survives it.
 */
import { describe, expect, it } from 'vitest';
import { createInterruptFlag } from '../../executor/index.js';
import type { ExecutionJob, ExecutionResult } from '../../executor/types.js';
import { createLogger } from '../../server/logger.js';
import { PromptQueue } from '../../server/queue/prompt-queue.js';
import { PromptWorker } from '../../server/queue/worker.js';

function job(id: string, number: number, clientId?: string): ExecutionJob {
  return { number, promptId: id, prompt: {}, extraData: clientId ? { client_id: clientId } : {}, outputsToExecute: [] };
}

describe('PromptWorker', () => {
  it('records a crash as an error, keeps going, sends executing null only to jobs with a client', async () => {
    let statusChanges = 0;
    const queue = new PromptQueue(undefined, () => statusChanges++);
    const sent: Array<[string, Record<string, unknown>, string | undefined]> = [];
    const running: Array<string | undefined> = [];
    let cleared = 0;
    const executor = {
      async execute(j: ExecutionJob): Promise<ExecutionResult> {
        if (j.promptId === 'boom') throw new Error('executor exploded');
        return { status: { status_str: 'success', completed: true, messages: [] }, outputs: {}, meta: {} };
      },
      clearCaches: () => cleared++,
    };
    const worker = new PromptWorker({
      queue,
      executor,
      interrupt: createInterruptFlag(),
      log: createLogger({ silent: true }),
      messenger: { send: (type, data, sid) => sent.push([type, data, sid]), setRunningClient: (c) => running.push(c) },
    });
    queue.put(job('second', 2));
    queue.put(job('boom', 1, 'client-a'));
    queue.setFlag('freeMemory');
    worker.start();
    while (queue.history.size < 2) await new Promise((r) => setImmediate(r));
    await worker.stop();

    expect(queue.history.entries().map(([id]) => id)).toEqual(['boom', 'second']);
    const boom = queue.history.get('boom')!;
    expect(boom.status.status_str).toBe('error');
    expect(boom.status.messages[0]![1]).toMatchObject({ exception_message: 'executor exploded', prompt_id: 'boom' });
    expect(queue.history.get('second')!.status.completed).toBe(true);
    expect(sent).toEqual([['executing', { node: null, prompt_id: 'boom' }, 'client-a']]);
    expect(running).toEqual(['client-a', undefined, undefined, undefined]);
    expect(cleared).toBe(1);
    // put ×2, start ×2, finish ×2
    expect(statusChanges).toBe(6);
    expect(queue.remaining()).toBe(0);
  });
});
