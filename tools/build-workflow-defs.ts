/**
 * Builds test/fixtures/workflows/object_info.json: a `/object_info` for every node type the workflow
 * fixtures use.
 *
 *   npx tsx tools/build-workflow-defs.ts          # writes the file, prints what it had to infer
 *
 * Core ComfyUI nodes start from their real declarations (tools/workflow-defs/core-defs.ts). The
 * saved workflows then decide what the ComfyUI version that saved them had: where a fixture shows
 * other widgets (an input added or removed since), the fixture wins and the difference is printed.
 * Nodes with no core declaration (custom nodes) are inferred from the fixtures alone: widget names
 * and order from the saved API prompt, control/upload entries from widgets_values, types from the
 * values. Combo option lists are the values seen in the fixtures.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ApiPrompt, InputSpecWire, NodeDefWire } from '../compat/api-types.js';
import type { UiNode, UiWorkflow } from '../compat/workflow/types.js';
import { CORE_DEFS, type CoreDef } from './workflow-defs/core-defs.js';
import { inferDef, type InferredDef, type Observation } from './workflow-defs/infer.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const FIXTURES = path.join(ROOT, 'test/fixtures/workflows');
const VIRTUAL = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);
const TEXT_NAMES = new Set(['text', 'prompt', 'filename_prefix', 'string', 'value']);

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** UI workflow files with their saved API prompt (pairs and near-pairs), or none. */
function workflowFiles(): { ui: string; api?: string }[] {
  const out: { ui: string; api?: string }[] = [];
  for (const f of fs.readdirSync(path.join(FIXTURES, 'pairs')).filter((f) => f.endsWith('.ui.json')).sort()) {
    out.push({ ui: `pairs/${f}`, api: `pairs/${f.replace('.ui.json', '.api.json')}` });
  }
  for (const f of fs.readdirSync(path.join(FIXTURES, 'ui')).sort()) {
    const base = f.replace(/(_ui)?\.json$/, '');
    const api = [`api/${base}.api.json`, `api/${base}_api.json`].find((p) => fs.existsSync(path.join(FIXTURES, p)));
    out.push({ ui: `ui/${f}`, api });
  }
  return out;
}

function observe(file: { ui: string; api?: string }, add: (type: string, obs: Observation) => void): void {
  const wf = readJson<UiWorkflow>(path.join(FIXTURES, file.ui));
  const api = file.api ? readJson<ApiPrompt>(path.join(FIXTURES, file.api)) : undefined;
  const visit = (nodes: UiNode[], prefix: string, trusted: boolean) => {
    for (const ui of nodes) add(ui.type, { ui, api: api?.[`${prefix}${ui.id}`], valuesTrusted: trusted, source: file.ui });
  };
  visit(wf.nodes, '', true);
  const subgraphs = new Map((wf.definitions?.subgraphs ?? []).map((s) => [s.id, s]));
  for (const node of wf.nodes) {
    const sg = subgraphs.get(node.type);
    if (sg) visit(sg.nodes, `${node.id}:`, true);
    const group = /^workflow[>/](.*)$/.exec(node.type);
    const data = group ? wf.extra?.groupNodes?.[group[1]!] : undefined;
    if (data) visit(data.nodes.map((n, i) => ({ ...n, id: n.index ?? i })), `${node.id}:`, false);
  }
}

function parseCore(core: CoreDef): Item[] {
  return core.inputs.split(/\s+/).filter(Boolean).map((item) => {
    const optional = item.startsWith('?');
    const [name, rest] = item.replace(/^\?/, '').split(':') as [string, string];
    const [typed, fallback] = rest.split('=') as [string, string | undefined];
    const [type, ...flags] = typed.split('+');
    return { name, type: type!, flags: new Set(flags), optional, default: fallback };
  });
}

function inferredType(name: string, values: unknown[]): string {
  if (values.some((v) => typeof v === 'boolean')) return 'BOOLEAN';
  if (values.length && values.every((v) => typeof v === 'number')) return values.every((v) => Number.isInteger(v)) ? 'INT' : 'FLOAT';
  if (TEXT_NAMES.has(name) || values.some((v) => typeof v === 'string' && (v.includes('\n') || v.length > 80))) return 'STRING';
  return 'COMBO';
}

function specFor(type: string, flags: Set<string>, values: unknown[], fallback?: string): InputSpecWire {
  const options: Record<string, unknown> = {};
  if (fallback !== undefined) options['default'] = fallback;
  if (flags.has('ctl')) options['control_after_generate'] = true;
  if (flags.has('upload')) options['image_upload'] = true;
  if (flags.has('dyn')) Object.assign(options, { multiline: true, dynamicPrompts: true });
  if (flags.has('force')) options['forceInput'] = true;
  if (type === 'COMBO') return [[...new Set(values.filter((v) => typeof v === 'string'))].sort(), options];
  return Object.keys(options).length ? [type, options] : [type];
}

