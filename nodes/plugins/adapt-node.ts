/**
 * A checked ComfyUI-shaped declaration → a NodeDefinition the executor runs like a built-in.
 * The definition's `execute` is the run-time wrapper (see run-plugin-call.ts); the rest maps
 * field by field (`pythonModule: "custom_nodes.<pack>"`).
 */
import type { ExecutionContext, NodeDefinition, NodeEnvironment, ValidateInputsSpec } from '../node-api.js';
import { methodOf, type NanPolicy, type NodeDeclaration } from './declaration.js';
import { prepareInputs, type PrepareOptions } from './tensor-guard.js';
import { runPluginCall, type CallPolicy } from './run-plugin-call.js';

export interface AdaptOptions {
  /** Default NaN/Inf policy for nodes without NAN_POLICY. */
  nanPolicy: NanPolicy;
  /** Copy inputs before a plugin sees them (input protection); default true. */
  protectInputs: boolean;
  log: NodeEnvironment['log'];
}

const INPUT_TYPES_ARG = 'input_types';
const MAX_INSTANCES = 256;

/**
 * The names a validator destructures from its one argument — `({ a, b = 1, input_types })` —
 * ComfyUI's reading of the Python signature; anything else (a plain parameter, `...rest`) = all.
 */
export function destructuredNames(fn: (...args: never[]) => unknown): string[] | '*' {
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf('(');
  const m = /^\(\s*\{([^{}()]*)\}/.exec(src.slice(open));
  if (open < 0 || !m) return '*';
  const names: string[] = [];
  for (const part of m[1]!.split(',')) {
    const text = part.trim();
    if (text === '') continue;
    if (text.startsWith('...')) return '*';
    const name = /^([A-Za-z_$][\w$]*|'[^']*'|"[^"]*")/.exec(text)?.[1];
    if (!name) return '*';
    names.push(name.replace(/^['"]|['"]$/g, ''));
  }
  return names;
}

function validatorSpec(decl: NodeDeclaration): ValidateInputsSpec<Record<string, unknown>> | undefined {
  const validate = decl.validateInputs;
  if (!validate) return undefined;
  const original = (decl.source as Record<string, (...a: never[]) => unknown>)['VALIDATE_INPUTS']!;
  const names = destructuredNames(original);
  const wantsInputTypes = names === '*' || names.includes(INPUT_TYPES_ARG);
  return {
    inputs: names === '*' ? '*' : names.filter((n) => n !== INPUT_TYPES_ARG),
    wantsInputTypes,
    fn: (inputs, inputTypes) => validate(wantsInputTypes ? { ...inputs, [INPUT_TYPES_ARG]: inputTypes ?? {} } : { ...inputs }) as boolean | string,
  };
}

/** ComfyUI keeps one node object per node id; so does this (bounded, oldest dropped first). */
function instanceCache(decl: NodeDeclaration): (nodeId: string) => object {
  const instances = new Map<string, object>();
  return (nodeId) => {
    if (typeof decl.source !== 'function') return decl.source;
    let obj = instances.get(nodeId);
    if (!obj) {
      obj = new (decl.source as new () => object)();
      instances.set(nodeId, obj);
      if (instances.size > MAX_INSTANCES) instances.delete(instances.keys().next().value!);
    }
    return obj;
  };
}

export function adaptDeclaration(decl: NodeDeclaration, opts: AdaptOptions): NodeDefinition {
  const instanceFor = instanceCache(decl);
  const prepare: PrepareOptions = {
    acceptsFp8: decl.acceptsFp8,
    requiresFp32: decl.requiresFp32,
    copy: opts.protectInputs,
    onCast: (from, to, shape) => opts.log.debug(`custom_nodes.${decl.pack} ${decl.name}: cast ${from} [${shape.join(', ')}] → ${to}`),
  };
  const policy: CallPolicy = { decl, prepare, nanPolicy: decl.nanPolicy ?? opts.nanPolicy, log: opts.log, instanceFor };
  const lazy = decl.hasLazyCheck
    ? (inputs: Record<string, unknown>, ctx: ExecutionContext) => {
        const check = methodOf(decl.source, 'check_lazy_status')!;
        return check.call(instanceFor(ctx.nodeId), prepareInputs(inputs, decl.inputTypes(), prepare), ctx) as readonly string[];
      }
    : undefined;
  return {
    name: decl.name,
    displayName: decl.displayName,
    description: decl.description,
    category: decl.category,
    pythonModule: `custom_nodes.${decl.pack}`,
    inputTypes: () => decl.inputTypes(),
    returnTypes: decl.returnTypes,
    returnNames: decl.returnNames,
    outputIsList: decl.outputIsList,
    outputTooltips: decl.outputTooltips,
    outputNode: decl.outputNode,
    inputIsList: decl.inputIsList,
    notIdempotent: decl.notIdempotent,
    deprecated: decl.deprecated || undefined,
    experimental: decl.experimental || undefined,
    searchAliases: decl.searchAliases,
    execute: (inputs, ctx) => runPluginCall(policy, inputs, ctx),
    isChanged: decl.isChanged ? (inputs) => decl.isChanged!({ ...inputs }) : undefined,
    validateInputs: validatorSpec(decl),
    checkLazyStatus: lazy,
  };
}
