/**
 * Everything one job's run shares between the loop and the per-node steps.
 */
import type { ApiPrompt } from '../compat/api-types.js';
import type { NodeDefinition, NodeEnvironment } from '../nodes/node-api.js';
import type { CacheEntry, UiRecord } from './cache-entry.js';
import type { OutputStore } from './cache-stores.js';
import type { DynamicPrompt } from './dynamic-prompt.js';
import type { ExecutionList } from './execution-list.js';
import type { MessageRouter, ProgressRegistry } from './messages.js';
import type { SubgraphPart } from './run-node.js';
import type { InterruptFlag } from './types.js';
import type { NodeLookup } from './validate-node.js';

export interface PromptRun {
  promptId: string;
  prompt: ApiPrompt;
  /** extra_data with the sensitive keys re-attached, for hidden inputs. */
  extraData: Record<string, unknown>;
  previewMethod: string;
  dyn: DynamicPrompt;
  list: ExecutionList;
  store: OutputStore;
  nodes: NodeLookup;
  env: NodeEnvironment;
  router: MessageRouter;
  progress: ProgressRegistry;
  interrupt: InterruptFlag;
  signal: AbortSignal;
  executed: Set<string>;
  /** UI produced or replayed in this run, in order: history `outputs` and `meta`. */
  uiOutputs: Map<string, UiRecord>;
  pendingSubgraphs: Map<string, { isSubgraph: boolean; result: unknown[] }[]>;
  pendingAsync: Map<string, unknown[]>;
}

export function definitionOf(run: PromptRun, nodeId: string): NodeDefinition {
  const classType = run.dyn.getNode(nodeId).class_type;
  const def = run.nodes.get(classType);
  if (!def) throw new Error(`node ${nodeId}: unknown class_type '${String(classType)}'`);
  return def;
}

export type NodeOutcome =
  | { kind: 'success' }
  | { kind: 'pending' }
  | { kind: 'failure'; interrupted: boolean; details: FailureDetails };

export interface FailureDetails {
  node_id: string;
  exception_message?: string;
  exception_type?: string;
  traceback?: string[];
  current_inputs?: Record<string, unknown[]> | unknown[];
}

export type { CacheEntry, SubgraphPart };
