/**
 * The editor: one litegraph graph and canvas, node types from `/object_info`, loading and
 * serializing UI workflows (schema 0.4), and queueing prompts with validation feedback.
 */
import { createBounds, LGraph, LGraphCanvas, LiteGraph, type LGraphNode } from '@comfyorg/litegraph';
import { ApiError, ComfySocket, getJson, postJson, type NodeError, type ObjectInfo, type QueueResponse } from './api.js';
import { graphToPrompt, missingNodeTypes } from './graph-to-prompt.js';
import { clearMessages, showMessage } from './messages.js';
import { ComfyNode, registerNodeTypes } from './node-types.js';
import { registerVirtualNodes } from './virtual-nodes.js';
import { applyControlWidgets } from './widgets.js';
import defaultWorkflow from '../default-workflow.json';

export type WorkflowJson = { nodes: unknown[]; links?: unknown[]; extra?: { ds?: { scale: number; offset: [number, number] } } } & Record<string, unknown>;

const LOCAL_WORKFLOW_KEY = 'comfy8.workflow';

export function isUiWorkflow(data: unknown): data is WorkflowJson {
  return typeof data === 'object' && data !== null && Array.isArray((data as { nodes?: unknown }).nodes);
}

export class ComfyApp {
  readonly graph = new LGraph();
  readonly canvas: LGraphCanvas;
  objectInfo: ObjectInfo = {};
  settings: Record<string, unknown> = {};
  workflowName: string | null = null;
  readonly socket: ComfySocket;
  /** Hooks the UI panels fill in. */
  onQueueChanged: () => void = () => {};
  onWorkflowNameChanged: (name: string | null) => void = () => {};

  constructor(canvasEl: HTMLCanvasElement, socket: (app: ComfyApp) => ComfySocket) {
    this.canvas = new LGraphCanvas(canvasEl, this.graph);
    // litegraph outlines the canvas's initial area at the graph origin; ComfyUI turns that off too.
    this.canvas.render_canvas_border = false;
    this.socket = socket(this);
  }

  async boot(): Promise<void> {
    const [info, settings] = await Promise.all([getJson<ObjectInfo>('/object_info'), getJson<Record<string, unknown>>('/settings').catch(() => ({}))]);
    this.objectInfo = info;
    this.settings = settings ?? {};
    registerVirtualNodes();
    registerNodeTypes(info);
    this.socket.connect();
    const saved = localStorage.getItem(LOCAL_WORKFLOW_KEY);
    const restored = saved ? this.tryRestore(saved, localStorage.getItem(`${LOCAL_WORKFLOW_KEY}.name`) || null) : false;
    if (!restored) this.loadDefault();
    setInterval(() => this.persistLocally(), 2000);
    window.addEventListener('beforeunload', () => this.persistLocally());
  }

  loadDefault(): void {
    this.loadWorkflow(structuredClone(defaultWorkflow) as unknown as WorkflowJson, null);
    this.pointCombosAtAvailableFiles();
  }

  /**
   * The default workflow names ComfyUI's own model files (e.g. sd3.5_large_fp8_scaled); where this
   * server lacks one, pick the first file it has — on a fresh install, the demo checkpoint — so
   * the first Queue runs instead of failing validation.
   */
  private pointCombosAtAvailableFiles(): void {
    for (const node of this.graph._nodes) {
      for (const widget of node.widgets ?? []) {
        const values = (widget.options as { values?: unknown } | undefined)?.values;
        if (widget.type !== 'combo' || !Array.isArray(values) || values.length === 0) continue;
        if (typeof widget.value === 'string' && /\.(safetensors|sft|ckpt|pt|pth|bin)$/.test(widget.value) && !values.includes(widget.value)) {
          widget.value = values[0] as string;
        }
      }
    }
  }

  /** Reopens the workflow kept in localStorage; false (and the default opens) if it is unusable. */
  private tryRestore(text: string, name: string | null): boolean {
    try {
      const data = JSON.parse(text) as unknown;
      if (!isUiWorkflow(data)) return false;
      this.loadWorkflow(data, name);
      return true;
    } catch (err) {
      console.warn('comfy8: could not restore the last workflow:', err);
      return false;
    }
  }

  /** Loads a UI workflow; node types the server lacks stay as marked placeholders. */
  loadWorkflow(data: WorkflowJson, name: string | null): void {
    clearMessages('error');
    this.graph.clear();
    this.graph.configure(data as never);
    this.restoreView(data);
    this.markMissingNodes(data);
    this.setWorkflowName(name);
    this.canvas.setDirty(true, true);
  }

  /** The view saved with the workflow, else one that fits every node. */
  private restoreView(data: WorkflowJson): void {
    const ds = data.extra?.ds;
    if (ds && Array.isArray(ds.offset)) {
      this.canvas.ds.scale = ds.scale;
      this.canvas.ds.offset = [ds.offset[0], ds.offset[1]];
      return;
    }
    // boundingRect is only refreshed while drawing; refresh it for nodes that were never drawn.
    const ctx = this.canvas.canvas.getContext('2d');
    if (ctx) for (const node of this.graph._nodes) node.updateArea(ctx);
    const bounds = createBounds(this.graph._nodes, 40);
    if (!bounds) return this.canvas.ds.reset();
    const [x, y, w, h] = bounds;
    const { width, height } = this.canvas.canvas;
    // Small graphs stay at 100% rather than being blown up to fill the view.
    const scale = Math.max(0.1, Math.min(1, (0.9 * width) / w, (0.9 * height) / h));
    this.canvas.ds.scale = scale;
    this.canvas.ds.offset = [width / (2 * scale) - (x + w / 2), height / (2 * scale) - (y + h / 2)];
  }

