/**
 * Live execution feedback from WebSocket messages (spec §2.3): the executing node is outlined,
 * per-node progress bars and the top progress strip move, previews and results appear on nodes
 * and in the gallery, and runtime errors mark their node.
 */
import { viewUrl, type ImageRef, type PreviewFrame, type SocketMessage } from './api.js';
import type { ComfyApp } from './app.js';
import { showMessage } from './messages.js';
import { ComfyNode, runState } from './node-types.js';

/** Types of every message received, oldest first (tests and debugging read it). */
export const receivedMessageTypes: string[] = [];

function progressElements() {
  return {
    bar: document.getElementById('progress') as HTMLElement,
    fill: document.getElementById('progress-fill') as HTMLElement,
    text: document.getElementById('progress-text') as HTMLElement,
  };
}

function showProgress(label: string, fraction: number | null): void {
  const { bar, fill, text } = progressElements();
  bar.hidden = false;
  text.textContent = label;
  fill.style.width = fraction === null ? '0' : `${Math.round(fraction * 100)}%`;
}

function hideProgress(): void {
  progressElements().bar.hidden = true;
}

export function addToGallery(images: ImageRef[]): void {
  const gallery = document.getElementById('gallery');
  for (const image of images) {
    const img = document.createElement('img');
    img.src = viewUrl(image);
    img.alt = image.filename;
    img.dataset['filename'] = image.filename;
    img.title = image.filename;
    img.addEventListener('click', () => window.open(img.src, '_blank'));
    gallery?.prepend(img);
  }
}

function nodeTitle(app: ComfyApp, id: string): string {
  return app.findNode(id)?.title ?? `#${id}`;
}

function onExecuting(app: ComfyApp, data: Record<string, unknown>): void {
  const id = (data['display_node'] ?? data['node']) as string | null;
  runState.executingNodeId = id;
  if (id === null) {
    for (const node of app.graph._nodes) node.progress = undefined;
    hideProgress();
  } else {
    showProgress(`Running ${nodeTitle(app, id)}`, null);
  }
  app.canvas.setDirty(true, true);
}

function onProgress(app: ComfyApp, data: Record<string, unknown>): void {
  const [value, max] = [Number(data['value']), Number(data['max'])];
  const id = String(data['node'] ?? runState.executingNodeId ?? '');
  const node = app.findNode(id);
  if (node) node.progress = max > 0 ? value / max : undefined;
  showProgress(`${nodeTitle(app, id)}: ${value}/${max}`, max > 0 ? value / max : null);
  app.canvas.setDirty(true, false);
}

function onExecuted(app: ComfyApp, data: Record<string, unknown>): void {
  const output = data['output'] as { images?: ImageRef[] } | null;
  const images = output?.images ?? [];
  if (!images.length) return;
  const node = app.findNode(String(data['display_node'] ?? data['node']));
  if (node instanceof ComfyNode) node.showImages(images.map(viewUrl));
  addToGallery(images);
}

function onExecutionError(app: ComfyApp, data: Record<string, unknown>): void {
  const id = String(data['node_id']);
  const node = app.findNode(id);
  const message = `${String(data['exception_type'] ?? 'Error')}: ${String(data['exception_message'] ?? '')}`;
  if (node instanceof ComfyNode) {
    node.has_errors = true;
    node.errorText = message;
  }
  showMessage(`Error in ${nodeTitle(app, id)} (${String(data['node_type'] ?? '')}):\n${message}`, 'error');
  app.canvas.setDirty(true, true);
}

export function handleSocketMessage(app: ComfyApp, msg: SocketMessage): void {
  receivedMessageTypes.push(msg.type);
  const { data } = msg;
  switch (msg.type) {
    case 'status': {
      const remaining = (data['status'] as { exec_info?: { queue_remaining?: number } } | undefined)?.exec_info?.queue_remaining ?? 0;
      (document.getElementById('queue-size') as HTMLElement).textContent = `Queue: ${remaining}`;
      app.onQueueChanged();
      break;
    }
    case 'execution_start':
      runState.promptId = String(data['prompt_id']);
      break;
    case 'executing':
      onExecuting(app, data);
      break;
    case 'progress':
      onProgress(app, data);
      break;
    case 'executed':
      onExecuted(app, data);
      break;
    case 'execution_error':
      onExecutionError(app, data);
      app.onQueueChanged();
      break;
    case 'execution_interrupted':
      showMessage('Execution interrupted.');
      app.onQueueChanged();
      break;
    case 'execution_success':
      app.onQueueChanged();
      break;
  }
}

const previewUrls = new Map<string, string>();

export function handlePreview(app: ComfyApp, frame: PreviewFrame): void {
  receivedMessageTypes.push('preview');
  const id = frame.nodeId ?? runState.executingNodeId;
  const node = app.findNode(id);
  if (!id || !(node instanceof ComfyNode)) return;
  const old = previewUrls.get(id);
  if (old) URL.revokeObjectURL(old);
  const url = URL.createObjectURL(frame.blob);
  previewUrls.set(id, url);
  node.showImages([url]);
}
