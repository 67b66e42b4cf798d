/**
 * A node class as a pack declares it, in ComfyUI's shape, and the load-time check of each field.
 * A class (static fields, FUNCTION on the prototype) and a plain object (everything on it) are
 * both accepted:
 *
 *   export class Invert {
 *     static INPUT_TYPES() { return { required: { image: ['IMAGE'] } }; }
 *     static RETURN_TYPES = ['IMAGE'];
 *     static FUNCTION = 'invert';
 *     static CATEGORY = 'image';
 *     invert({ image }) { return [oneMinus(image)]; }
 *   }
 */
import type { ExecutionContext, InputTypes } from '../node-api.js';

/** How a node's non-finite outputs are treated (`NAN_POLICY`, or the loader's default). */
export type NanPolicy = 'fail' | 'warn' | 'ignore';
export const NAN_POLICIES: readonly NanPolicy[] = ['fail', 'warn', 'ignore'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRecord = Record<string, any>;

/** The fields ComfyUI reads from a node class, plus Comfy8's tensor-precision flags. */
export interface ComfyNodeFields {
  INPUT_TYPES(): InputTypes;
  RETURN_TYPES: readonly (string | readonly unknown[])[];
  RETURN_NAMES?: readonly string[];
  /** Name of the method that runs the node. */
  FUNCTION: string;
  CATEGORY?: string;
  DESCRIPTION?: string;
  OUTPUT_NODE?: boolean;
  INPUT_IS_LIST?: boolean;
  OUTPUT_IS_LIST?: readonly boolean[];
  OUTPUT_TOOLTIPS?: readonly string[];
  NOT_IDEMPOTENT?: boolean;
  DEPRECATED?: boolean;
  EXPERIMENTAL?: boolean;
  SEARCH_ALIASES?: readonly string[];
  /** Constant inputs (links undefined) → a fingerprint; NaN = always re-run. */
  IS_CHANGED?(inputs: AnyRecord): unknown;
  /**
   * true, false or an error string. The inputs it validates are the names it destructures
   * (`VALIDATE_INPUTS({ a, input_types })`), as ComfyUI reads them from the Python signature.
   */
  VALIDATE_INPUTS?(inputs: AnyRecord): boolean | string | Promise<boolean | string>;
  /** Comfy8: the node handles FP8 tensors itself (no cast to float16 before it runs). */
  ACCEPTS_FP8?: boolean;
  /** Comfy8: float16/bfloat16/FP8 tensors reach the node as float32. */
  REQUIRES_FP32?: boolean;
  /** Comfy8: what a NaN/Inf in an output does; default the loader's (`fail`). */
  NAN_POLICY?: NanPolicy;
}

/**
 * A node class as found in NODE_CLASS_MAPPINGS: a class whose statics are these fields (its
 * prototype holds FUNCTION's method and `check_lazy_status`), or a plain object holding all.
 * FUNCTION's method gets `(inputs, ctx)`: the inputs by name, and the ExecutionContext.
 */
export type ComfyNodeClass = ComfyNodeFields & object;

/** A checked declaration: fields read once, methods looked up per call. */
export interface NodeDeclaration {
  pack: string;
  name: string;
  displayName?: string;
  source: object;
  inputTypes: () => InputTypes;
  returnTypes: (string | unknown[])[];
  returnNames?: string[];
  functionName: string;
  category: string;
  description?: string;
  outputNode: boolean;
  inputIsList: boolean;
  outputIsList?: boolean[];
  outputTooltips?: string[];
  notIdempotent: boolean;
  deprecated: boolean;
  experimental: boolean;
  searchAliases?: string[];
  isChanged?: (inputs: AnyRecord) => unknown;
  validateInputs?: (inputs: AnyRecord) => unknown;
  hasLazyCheck: boolean;
  acceptsFp8: boolean;
  requiresFp32: boolean;
  nanPolicy?: NanPolicy;
}

export class DeclarationError extends Error {
  constructor(pack: string, node: string, field: string, problem: string) {
    super(`custom_nodes.${pack}: node '${node}' dropped: ${field} ${problem}`);
    this.name = 'DeclarationError';
  }
}

/** Reads a field the ComfyUI way: from the class (statics) or from the object itself. */
function field(source: AnyRecord, key: string): unknown {
  return source[key];
}

/** A method of the node instance: the prototype for classes, the object itself otherwise. */
export function methodOf(source: object, name: string): ((...args: unknown[]) => unknown) | undefined {
  const holder = typeof source === 'function' ? (source as { prototype: AnyRecord }).prototype : (source as AnyRecord);
  const fn = holder?.[name] ?? (source as AnyRecord)[name];
  return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown) : undefined;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

type Check = (fail: (field: string, problem: string) => never) => void;

function optionalBool(source: AnyRecord, key: string): Check {
  return (fail) => {
    const v = field(source, key);
    if (v !== undefined && typeof v !== 'boolean') fail(key, `must be true or false, got ${describe(v)}`);
  };
}

function optionalFn(source: AnyRecord, key: string, where: 'class' | 'instance'): Check {
  return (fail) => {
    const v = where === 'class' ? field(source, key) : methodOf(source, key) ?? field(source, key);
    if (v !== undefined && typeof v !== 'function') fail(key, `must be a function, got ${describe(v)}`);
  };
}

function listMatching(source: AnyRecord, key: string, length: number, element: 'string' | 'boolean'): Check {
  return (fail) => {
    const v = field(source, key);
    if (v === undefined) return;
    if (!Array.isArray(v) || !v.every((x) => typeof x === element)) fail(key, `must be a list of ${element}s, got ${describe(v)}`);
    if ((v as unknown[]).length !== length) fail(key, `has ${(v as unknown[]).length} entries but RETURN_TYPES has ${length}`);
  };
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return typeof v === 'object' ? 'an object' : typeof v === 'function' ? 'a function' : `${typeof v} ${String(v)}`;
}

/** Checks one INPUT_TYPES() result: groups of `name: [TYPE, options?]`, hidden `name: KIND`. */
export function checkInputTypes(value: unknown, fail: (field: string, problem: string) => never): InputTypes {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('INPUT_TYPES()', `must return {required, optional, hidden}, got ${describe(value)}`);
  const groups = value as AnyRecord;
  for (const key of Object.keys(groups)) {
    if (!['required', 'optional', 'hidden'].includes(key)) fail('INPUT_TYPES()', `has unknown group '${key}'; valid: required, optional, hidden`);
  }
  for (const group of ['required', 'optional'] as const) {
    const specs = groups[group];
    if (specs === undefined) continue;
    if (typeof specs !== 'object' || specs === null || Array.isArray(specs)) fail(`INPUT_TYPES().${group}`, `must be an object, got ${describe(specs)}`);
    for (const [name, spec] of Object.entries(specs as AnyRecord)) {
      const at = `INPUT_TYPES().${group}.${name}`;
      if (!Array.isArray(spec) || spec.length < 1 || spec.length > 2) fail(at, `must be [TYPE] or [TYPE, options], got ${describe(spec)}`);
      const [type, options] = spec as unknown[];
      if (typeof type !== 'string' && !Array.isArray(type)) fail(at, `type must be a type name or a list of choices, got ${describe(type)}`);
      if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) fail(at, `options must be an object, got ${describe(options)}`);
    }
  }
  const hidden = groups['hidden'];
  if (hidden !== undefined) {
    if (typeof hidden !== 'object' || hidden === null) fail('INPUT_TYPES().hidden', `must be an object, got ${describe(hidden)}`);
    for (const [name, kind] of Object.entries(hidden as AnyRecord)) {
      if (typeof kind !== 'string') fail(`INPUT_TYPES().hidden.${name}`, `must be a hidden kind string such as 'UNIQUE_ID', got ${describe(kind)}`);
    }
  }
  return groups as InputTypes;
}