interface Item {
  name: string;
  type: string;
  flags: Set<string>;
  optional: boolean;
  default?: string;
}

/** The declared inputs, with the widgets the fixtures show replacing the core list where they differ. */
function mergeInputs(type: string, core: CoreDef | undefined, inf: InferredDef, report: string[]): Item[] {
  const coreItems: Item[] = core ? parseCore(core) : [];
  const isWidget = (i: Item) => ['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'].includes(i.type) && !i.flags.has('force');
  const byName = new Map(coreItems.map((i) => [i.name, i]));
  const widgetItem = (name: string): Item => {
    const known = byName.get(name);
    const flags = new Set(known?.flags ?? []);
    if (inf.controls.has(name)) flags.add('ctl');
    if (inf.uploads.has(name)) flags.add('upload');
    return { name, type: known && isWidget(known) ? known.type : inferredType(name, inf.values.get(name) ?? []), flags, optional: known?.optional ?? false, default: known?.default };
  };
  const coreWidgets = coreItems.filter(isWidget).map((i) => i.name);
  const widgets = inf.seenInApi ? inf.widgetNames : coreWidgets;
  if (core && inf.seenInApi && JSON.stringify(coreWidgets) !== JSON.stringify(inf.widgetNames)) {
    report.push(`${type}: fixtures show widgets [${inf.widgetNames.join(', ')}], ComfyUI now declares [${coreWidgets.join(', ')}] — using the fixtures'`);
  }
  const sockets: Item[] = coreItems.filter((i) => !isWidget(i));
  for (const [name, socketType] of inf.sockets) {
    if (!byName.has(name) && !widgets.includes(name)) sockets.push({ name, type: socketType, flags: new Set(), optional: false });
  }
  if (!core) return [...sockets, ...widgets.map(widgetItem)];
  // Keep the core interleaving when the widget order agrees; otherwise widgets first.
  const merged: Item[] = [];
  const pending = [...widgets];
  for (const item of coreItems) {
    if (!isWidget(item)) merged.push(item);
    else if (pending[0] === item.name) merged.push(widgetItem(pending.shift()!));
  }
  for (const s of sockets) if (!merged.includes(s)) merged.push(s);
  return pending.length ? [...widgets.map(widgetItem), ...sockets] : merged;
}

function buildDef(type: string, core: CoreDef | undefined, inf: InferredDef, report: string[]): NodeDefWire {
  const items = mergeInputs(type, core, inf, report);
  const input: NodeDefWire['input'] = { required: {} };
  const order: NodeDefWire['input_order'] = { required: [] };
  for (const item of items) {
    const group = item.optional ? 'optional' : 'required';
    (input[group] ??= {})[item.name] = specFor(item.type, item.flags, inf.values.get(item.name) ?? [], item.default);
    (order[group] ??= []).push(item.name);
  }
  const output = core ? core.outputs.split(/\s+/).filter(Boolean) : inf.outputs;
  return {
    input,
    input_order: order,
    is_input_list: false,
    output,
    output_is_list: output.map(() => false),
    output_name: core?.outputNames ? core.outputNames.split(' ') : output,
    name: type,
    display_name: inf.displayName ?? core?.display ?? type,
    description: '',
    python_module: core ? (core.module ?? 'nodes') : 'custom_nodes.unknown',
    category: core?.category ?? 'fixtures/inferred',
    output_node: core?.outputNode ?? output.length === 0,
    has_intermediate_output: false,
    search_aliases: [],
  };
}

function main(): void {
  const observations = new Map<string, Observation[]>();
  for (const file of workflowFiles()) observe(file, (type, obs) => observations.set(type, [...(observations.get(type) ?? []), obs]));
  const report: string[] = [];
  const objectInfo: Record<string, NodeDefWire> = {};
  const types = [...new Set([...observations.keys(), ...Object.keys(CORE_DEFS)])].sort();
  for (const type of types) {
    if (VIRTUAL.has(type) || /^workflow[>/]/.test(type) || /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(type)) continue;
    const inf = inferDef(observations.get(type) ?? []);
    if (!CORE_DEFS[type]) report.push(`${type}: no core declaration; inferred from ${observations.get(type)?.length ?? 0} fixture node(s)`);
    for (const note of inf.notes) report.push(`${type}: ${note}`);
    objectInfo[type] = buildDef(type, CORE_DEFS[type], inf, report);
  }
  fs.writeFileSync(path.join(FIXTURES, 'object_info.json'), `${JSON.stringify(objectInfo, null, 1)}\n`);
  process.stdout.write(`${Object.keys(objectInfo).length} definitions written\n${report.map((r) => `- ${r}`).join('\n')}\n`);
}

main();
