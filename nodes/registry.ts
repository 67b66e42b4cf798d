/**
 * The node registry: class type → definition, and the `/object_info` view of each definition.
 */
import type { InputSpecWire, NodeDefWire } from '../compat/api-types.js';
import { resolveInputTypes, type InputSpec, type NodeDefinition, type NodeEnvironment } from './node-api.js';

export class DuplicateNodeError extends Error {}

export class NodeRegistry {
  private readonly defs = new Map<string, NodeDefinition>();

  register(def: NodeDefinition): void {
    if (this.defs.has(def.name)) throw new DuplicateNodeError(`node type '${def.name}' is already registered`);
    this.defs.set(def.name, def);
  }

  registerAll(defs: Iterable<NodeDefinition>): void {
    for (const d of defs) this.register(d);
  }

  get(name: string): NodeDefinition | undefined {
    return this.defs.get(name);
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  names(): string[] {
    return [...this.defs.keys()];
  }

  /** `/object_info`: every node; a node whose INPUT_TYPES throws is skipped, as ComfyUI does. */
  objectInfo(env: NodeEnvironment): Record<string, NodeDefWire> {
    const out: Record<string, NodeDefWire> = {};
    for (const def of this.defs.values()) {
      try {
        out[def.name] = toNodeDefWire(def, env);
      } catch (err) {
        env.log.warn(`object_info: skipping ${def.name}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** `/object_info/{class}`: `{}` for unknown classes (still 200). */
  objectInfoFor(name: string, env: NodeEnvironment): Record<string, NodeDefWire> {
    const def = this.defs.get(name);
    if (!def) return {};
    try {
      return { [name]: toNodeDefWire(def, env) };
    } catch {
      return {};
    }
  }
}

function specToWire(spec: InputSpec): InputSpecWire {
  const [type, options] = spec;
  const t = typeof type === 'string' ? type : [...type];
  return options === undefined ? [t] : [t, { ...options }];
}

function groupToWire(group: Record<string, InputSpec> | undefined): Record<string, InputSpecWire> | undefined {
  if (!group) return undefined;
  const out: Record<string, InputSpecWire> = {};
  for (const [name, spec] of Object.entries(group)) out[name] = specToWire(spec);
  return out;
}

export function toNodeDefWire(def: NodeDefinition, env: NodeEnvironment): NodeDefWire {
  const it = resolveInputTypes(def, env);
  const input: NodeDefWire['input'] = {};
  const inputOrder: NodeDefWire['input_order'] = {};
  const required = groupToWire(it.required);
  const optional = groupToWire(it.optional);
  if (required) {
    input.required = required;
    inputOrder.required = Object.keys(required);
  }
  if (optional) {
    input.optional = optional;
    inputOrder.optional = Object.keys(optional);
  }
  if (it.hidden) {
    input.hidden = { ...it.hidden };
    inputOrder.hidden = Object.keys(it.hidden);
  }
  const output = def.returnTypes.map((t) => (typeof t === 'string' ? t : [...t]));
  const wire: NodeDefWire = {
    input,
    input_order: inputOrder,
    is_input_list: def.inputIsList ?? false,
    output,
    output_is_list: def.outputIsList ? [...def.outputIsList] : output.map(() => false),
    output_name: def.returnNames ? [...def.returnNames] : output.map((t) => (typeof t === 'string' ? t : 'COMBO')),
    name: def.name,
    display_name: def.displayName ?? def.name,
    description: def.description ?? '',
    python_module: def.pythonModule ?? 'nodes',
    category: def.category || 'sd',
    output_node: def.outputNode ?? false,
    has_intermediate_output: def.hasIntermediateOutput ?? false,
    search_aliases: def.searchAliases ? [...def.searchAliases] : [],
  };
  if (def.outputTooltips) wire.output_tooltips = [...def.outputTooltips];
  if (def.deprecated) wire.deprecated = true;
  if (def.experimental) wire.experimental = true;
  return wire;
}