function checkCore(source: AnyRecord, fail: (field: string, problem: string) => never): { returnTypes: (string | unknown[])[]; functionName: string } {
  if (typeof field(source, 'INPUT_TYPES') !== 'function') fail('INPUT_TYPES', `must be a function returning {required, optional, hidden}, got ${describe(field(source, 'INPUT_TYPES'))}`);
  let declared: unknown;
  try {
    declared = (field(source, 'INPUT_TYPES') as () => unknown).call(source);
  } catch (err) {
    fail('INPUT_TYPES()', `threw: ${(err as Error)?.message ?? String(err)}`);
  }
  checkInputTypes(declared, fail);
  const returnTypes = field(source, 'RETURN_TYPES');
  if (!Array.isArray(returnTypes) || !returnTypes.every((t) => typeof t === 'string' || Array.isArray(t))) {
    fail('RETURN_TYPES', `must be a list of type names (use [] for none), got ${describe(returnTypes)}`);
  }
  const functionName = field(source, 'FUNCTION');
  if (typeof functionName !== 'string' || functionName === '') fail('FUNCTION', `must name the method that runs the node, got ${describe(functionName)}`);
  if (!methodOf(source, functionName)) fail('FUNCTION', `names '${functionName}', but the node has no such method`);
  return { returnTypes: returnTypes as (string | unknown[])[], functionName };
}