  private markMissingNodes(data: WorkflowJson): void {
    const missing = missingNodeTypes(this.graph);
    if (!missing.length) return;
    const titles = new Map((data.nodes as { id: number; title?: string }[]).map((n) => [n.id, n.title]));
    for (const node of this.graph._nodes) {
      if (!node.has_errors || !(node as { last_serialization?: unknown }).last_serialization) continue;
      node.title = `${titles.get(node.id as number) ?? node.type} (missing)`;
      node.color = '#702020';
    }
    showMessage(`This workflow uses node types the server doesn't have: ${missing.join(', ')}. They are shown in red; install them to run it.`, 'error');
  }

  setWorkflowName(name: string | null): void {
    this.workflowName = name;
    this.onWorkflowNameChanged(name);
  }

  /**
   * The workflow as ComfyUI saves it (schema 0.4). `extra.frontendVersion` is not set: ComfyUI's
   * frontend reads it as its own semver, which this editor has none of.
   */
  serializeWorkflow(): WorkflowJson {
    return JSON.parse(JSON.stringify(this.graph.serialize())) as WorkflowJson;
  }

  persistLocally(): void {
    try {
      localStorage.setItem(LOCAL_WORKFLOW_KEY, JSON.stringify(this.serializeWorkflow()));
      localStorage.setItem(`${LOCAL_WORKFLOW_KEY}.name`, this.workflowName ?? '');
    } catch {
      // Storage full or disabled: the workflow just isn't restored next time.
    }
  }

  findNode(id: string | number | null | undefined): LGraphNode | null {
    if (id == null) return null;
    return this.graph.getNodeById(Number(id)) ?? this.graph.getNodeById(String(id));
  }

  clearNodeErrors(): void {
    for (const node of this.graph._nodes) {
      if (node instanceof ComfyNode) {
        node.has_errors = false;
        node.errorText = null;
      }
    }
    clearMessages('error');
    this.canvas.setDirty(true, true);
  }

  /** Marks each node named in `node_errors` and lists the problems. */
  showNodeErrors(nodeErrors: Record<string, NodeError>): void {
    const lines: string[] = [];
    for (const [id, entry] of Object.entries(nodeErrors)) {
      const node = this.findNode(id);
      const text = entry.errors.map((e) => (e.details ? `${e.message}: ${e.details}` : e.message)).join('; ');
      lines.push(`#${id} ${node?.title ?? entry.class_type ?? ''}: ${text}`);
      if (node instanceof ComfyNode) {
        node.has_errors = true;
        node.errorText = text;
      }
    }
    if (lines.length) showMessage(`Prompt validation failed:\n${lines.join('\n')}`, 'error');
    this.canvas.setDirty(true, true);
  }

  async queuePrompt(front: boolean): Promise<QueueResponse | null> {
    this.clearNodeErrors();
    const missing = missingNodeTypes(this.graph);
    if (missing.length) {
      showMessage(`Can't queue: the server has no node type ${missing.join(', ')}.`, 'error');
      return null;
    }
    const workflow = this.serializeWorkflow();
    const extra_data: Record<string, unknown> = { extra_pnginfo: { workflow } };
    const previewMethod = this.settings['Comfy8.PreviewMethod'];
    if (typeof previewMethod === 'string' && previewMethod !== 'default') extra_data['preview_method'] = previewMethod;
    const body = { client_id: this.socket.clientId, prompt: graphToPrompt(this.graph), extra_data, ...(front ? { front: true } : {}) };
    try {
      const res = await postJson<QueueResponse>('/prompt', body);
      if (res.node_errors && Object.keys(res.node_errors).length) this.showNodeErrors(res.node_errors);
      applyControlWidgets(this.graph._nodes);
      this.onQueueChanged();
      return res;
    } catch (err) {
      this.reportQueueError(err);
      return null;
    }
  }

  private reportQueueError(err: unknown): void {
    const body = err instanceof ApiError ? (err.body as QueueResponse | null) : null;
    if (body?.node_errors && Object.keys(body.node_errors).length) {
      this.showNodeErrors(body.node_errors);
      return;
    }
    const error = body?.error;
    const text = typeof error === 'string' ? error : error ? `${error.message ?? error.type}${error.details ? `: ${error.details}` : ''}` : String(err);
    showMessage(`Queueing failed: ${text}`, 'error');
  }

  applySettings(): void {
    const mode = this.settings['Comfy.LinkRenderMode'];
    this.canvas.links_render_mode = typeof mode === 'number' ? mode : LiteGraph.SPLINE_LINK;
    this.canvas.show_info = this.settings['Comfy.Graph.CanvasInfo'] !== false;
    this.canvas.low_quality_zoom_threshold = 0.45;
    this.canvas.setDirty(true, true);
  }
}
