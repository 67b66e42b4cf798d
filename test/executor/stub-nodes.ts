/**
 * Stub nodes for the executor tests, each counting its calls, plus a recording event sink.
 * Behaviour is real (the executor runs them like any node); only the work is trivial.
 */
import { NodeRegistry } from '../../nodes/registry.js';
import { defineNode, ExecutionBlocker, type NodeDefinition, type PreviewImage } from '../../nodes/node-api.js';
import type { ExecutionEventSink, PreviewMeta } from '../../executor/index.js';

export class CallCounter {
  private readonly counts = new Map<string, number>();
  hit(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  reset(): void {
    this.counts.clear();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `parties` calls have arrived: only concurrent async calls can all get through. */
function rendezvous(parties: number) {
  let arrived = 0;
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return async (): Promise<void> => {
    if (++arrived === parties) open();
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the other async call never started')), 10_000);
    });
    try {
      await Promise.race([opened, giveUp]);
    } finally {
      clearTimeout(timer);
    }
  };
}

export function stubNodes(calls: CallCounter): NodeDefinition[] {
  const meet = rendezvous(2);
  return [
    defineNode({
      name: 'Meet',
      category: 'test',
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      execute: async ({ value }) => {
        calls.hit('Meet');
        await meet();
        return [value];
      },
    }),
    defineNode({
      name: 'Const',
      category: 'test',
      inputTypes: { required: { value: ['INT', { default: 0, min: -1000, max: 1000 }] } },
      returnTypes: ['INT'],
      execute: ({ value }) => {
        calls.hit('Const');
        return [value];
      },
    }),
    defineNode({
      name: 'Add',
      category: 'test',
      inputTypes: { required: { a: ['INT'], b: ['INT'] } },
      returnTypes: ['INT'],
      execute: ({ a, b }) => {
        calls.hit('Add');
        return [a + b];
      },
    }),
    defineNode({
      name: 'Show',
      category: 'test',
      outputNode: true,
      inputTypes: { required: { value: ['*'] } },
      returnTypes: [],
      execute: ({ value }) => {
        calls.hit('Show');
        return { ui: { values: [value] } };
      },
    }),
    defineNode({
      name: 'Silent',
      category: 'test',
      outputNode: true,
      inputTypes: { required: { value: ['*'] } },
      returnTypes: [],
      execute: () => {
        calls.hit('Silent');
        return [];
      },
    }),
    defineNode({
      name: 'Volatile',
      category: 'test',
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      isChanged: () => Number.NaN,
      execute: ({ value }) => {
        calls.hit('Volatile');
        return [value];
      },
    }),
    defineNode({
      name: 'Switch',
      category: 'test',
      inputTypes: { required: { pick: ['BOOLEAN'], on_true: ['INT', { lazy: true }], on_false: ['INT', { lazy: true }] } },
      returnTypes: ['INT'],
      checkLazyStatus: ({ pick }) => {
        calls.hit('Switch.lazy');
        return [pick ? 'on_true' : 'on_false'];
      },
      execute: ({ pick, on_true, on_false }) => {
        calls.hit('Switch');
        return [pick ? on_true : on_false];
      },
    }),
    defineNode({
      name: 'Range',
      category: 'test',
      inputTypes: { required: { count: ['INT'] } },
      returnTypes: ['INT'],
      outputIsList: [true],
      execute: ({ count }) => {
        calls.hit('Range');
        return [Array.from({ length: count }, (_, i) => i + 1)];
      },
    }),
    defineNode({
      name: 'Double',
      category: 'test',
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      execute: ({ value }) => {
        calls.hit('Double');
        return { result: [value * 2], ui: { doubled: [value * 2] } };
      },
    }),
    defineNode({
      name: 'Sum',
      category: 'test',
      inputIsList: true,
      inputTypes: { required: { values: ['INT'] } },
      returnTypes: ['INT'],
      execute: ({ values }) => {
        calls.hit('Sum');
        return [(values as number[]).reduce((a, b) => a + b, 0)];
      },
    }),
    defineNode({
      name: 'AddViaExpansion',
      category: 'test',
      inputTypes: { required: { a: ['INT'], b: ['INT'] } },
      returnTypes: ['INT'],
      execute: ({ a, b }) => {
        calls.hit('AddViaExpansion');
        return {
          expand: {
            x: { class_type: 'Const', inputs: { value: a } },
            y: { class_type: 'Const', inputs: { value: b } },
            sum: { class_type: 'Add', inputs: { a: ['x', 0], b: ['y', 0] } },
            shown: { class_type: 'Show', inputs: { value: ['sum', 0] } },
          },
          result: [['sum', 0]],
        };
      },
    }),
    defineNode({
      name: 'VolatileExpansion',
      category: 'test',
      inputTypes: { required: { a: ['INT'] } },
      returnTypes: ['INT'],
      isChanged: () => Number.NaN,
      execute: ({ a }, ctx) => {
        calls.hit('VolatileExpansion');
        const p = `${ctx.nodeId}.0.0.`;
        // Ids built the way ComfyUI's GraphBuilder does; the executor leaves them as they are.
        return {
          expand: {
            [`${p}1`]: { class_type: 'AddViaExpansion', inputs: { a, b: 1 } },
            [`${p}2`]: { class_type: 'Double', inputs: { value: [`${p}1`, 0] }, override_display_id: 'shown-as' },
          },
          result: [[`${p}2`, 0]],
        };
      },
    }),
    defineNode({
      name: 'FlakyFingerprint',
      category: 'test',
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      isChanged: () => {
        throw new Error('cannot fingerprint');
      },
      execute: ({ value }) => {
        calls.hit('FlakyFingerprint');
        return [value];
      },
    }),
    defineNode({
      name: 'Gate',
      category: 'test',
      inputTypes: { required: { value: ['INT'], message: ['STRING'] } },
      returnTypes: ['INT'],
      execute: ({ message }) => {
        calls.hit('Gate');
        return [new ExecutionBlocker(message === '' ? null : message)];
      },
    }),
    defineNode({
      name: 'Hidden',
      category: 'test',
      outputNode: true,
      inputTypes: {
        required: { value: ['INT'] },
        hidden: {
          prompt: 'PROMPT',
          dynprompt: 'DYNPROMPT',
          extra: 'EXTRA_PNGINFO',
          uid: 'UNIQUE_ID',
          auth: 'AUTH_TOKEN_COMFY_ORG',
          key: 'API_KEY_COMFY_ORG',
          source: 'COMFY_USAGE_SOURCE',
        },
      },
      returnTypes: [],
      execute: (inputs) => {
        calls.hit('Hidden');
        const prompt = inputs.prompt as Record<string, unknown>;
        return {
          ui: {
            seen: [
              {
                promptNodes: Object.keys(prompt),
                hasDynprompt: inputs.dynprompt !== null && typeof inputs.dynprompt === 'object',
                extra: inputs.extra,
                uid: inputs.uid,
                auth: inputs.auth,
                key: inputs.key,
                source: inputs.source,
              },
            ],
          },
        };
      },
    }),
    defineNode({
      name: 'Fail',
      category: 'test',
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      execute: () => {
        calls.hit('Fail');
        throw new RangeError('stub failure');
      },
    }),
    defineNode({
      name: 'Spin',
      category: 'test',
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      execute: async ({ value }, ctx) => {
        calls.hit('Spin');
        for (let step = 0; ; step++) {
          ctx.checkInterrupt();
          await sleep(2);
          if (step > 5000) return [value];
        }
      },
    }),
    defineNode({
      name: 'AwaitAbort',
      category: 'test',
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      execute: async (_inputs, ctx) => {
        calls.hit('AwaitAbort');
        await new Promise((_resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('signal never aborted')), 20_000);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(ctx.signal.reason);
          });
        });
        return [0];
      },
    }),
    defineNode({
      name: 'Steps',
      category: 'test',
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      execute: ({ value }, ctx) => {
        calls.hit('Steps');
        const preview: PreviewImage = { format: 'jpeg', data: new Uint8Array([1, 2, 3]) };
        ctx.progress(1, 2, preview);
        ctx.progressText('halfway');
        ctx.progress(2, 2);
        return [value];
      },
    }),
    defineNode({
      name: 'Slow',
      category: 'test',
      inputTypes: { required: { value: ['INT'], ms: ['INT'] } },
      returnTypes: ['INT'],
      execute: async ({ value, ms }) => {
        calls.hit('Slow');
        await sleep(ms);
        return [value];
      },
    }),
    defineNode({
      name: 'PerNode',
      category: 'test',
      notIdempotent: true,
      inputTypes: { required: { value: ['INT'] } },
      returnTypes: ['INT'],
      execute: ({ value }) => {
        calls.hit('PerNode');
        return [value];
      },
    }),
  ];
}

