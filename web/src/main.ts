/** Boots the editor and wires the toolbar, panels, keyboard shortcuts and socket. */
import '@comfyorg/litegraph/style.css';
import './style.css';
import { LGraphEventMode, LGraphNode } from '@comfyorg/litegraph';
import { ComfySocket, postJson } from './api.js';
import { ComfyApp } from './app.js';
import { graphToPrompt } from './graph-to-prompt.js';
import { handlePreview, handleSocketMessage, receivedMessageTypes } from './execution.js';
import { JobsPanel } from './jobs-panel.js';
import { installLibrary } from './library.js';
import { showMessage } from './messages.js';
import { showSettings } from './settings-dialog.js';
import { exportWorkflow, installDropHandler, loadWorkflowFile, saveWorkflow, showWorkflowBrowser } from './workflow-files.js';

function on(id: string, handler: () => unknown): void {
  document.getElementById(id)?.addEventListener('click', () => {
    Promise.resolve(handler()).catch((err: unknown) => showMessage(err instanceof Error ? err.message : String(err), 'error'));
  });
}

function fitCanvas(app: ComfyApp): void {
  const wrap = document.getElementById('canvas-wrap') as HTMLElement;
  app.canvas.resize(wrap.clientWidth, wrap.clientHeight);
}

function wireToolbar(app: ComfyApp): void {
  on('btn-queue', () => app.queuePrompt(false));
  on('btn-queue-front', () => app.queuePrompt(true));
  on('btn-interrupt', () => postJson('/interrupt', {}));
  on('btn-new', () => app.loadWorkflow({ nodes: [], links: [] }, null));
  on('btn-open', () => showWorkflowBrowser(app));
  on('btn-save', () => saveWorkflow(app, false));
  on('btn-save-as', () => saveWorkflow(app, true));
  on('btn-export', () => exportWorkflow(app));
  on('btn-import', () => (document.getElementById('file-import') as HTMLInputElement).click());
  on('btn-default', () => app.loadDefault());
  on('btn-settings', () => showSettings(app));
  const fileInput = document.getElementById('file-import') as HTMLInputElement;
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) loadWorkflowFile(app, file).catch((err: unknown) => showMessage(String(err instanceof Error ? err.message : err), 'error'));
    fileInput.value = '';
  });
  document.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || (e.target as HTMLElement | null)?.closest('input, textarea, select')) return;
    if (e.key === 'Enter') void app.queuePrompt(e.shiftKey);
    else if (e.key === 'b' || e.key === 'm') {
      e.preventDefault();
      toggleSelectedMode(app, e.key === 'b' ? LGraphEventMode.BYPASS : LGraphEventMode.NEVER);
    }
  });
}

/** Ctrl+B bypasses and Ctrl+M mutes the selected nodes (again: back to normal), as in ComfyUI. */
function toggleSelectedMode(app: ComfyApp, mode: LGraphEventMode): void {
  for (const item of app.canvas.selectedItems) {
    if (!(item instanceof LGraphNode)) continue;
    item.mode = item.mode === mode ? LGraphEventMode.ALWAYS : mode;
  }
  app.canvas.setDirty(true, true);
}

function wireTabs(): void {
  for (const tab of document.querySelectorAll<HTMLButtonElement>('#tabs button')) {
    tab.addEventListener('click', () => {
      for (const el of document.querySelectorAll('#tabs button, .tab')) el.classList.remove('active');
      tab.classList.add('active');
      document.getElementById(`tab-${tab.dataset['tab']}`)?.classList.add('active');
    });
  }
}

function setConnected(online: boolean): void {
  const el = document.getElementById('connection') as HTMLElement;
  el.className = online ? 'online' : 'offline';
  el.textContent = online ? 'online' : 'offline';
}

async function boot(): Promise<void> {
  const canvasEl = document.getElementById('graph-canvas') as HTMLCanvasElement;
  let jobs: JobsPanel | null = null;
  const app = new ComfyApp(canvasEl, (a) => new ComfySocket({
    onMessage: (msg) => handleSocketMessage(a, msg),
    onPreview: (frame) => handlePreview(a, frame),
    onOpen: () => setConnected(true),
    onClose: () => setConnected(false),
  }));
  app.onQueueChanged = () => jobs?.scheduleRefresh();
  app.onWorkflowNameChanged = (name) => {
    (document.getElementById('workflow-name') as HTMLElement).textContent = name ?? 'Unsaved Workflow';
  };
  // For tests, benchmarks and the devtools console (ComfyUI's frontend exposes window.app alike).
  (window as unknown as { comfy8: unknown }).comfy8 = { app, graph: app.graph, canvas: app.canvas, receivedMessageTypes, graphToPrompt: () => graphToPrompt(app.graph) };
  fitCanvas(app);
  window.addEventListener('resize', () => fitCanvas(app));
  await app.boot();
  app.applySettings();
  jobs = new JobsPanel(app);
  void jobs.refresh();
  installLibrary(app);
  wireToolbar(app);
  wireTabs();
  installDropHandler(app);
  document.body.dataset['ready'] = 'true';
}

boot().catch((err: unknown) => {
  console.error('comfy8: the editor failed to start:', err);
  showMessage(`The editor failed to start: ${err instanceof Error ? err.message : String(err)}`, 'error');
});
