/**
 * Conversion errors in ComfyUI's shapes (`{type, message, details, extra_info}`, spec §3.2), each
 * naming the node it is about.
 */
import type { ErrorItem, NodeErrors } from '../api-types.js';
import type { UiNode } from './types.js';

export class WorkflowConvertError extends Error {
  constructor(
    readonly item: ErrorItem,
    readonly nodeErrors: NodeErrors = {},
  ) {
    super(`${item.message}: ${item.details}`);
    this.name = 'WorkflowConvertError';
  }
}

export function nodeLabel(node: Pick<UiNode, 'id' | 'type' | 'title'>): string {
  return node.title ? `'${node.title}' (#${node.id})` : `#${node.id} (${node.type})`;
}

/** As ComfyUI's `missing_node_type` for an unknown class. */
export function missingNodeType(id: string, node: UiNode, known: readonly string[]): WorkflowConvertError {
  const title = node.title ?? node.type;
  const hint = known.length ? ` Known types include: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}.` : '';
  return new WorkflowConvertError({
    type: 'missing_node_type',
    message: `Node '${title}' not found. The custom node may not be installed.`,
    details: `Node ID '#${id}': type '${node.type}' has no definition in object_info.${hint}`,
    extra_info: { node_id: id, class_type: node.type, node_title: title },
  });
}

export function brokenLink(id: string, node: UiNode, inputName: string, why: string): WorkflowConvertError {
  return new WorkflowConvertError(
    {
      type: 'invalid_workflow_link',
      message: 'Broken link in workflow',
      details: `Node ${nodeLabel(node)} input '${inputName}': ${why}`,
      extra_info: { node_id: id, class_type: node.type, node_title: node.title ?? node.type, input_name: inputName },
    },
    {
      [id]: {
        errors: [{ type: 'invalid_workflow_link', message: 'Broken link in workflow', details: `${inputName}: ${why}`, extra_info: { input_name: inputName } }],
        dependent_outputs: [],
        class_type: node.type,
      },
    },
  );
}

export function invalidWorkflow(details: string, extra: Record<string, unknown> = {}): WorkflowConvertError {
  return new WorkflowConvertError({ type: 'invalid_workflow', message: 'Invalid workflow', details, extra_info: extra });
}

export function invalidNode(id: string, node: UiNode, why: string): WorkflowConvertError {
  return new WorkflowConvertError({
    type: 'invalid_workflow_node',
    message: 'Invalid node in workflow',
    details: `Node ${nodeLabel(node)}: ${why}`,
    extra_info: { node_id: id, class_type: node.type, node_title: node.title ?? node.type },
  });
}