export function stubRegistry(calls: CallCounter): NodeRegistry {
  const registry = new NodeRegistry();
  registry.registerAll(stubNodes(calls));
  return registry;
}

export interface SentEvent {
  type: string;
  data: Record<string, unknown>;
  sid: string | undefined;
}

/** Records every event; `onSend` lets a test react (e.g. interrupt when a node starts). */
export class RecordingSink implements ExecutionEventSink {
  readonly events: SentEvent[] = [];
  readonly previews: { image: PreviewImage; meta: PreviewMeta; sid: string | undefined }[] = [];
  readonly texts: { nodeId: string; text: string; sid: string | undefined }[] = [];
  onSend: ((event: SentEvent) => void) | undefined;
  onText: ((text: string) => void) | undefined;

  send(type: string, data: Record<string, unknown>, sid?: string): void {
    const event = { type, data, sid };
    this.events.push(event);
    this.onSend?.(event);
  }
  sendPreview(image: PreviewImage, meta: PreviewMeta, sid?: string): void {
    this.previews.push({ image, meta, sid });
  }
  sendProgressText(nodeId: string, text: string, sid?: string): void {
    this.texts.push({ nodeId, text, sid });
    this.onText?.(text);
  }
  types(): string[] {
    return this.events.map((e) => e.type);
  }
  ofType(type: string): SentEvent[] {
    return this.events.filter((e) => e.type === type);
  }
  clear(): void {
    this.events.length = 0;
    this.previews.length = 0;
    this.texts.length = 0;
  }
}
