/**
 * Workflows in and out: save/open/delete through `/userdata/workflows/…`, export as a JSON
 * download, import from a file, and drag-and-drop of JSON files or PNGs carrying a `workflow`
 * text chunk.
 */
import { ApiError, getJson, userdataUrl } from './api.js';
import { isUiWorkflow, type ComfyApp } from './app.js';
import { button, openDialog, showMessage } from './messages.js';
import { NotAPngError, readPngTextChunks } from './png-metadata.js';

interface UserdataFile {
  path: string;
  modified?: number;
}

function workflowPath(name: string): string {
  return `workflows/${name.endsWith('.json') ? name : `${name}.json`}`;
}

export async function saveWorkflow(app: ComfyApp, askName: boolean): Promise<void> {
  let name = app.workflowName;
  if (askName || !name) {
    name = window.prompt('Save workflow as:', name ?? 'Unsaved Workflow')?.trim() ?? null;
    if (!name) return;
  }
  const res = await fetch(`${userdataUrl(workflowPath(name))}?overwrite=true&full_info=false`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(app.serializeWorkflow(), null, 2),
  });
  if (!res.ok) throw new ApiError(res.status, await res.text(), `saving workflow '${name}' failed with ${res.status}`);
  app.setWorkflowName(name.replace(/\.json$/, ''));
  showMessage(`Saved workflow '${app.workflowName}'.`);
}

export async function openWorkflow(app: ComfyApp, name: string): Promise<void> {
  const res = await fetch(userdataUrl(workflowPath(name)), { cache: 'no-store' });
  if (!res.ok) throw new ApiError(res.status, null, `workflow '${name}' could not be read (${res.status})`);
  const data = (await res.json()) as unknown;
  if (!isUiWorkflow(data)) throw new Error(`workflow '${name}' is not a UI workflow (it has no "nodes" list)`);
  app.loadWorkflow(data, name.replace(/\.json$/, ''));
}

async function listWorkflows(): Promise<UserdataFile[]> {
  try {
    return await getJson<UserdataFile[]>('/userdata?dir=workflows&recurse=true&split=false&full_info=true');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return [];
    throw err;
  }
}

export async function showWorkflowBrowser(app: ComfyApp): Promise<void> {
  const files = (await listWorkflows()).filter((f) => f.path.endsWith('.json'));
  const list = document.createElement('ul');
  list.id = 'workflow-list';
  for (const file of files) {
    const li = document.createElement('li');
    const label = document.createElement('span');
    label.textContent = file.path.replace(/\.json$/, '');
    const dialog = document.getElementById('dialog') as HTMLDialogElement;
    li.append(
      label,
      button('Open', () => void openWorkflow(app, file.path).then(() => dialog.close(), (err) => showMessage(String(err), 'error'))),
      button('Delete', () => void deleteWorkflow(file.path).then(() => showWorkflowBrowser(app), (err) => showMessage(String(err), 'error'))),
    );
    list.append(li);
  }
  if (!files.length) list.textContent = 'No saved workflows yet.';
  openDialog('Saved workflows', list);
}

async function deleteWorkflow(path: string): Promise<void> {
  const res = await fetch(userdataUrl(workflowPath(path)), { method: 'DELETE' });
  if (!res.ok) throw new ApiError(res.status, null, `deleting workflow '${path}' failed with ${res.status}`);
}

export function exportWorkflow(app: ComfyApp): void {
  const blob = new Blob([JSON.stringify(app.serializeWorkflow(), null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${app.workflowName ?? 'workflow'}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Loads a workflow from a dropped or imported file (JSON, or a PNG with a workflow chunk). */
export async function loadWorkflowFile(app: ComfyApp, file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const baseName = file.name.replace(/\.(json|png)$/i, '');
  if (file.type === 'image/png' || /\.png$/i.test(file.name)) {
    const chunks = readPngTextChunks(bytes);
    if (!chunks['workflow']) throw new Error(`${file.name} carries no ComfyUI workflow${chunks['prompt'] ? ' (only an API prompt)' : ''}`);
    const data = JSON.parse(chunks['workflow']) as unknown;
    if (!isUiWorkflow(data)) throw new Error(`${file.name}: the embedded workflow has no "nodes" list`);
    app.loadWorkflow(data, baseName);
    return;
  }
  const data = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  if (!isUiWorkflow(data)) throw new Error(`${file.name} is not a UI workflow (API-format prompts can't be opened as a graph)`);
  app.loadWorkflow(data, baseName);
}

export function installDropHandler(app: ComfyApp): void {
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('drag-over');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('drag-over'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('drag-over');
    const file = e.dataTransfer?.files[0];
    if (!file) return;
    loadWorkflowFile(app, file).catch((err: unknown) => {
      const text = err instanceof NotAPngError ? `${file.name}: ${err.message}` : String(err instanceof Error ? err.message : err);
      showMessage(`Could not load ${file.name}: ${text}`, 'error');
    });
  });
}
