/**
 * The node library: every `/object_info` node by category, with a search box that matches names,
 * display names, categories and search aliases. A click adds the node at the view's centre.
 */
import { LiteGraph } from '@comfyorg/litegraph';
import type { NodeDefWire } from './api.js';
import type { ComfyApp } from './app.js';

/** Frontend-only nodes (virtual-nodes.ts) listed beside the server's. */
const FRONTEND_NODES: NodeDefWire[] = [
  { name: 'Note', display_name: 'Note', category: 'utils', description: 'A text note; never sent to the server.' },
  { name: 'MarkdownNote', display_name: 'Markdown Note', category: 'utils', description: 'A text note; never sent to the server.' },
  { name: 'Reroute', display_name: 'Reroute', category: 'utils', description: 'Routes a link; links pass straight through it.' },
].map((d) => ({ ...d, input: {}, output: [] }));

function matches(def: NodeDefWire, words: string[]): boolean {
  const haystack = [def.name, def.display_name ?? '', def.category ?? '', ...(def.search_aliases ?? [])].join(' ').toLowerCase();
  return words.every((w) => haystack.includes(w));
}

export function addNodeAtCenter(app: ComfyApp, type: string): void {
  const node = LiteGraph.createNode(type);
  if (!node) return;
  const { ds, canvas } = app.canvas;
  const [cx, cy] = [canvas.width / 2 / ds.scale - ds.offset[0], canvas.height / 2 / ds.scale - ds.offset[1]];
  node.pos = [cx - node.size[0] / 2, cy - node.size[1] / 2];
  app.graph.add(node);
  app.canvas.selectNode(node);
  app.canvas.setDirty(true, true);
}

function nodeItem(app: ComfyApp, def: NodeDefWire): HTMLElement {
  const item = document.createElement('div');
  item.className = 'node-item';
  item.textContent = def.display_name || def.name;
  item.title = `${def.name}${def.description ? `\n${def.description}` : ''}`;
  item.dataset['nodeType'] = def.name;
  item.addEventListener('click', () => addNodeAtCenter(app, def.name));
  return item;
}

function folderFor(root: HTMLElement, folders: Map<string, HTMLElement>, category: string, open: boolean): HTMLElement {
  let parent = root;
  let path = '';
  for (const part of category.split('/')) {
    path = path ? `${path}/${part}` : part;
    let folder = folders.get(path);
    if (!folder) {
      const details = document.createElement('details');
      details.open = open;
      const summary = document.createElement('summary');
      summary.textContent = part;
      details.append(summary);
      parent.append(details);
      folders.set(path, details);
      folder = details;
    }
    parent = folder;
  }
  return parent;
}

export function renderLibrary(app: ComfyApp, query: string): void {
  const root = document.getElementById('library-tree') as HTMLElement;
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const defs = [...Object.values(app.objectInfo), ...FRONTEND_NODES.filter((d) => !(d.name in app.objectInfo))]
    .filter((d) => !d.deprecated && matches(d, words))
    .sort((a, b) => (a.category ?? '').localeCompare(b.category ?? '') || (a.display_name ?? a.name).localeCompare(b.display_name ?? b.name));
  const folders = new Map<string, HTMLElement>();
  root.replaceChildren();
  for (const def of defs) folderFor(root, folders, def.category || 'uncategorized', words.length > 0).append(nodeItem(app, def));
}

export function installLibrary(app: ComfyApp): void {
  const search = document.getElementById('library-search') as HTMLInputElement;
  search.addEventListener('input', () => renderLibrary(app, search.value));
  renderLibrary(app, '');
}
