/**
 * The executor's contract with whoever drives it (the server's worker loop, tests).
 * The executor never imports the server: it reports through `ExecutionEventSink`.
 */
import type { ApiPrompt, ErrorItem, HistoryStatus, NodeErrors, NodeMeta, UiOutput } from '../compat/api-types.js';
import type { PreviewImage } from '../nodes/node-api.js';

/**
 * Where execution events go. `sid` undefined = broadcast to every socket. The executor applies
 * ComfyUI's routing rules (spec §2.4) itself, e.g. it does not send `executing` when the job has
 * no client id, and sends `progress` with `sid` undefined (broadcast) in that case.
 */
export interface ExecutionEventSink {
  send(type: string, data: Record<string, unknown>, sid?: string): void;
  /** A preview frame; the server picks binary type 4 or 1 per socket flags (spec §2.5). */
  sendPreview(image: PreviewImage, meta: PreviewMeta, sid?: string): void;
  /** Progress text, binary type 3. */
  sendProgressText(nodeId: string, text: string, sid?: string): void;
}

export interface PreviewMeta {
  node_id: string;
  prompt_id: string;
  display_node_id: string;
  parent_node_id: string | null;
  real_node_id: string;
}

/** Cache policy (spec §3.10): `--cache-classic`, `--cache-lru N`, `--cache-none`, default `ram`. */
export type CachePolicyName = { kind: 'classic' } | { kind: 'lru'; size: number } | { kind: 'none' } | { kind: 'ram' };

export type ValidationResult =
  | { ok: true; outputs: string[]; nodeErrors: NodeErrors }
  | { ok: false; error: ErrorItem; nodeErrors: NodeErrors };

/** One queued job as the worker hands it to the executor. */
export interface ExecutionJob {
  number: number;
  promptId: string;
  prompt: ApiPrompt;
  /** Stored extra_data (sensitive keys already removed). */
  extraData: Record<string, unknown>;
  /** Sensitive extra_data keys kept apart (`auth_token_comfy_org`, `api_key_comfy_org`). */
  sensitive?: Record<string, unknown>;
  outputsToExecute: string[];
}

/** What a finished run leaves for history (spec §1.3). */
export interface ExecutionResult {
  status: HistoryStatus;
  outputs: Record<string, UiOutput>;
  meta: Record<string, NodeMeta>;
}

/** A settable flag shared by `/interrupt` and the running prompt. */
export interface InterruptFlag {
  readonly isSet: boolean;
  set(): void;
  reset(): void;
}
