/**
 * GraphBuilder: collects inputs, initializers and nodes of one ONNX graph and writes the model
 * bytes, in the spirit of onnx's `helper.make_node` / `make_graph` / `make_model`.
 * Values are referred to by name (`Value`); every op function returns the names it produced.
 *
 * Example:
 *   const g = new GraphBuilder('mlp');
 *   const x = g.input('x', 'float32', ['batch', 64]);
 *   const w = g.initializer('w', weightTensor);              // [64, 32]
 *   g.output(g.node('MatMul', [x, w])[0], 'float32', ['batch', 32], 'y');
 *   const bytes = g.toBytes();
 */
import { BYTES_PER_ELEMENT, numel, type DType, type Tensor } from '../tensor.js';
import { onnxDataType } from './dtype-codes.js';
import {
  encodeModel,
  type AttributeData,
  type ExternalDataRef,
  type ModelProtoData,
  type NodeProtoData,
  type TensorProtoData,
  type ValueInfoData,
} from './onnx-proto.js';

export type Value = string;
export type Dim = number | string;

/** Forces a FLOAT attribute (a plain integral number is written as INT). */
export interface FloatAttr {
  readonly float: number;
}
export interface FloatsAttr {
  readonly floats: readonly number[];
}
export type AttrValue = number | bigint | string | readonly number[] | readonly string[] | FloatAttr | FloatsAttr | Tensor;

export const asFloat = (value: number): FloatAttr => ({ float: value });
export const asFloats = (values: readonly number[]): FloatsAttr => ({ floats: values });

export interface NodeOptions {
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Name hint for the outputs and the node. */
  name?: string;
  domain?: string;
}

export const DEFAULT_OPSET = 21;
/** IR version 10 is the one that goes with opset 21 (onnx/onnx docs/Versioning.md). */
export const DEFAULT_IR_VERSION = 10;

export class GraphBuilder {
  private readonly nodes: NodeProtoData[] = [];
  private readonly inputs: ValueInfoData[] = [];
  private readonly outputs: ValueInfoData[] = [];
  private readonly initializers: TensorProtoData[] = [];
  private readonly names = new Set<string>();
  private readonly domains = new Map<string, number>();
  private counter = 0;

  constructor(
    readonly name = 'graph',
    readonly opset = DEFAULT_OPSET,
  ) {}

  /** A graph input; string dims are symbolic (`dim_param`), so one session serves many sizes. */
  input(name: string, dtype: DType, dims: readonly Dim[]): Value {
    this.claim(name);
    this.inputs.push({ name, elemType: onnxDataType(dtype), dims: [...dims] });
    return name;
  }

  /** Marks `value` as a graph output; with `name` it is renamed through an Identity node. */
  output(value: Value, dtype: DType, dims?: readonly Dim[], name?: string): Value {
    let outName = value;
    if (name !== undefined && name !== value) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', inputs: [value], outputs: [name], name: `${name}_identity` });
      outName = name;
    }
    this.outputs.push({ name: outName, elemType: onnxDataType(dtype), dims: dims ? [...dims] : undefined });
    return outName;
  }

  /** An initializer holding the tensor's bytes as `raw_data`; FP8 stays FP8 (types 17/19). */
  initializer(name: string, t: Tensor): Value {
    this.claim(name);
    this.initializers.push(tensorProto(name, t));
    return name;
  }

  /** An initializer whose bytes ONNX Runtime reads itself from `ref.location` (relative to the model). */
  externalInitializer(name: string, dtype: DType, dims: readonly number[], ref: ExternalDataRef): Value {
    const expected = numel(dims) * BYTES_PER_ELEMENT[dtype];
    if (ref.length !== expected) {
      throw new Error(
        `externalInitializer '${name}': ${dtype} [${dims.join(', ')}] needs ${expected} bytes, the reference has ${ref.length}`,
      );
    }
    if (ref.location.startsWith('/') || /^[A-Za-z]:|\\/.test(ref.location) || ref.location.split('/').includes('..')) {
      throw new Error(
        `externalInitializer '${name}': location '${ref.location}' must be a relative path inside the model's folder ` +
          `(onnxruntime rejects absolute paths and '..')`,
      );
    }
    this.claim(name);
    this.initializers.push({ name, dataType: onnxDataType(dtype), dims: [...dims], external: { ...ref } });
    return name;
  }

  /** A constant value (written as an initializer under a fresh name). */
  constant(t: Tensor, nameHint = 'const'): Value {
    const name = this.uniqueName(nameHint);
    this.initializers.push(tensorProto(name, t));
    return name;
  }

  /** Adds a node; returns its output names. Inputs may be '' for an omitted optional input. */
  node(opType: string, inputs: readonly Value[], attrs: Record<string, AttrValue | undefined> = {}, opts: NodeOptions = {}): Value[] {
    const count = opts.outputs ?? 1;
    const base = opts.name ?? opType.toLowerCase();
    const outputs = Array.from({ length: count }, (_, i) => this.uniqueName(count === 1 ? base : `${base}_${i}`));
    const attributes = Object.entries(attrs)
      .filter((entry): entry is [string, AttrValue] => entry[1] !== undefined)
      .map(([attrName, v]) => ({ name: attrName, data: toAttribute(attrName, v) }));
    if (opts.domain) this.useDomain(opts.domain, 1);
    this.nodes.push({ opType, inputs: [...inputs], outputs, name: `${outputs[0]}_node`, domain: opts.domain, attributes });
    return outputs;
  }

  /** Declares an extra operator-set domain (e.g. 'com.microsoft') at a version. */
  useDomain(domain: string, version: number): void {
    this.domains.set(domain, Math.max(version, this.domains.get(domain) ?? 0));
  }

  uniqueName(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`GraphBuilder '${this.name}': the name '${name}' is already used`);
    this.names.add(name);
  }

  toModel(): ModelProtoData {
    const opsetImport = [{ domain: '', version: this.opset }, ...[...this.domains].map(([domain, version]) => ({ domain, version }))];
    return {
      irVersion: DEFAULT_IR_VERSION,
      opsetImport,
      producerName: 'comfy8',
      graph: { name: this.name, nodes: this.nodes, inputs: this.inputs, outputs: this.outputs, initializers: this.initializers },
    };
  }

  toBytes(): Uint8Array {
    if (this.outputs.length === 0) throw new Error(`GraphBuilder '${this.name}': the graph has no outputs; call output() first`);
    return encodeModel(this.toModel());
  }
}

export function tensorProto(name: string, t: Tensor): TensorProtoData {
  const expected = numel(t.shape);
  if (t.data.length !== expected) {
    throw new Error(`tensor '${name}': shape [${t.shape.join(', ')}] needs ${expected} elements, got ${t.data.length}`);
  }
  const rawData = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name, dataType: onnxDataType(t.dtype), dims: [...t.shape], rawData };
}

function isTensorValue(v: AttrValue): v is Tensor {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'data' in v;
}

function toAttribute(name: string, v: AttrValue): AttributeData {
  if (typeof v === 'bigint') return { kind: 'int', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', value: v } : { kind: 'float', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (isTensorValue(v)) return { kind: 'tensor', value: tensorProto(name, v) };
  if ('float' in v) return { kind: 'float', value: v.float };
  if ('floats' in v) return { kind: 'floats', value: v.floats };
  const list = v as readonly (number | string)[];
  if (list.length > 0 && list.every((x) => typeof x === 'string')) return { kind: 'strings', value: list as string[] };
  const nums = list as readonly number[];
  return nums.every(Number.isInteger) ? { kind: 'ints', value: nums } : { kind: 'floats', value: nums };
}
