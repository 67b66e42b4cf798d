/**
 * The subset of the ONNX schema (onnx/onnx `onnx/onnx.proto`, IR version 10) that Comfy8 writes,
 * as plain TypeScript objects, and their protobuf encoders. Field numbers are onnx.proto's.
 *
 * Example (a model with one Relu node):
 *   encodeModel({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], producerName: 'comfy8',
 *     graph: { name: 'g', nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *       inputs: [{ name: 'x', elemType: 1, dims: ['n'] }], outputs: [{ name: 'y', elemType: 1 }],
 *       initializers: [] } })
 */
import { ProtoWriter } from './proto-writer.js';

export interface OperatorSetId {
  domain: string;
  version: number;
}

/** Where an initializer's bytes live outside the model: a file path relative to the model, an offset, a length. */
export interface ExternalDataRef {
  location: string;
  offset: number;
  length: number;
}

export interface TensorProtoData {
  name: string;
  /** ONNX TensorProto.DataType code (see dtype-codes.ts). */
  dataType: number;
  dims: readonly number[];
  /** Little-endian element bytes (`raw_data`); absent for external tensors. */
  rawData?: Uint8Array;
  external?: ExternalDataRef;
}

export type AttributeData =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number | bigint }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorProtoData }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly (number | bigint)[] }
  | { kind: 'strings'; value: readonly string[] };

export interface NodeProtoData {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: ReadonlyArray<{ name: string; data: AttributeData }>;
}

/** A tensor-typed value: element type code and dims (numbers, or strings for symbolic `dim_param`). */
export interface ValueInfoData {
  name: string;
  elemType: number;
  /** Omitted: shape unknown (no `shape` field at all). */
  dims?: readonly (number | string)[];
}

export interface GraphProtoData {
  name: string;
  nodes: readonly NodeProtoData[];
  inputs: readonly ValueInfoData[];
  outputs: readonly ValueInfoData[];
  initializers: readonly TensorProtoData[];
}

export interface ModelProtoData {
  irVersion: number;
  opsetImport: readonly OperatorSetId[];
  producerName: string;
  producerVersion?: string;
  graph: GraphProtoData;
}

// AttributeProto.AttributeType
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;
const DATA_LOCATION_EXTERNAL = 1;

export function writeTensor(w: ProtoWriter, t: TensorProtoData): void {
  w.packedVarintField(1, t.dims);
  w.int64Field(2, t.dataType);
  w.stringField(8, t.name);
  if (t.external) {
    const entries: Array<[string, string]> = [
      ['location', t.external.location],
      ['offset', String(t.external.offset)],
      ['length', String(t.external.length)],
    ];
    for (const [key, value] of entries) {
      w.messageField(13, (e) => e.stringField(1, key).stringField(2, value));
    }
    w.int64Field(14, DATA_LOCATION_EXTERNAL);
  } else {
    w.bytesField(9, t.rawData ?? new Uint8Array(0));
  }
}

function writeAttribute(w: ProtoWriter, name: string, a: AttributeData): void {
  w.stringField(1, name);
  w.int64Field(20, ATTR_TYPE[a.kind]);
  switch (a.kind) {
    case 'float':
      w.floatField(2, a.value);
      break;
    case 'int':
      w.int64Field(3, a.value);
      break;
    case 'string':
      w.stringField(4, a.value);
      break;
    case 'tensor':
      w.messageField(5, (t) => writeTensor(t, a.value));
      break;
    case 'floats':
      w.packedFloatField(7, a.value);
      break;
    case 'ints':
      w.packedVarintField(8, a.value);
      break;
    case 'strings':
      for (const s of a.value) w.stringField(9, s);
      break;
  }
}

function writeNode(w: ProtoWriter, n: NodeProtoData): void {
  for (const input of n.inputs) w.stringField(1, input);
  for (const output of n.outputs) w.stringField(2, output);
  if (n.name) w.stringField(3, n.name);
  w.stringField(4, n.opType);
  for (const attr of n.attributes ?? []) w.messageField(5, (a) => writeAttribute(a, attr.name, attr.data));
  if (n.domain) w.stringField(7, n.domain);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoData): void {
  w.stringField(1, v.name);
  // TypeProto { tensor_type (1): TypeProto.Tensor { elem_type (1), shape (2): TensorShapeProto } }
  w.messageField(2, (type) =>
    type.messageField(1, (tensorType) => {
      tensorType.int64Field(1, v.elemType);
      if (v.dims === undefined) return;
      tensorType.messageField(2, (shape) => {
        for (const d of v.dims ?? []) {
          shape.messageField(1, (dim) => (typeof d === 'number' ? dim.int64Field(1, d) : dim.stringField(2, d)));
        }
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: GraphProtoData): void {
  for (const n of g.nodes) w.messageField(1, (m) => writeNode(m, n));
  w.stringField(2, g.name);
  for (const t of g.initializers) w.messageField(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.messageField(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.messageField(12, (m) => writeValueInfo(m, v));
}

export function encodeModel(model: ModelProtoData): Uint8Array {
  const w = new ProtoWriter();
  w.int64Field(1, model.irVersion);
  w.stringField(2, model.producerName);
  if (model.producerVersion) w.stringField(3, model.producerVersion);
  w.messageField(7, (g) => writeGraph(g, model.graph));
  for (const op of model.opsetImport) {
    w.messageField(8, (m) => {
      if (op.domain) m.stringField(1, op.domain);
      m.int64Field(2, op.version);
    });
  }
  return w.finish();
}
