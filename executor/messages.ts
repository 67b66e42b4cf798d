/**
 * Message routing for one job (spec §2.4), with C = the job's client id:
 * lifecycle messages are recorded for history and go to C (not sent without C, except
 * `execution_interrupted`, which is then broadcast); `executing`/`executed` go to C only;
 * progress, progress_state, previews and progress text go to C or, without C, to everyone
 * (`sid` undefined = broadcast).
 */
import type { StatusMessage } from '../compat/api-types.js';
import type { Logger, PreviewImage } from '../nodes/node-api.js';
import type { DynamicPrompt } from './dynamic-prompt.js';
import type { ExecutionEventSink, PreviewMeta } from './types.js';

export class MessageRouter {
  readonly statusMessages: StatusMessage[] = [];

  constructor(
    private readonly events: ExecutionEventSink,
    readonly clientId: string | undefined,
    private readonly log: Logger,
  ) {}

  /** A history-recorded message; timestamped like ComfyUI (`{...data, timestamp}`). */
  lifecycle(type: string, data: Record<string, unknown>, broadcastWithoutClient = false): void {
    const stamped = { ...data, timestamp: Date.now() };
    this.statusMessages.push([type, stamped]);
    if (this.clientId !== undefined || broadcastWithoutClient) this.safely(() => this.events.send(type, stamped, this.clientId));
  }

  /** `executing`, `executed` and the ExecutionBlocked error: dropped without a client. */
  toClient(type: string, data: Record<string, unknown>): void {
    if (this.clientId === undefined) return;
    this.safely(() => this.events.send(type, data, this.clientId));
  }

  /** `progress`, `progress_state`: to the client, or broadcast without one. */
  addressed(type: string, data: Record<string, unknown>): void {
    this.safely(() => this.events.send(type, data, this.clientId));
  }

  preview(image: PreviewImage, meta: PreviewMeta): void {
    this.safely(() => this.events.sendPreview(image, meta, this.clientId));
  }

  progressText(nodeId: string, text: string): void {
    this.safely(() => this.events.sendProgressText(nodeId, text, this.clientId));
  }

  /** A broken socket layer must not break the run. */
  private safely(send: () => void): void {
    try {
      send();
    } catch (err) {
      this.log.warn(`executor: sending a message failed: ${(err as Error).message}`);
    }
  }
}

type NodeState = 'pending' | 'running' | 'finished' | 'error';

interface NodeProgress {
  state: NodeState;
  value: number;
  max: number;
}

/**
 * Per-node progress of one job; every change re-sends `progress_state` for all non-pending nodes.
 * The payload is kept up to date one entry at a time and copied per message, so a message costs
 * a native copy rather than rebuilding every entry (a 5,000-node run sends 10,000 of them).
 */
export class ProgressRegistry {
  private readonly nodes = new Map<string, NodeProgress>();
  private readonly payload: Record<string, unknown> = {};

  constructor(
    private readonly router: MessageRouter,
    private readonly dyn: DynamicPrompt,
    private readonly promptId: string,
  ) {}

  start(nodeId: string): void {
    this.set(nodeId, { state: 'running', value: 0, max: 1 });
  }

  update(nodeId: string, value: number, max: number): void {
    this.set(nodeId, { state: 'running', value, max });
  }

  finish(nodeId: string): void {
    const entry = this.nodes.get(nodeId) ?? { state: 'pending', value: 0, max: 1 };
    this.set(nodeId, { state: 'finished', value: entry.max, max: entry.max });
  }

  previewMeta(nodeId: string): PreviewMeta {
    return {
      node_id: nodeId,
      prompt_id: this.promptId,
      display_node_id: this.dyn.displayNodeId(nodeId),
      parent_node_id: this.dyn.parentNodeId(nodeId),
      real_node_id: this.dyn.realNodeId(nodeId),
    };
  }

  private set(nodeId: string, p: NodeProgress): void {
    this.nodes.set(nodeId, p);
    const { node_id, prompt_id, display_node_id, parent_node_id, real_node_id } = this.previewMeta(nodeId);
    const entry = { value: p.value, max: p.max, state: p.state, node_id, prompt_id, display_node_id, parent_node_id, real_node_id };
    // defineProperty: a node id "__proto__" must become an own key, not the object's prototype.
    Object.defineProperty(this.payload, nodeId, { value: entry, enumerable: true, writable: true, configurable: true });
    // Spread copies own keys as data properties, "__proto__" included.
    this.router.addressed('progress_state', { prompt_id: this.promptId, nodes: { ...this.payload } });
  }
}
