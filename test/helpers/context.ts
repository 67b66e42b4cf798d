/**
 * A real ExecutionContext for calling a node's `execute` directly in tests: progress calls are
 * recorded, and `interrupt()` makes the next `checkInterrupt()` throw as the executor's would.
 *
 *   const ctx = makeTestContext(env);
 *   const [image] = await SomeNode.execute({ ... }, ctx);
 */
import { InterruptedError, type ExecutionContext, type NodeEnvironment } from '../../nodes/node-api.js';

export interface TestContext extends ExecutionContext {
  readonly progressCalls: { value: number; max: number }[];
  readonly progressTexts: string[];
  interrupt(): void;
}

export function makeTestContext(env: NodeEnvironment, nodeId = '1', promptId = 'test-prompt'): TestContext {
  const controller = new AbortController();
  const progressCalls: { value: number; max: number }[] = [];
  const progressTexts: string[] = [];
  return {
    nodeId,
    promptId,
    env,
    signal: controller.signal,
    previewMethod: env.previewMethod,
    progressCalls,
    progressTexts,
    checkInterrupt() {
      if (controller.signal.aborted) throw new InterruptedError();
    },
    progress(value, max) {
      progressCalls.push({ value, max });
    },
    progressText(text) {
      progressTexts.push(text);
    },
    interrupt() {
      controller.abort();
    },
  };
}