function fieldChecks(source: AnyRecord, outputs: number): Check[] {
  const optionalString = (key: string): Check => (fail) => {
    const v = field(source, key);
    if (v !== undefined && typeof v !== 'string') fail(key, `must be a string, got ${describe(v)}`);
  };
  return [
    listMatching(source, 'RETURN_NAMES', outputs, 'string'),
    listMatching(source, 'OUTPUT_IS_LIST', outputs, 'boolean'),
    listMatching(source, 'OUTPUT_TOOLTIPS', outputs, 'string'),
    optionalString('CATEGORY'),
    optionalString('DESCRIPTION'),
    ...['OUTPUT_NODE', 'INPUT_IS_LIST', 'NOT_IDEMPOTENT', 'DEPRECATED', 'EXPERIMENTAL', 'ACCEPTS_FP8', 'REQUIRES_FP32'].map((k) => optionalBool(source, k)),
    optionalFn(source, 'IS_CHANGED', 'class'),
    optionalFn(source, 'VALIDATE_INPUTS', 'class'),
    optionalFn(source, 'check_lazy_status', 'instance'),
    (fail) => {
      const v = field(source, 'NAN_POLICY');
      if (v !== undefined && !NAN_POLICIES.includes(v as NanPolicy)) fail('NAN_POLICY', `must be one of ${NAN_POLICIES.join(', ')}, got ${describe(v)}`);
    },
    (fail) => {
      const v = field(source, 'SEARCH_ALIASES');
      if (v !== undefined && !isStringArray(v)) fail('SEARCH_ALIASES', `must be a list of strings, got ${describe(v)}`);
    },
  ];
}

/** Checks one NODE_CLASS_MAPPINGS entry; throws DeclarationError naming pack, node and field. */
export function readDeclaration(pack: string, name: string, value: unknown, displayName?: unknown): NodeDeclaration {
  const fail = (f: string, problem: string): never => {
    throw new DeclarationError(pack, name, f, problem);
  };
  if (name.trim() === '') fail('NODE_CLASS_MAPPINGS key', 'must be a non-empty node name');
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) fail('NODE_CLASS_MAPPINGS value', `must be a class or an object, got ${describe(value)}`);
  const source = value as AnyRecord;
  const { returnTypes, functionName } = checkCore(source, fail);
  for (const check of fieldChecks(source, returnTypes.length)) check(fail);
  if (displayName !== undefined && typeof displayName !== 'string') fail('NODE_DISPLAY_NAME_MAPPINGS entry', `must be a string, got ${describe(displayName)}`);
  const get = <T>(key: string): T | undefined => field(source, key) as T | undefined;
  const inputTypesFn = get<() => InputTypes>('INPUT_TYPES')!;
  return {
    pack,
    name,
    displayName: displayName as string | undefined,
    source,
    inputTypes: () => inputTypesFn.call(source),
    returnTypes,
    returnNames: get<string[]>('RETURN_NAMES'),
    functionName,
    category: get<string>('CATEGORY') ?? 'sd',
    description: get<string>('DESCRIPTION'),
    outputNode: get<boolean>('OUTPUT_NODE') ?? false,
    inputIsList: get<boolean>('INPUT_IS_LIST') ?? false,
    outputIsList: get<boolean[]>('OUTPUT_IS_LIST'),
    outputTooltips: get<string[]>('OUTPUT_TOOLTIPS'),
    notIdempotent: get<boolean>('NOT_IDEMPOTENT') ?? false,
    deprecated: get<boolean>('DEPRECATED') ?? false,
    experimental: get<boolean>('EXPERIMENTAL') ?? false,
    searchAliases: get<string[]>('SEARCH_ALIASES'),
    isChanged: get<(i: AnyRecord) => unknown>('IS_CHANGED')?.bind(source),
    validateInputs: get<(i: AnyRecord) => unknown>('VALIDATE_INPUTS')?.bind(source),
    hasLazyCheck: methodOf(source, 'check_lazy_status') !== undefined,
    acceptsFp8: get<boolean>('ACCEPTS_FP8') ?? false,
    requiresFp32: get<boolean>('REQUIRES_FP32') ?? false,
    nanPolicy: get<NanPolicy>('NAN_POLICY'),
  };
}
