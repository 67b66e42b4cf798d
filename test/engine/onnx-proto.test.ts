/**
 * The hand-written protobuf encoder, byte for byte against encodings worked out from the
 * protobuf wire-format spec (https://protobuf.dev/programming-guides/encoding/).
 */
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../engine/onnx/onnx-proto.js';
import { GraphBuilder } from '../../engine/onnx/graph-builder.js';
import { ProtoWriter } from '../../engine/onnx/proto-writer.js';
import { writeTensor } from '../../engine/onnx/onnx-proto.js';

const bytes = (write: (w: ProtoWriter) => void) => {
  const w = new ProtoWriter();
  write(w);
  return Array.from(w.finish());
};

describe('ProtoWriter', () => {
  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [150, [0x96, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 35, [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    [-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [-2n, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ] as const)('varint %s', (value, expected) => {
    expect(bytes((w) => w.varint(value))).toEqual(expected);
  });

  it('writes tags, strings, fixed32 floats and packed varints', () => {
    expect(bytes((w) => w.int64Field(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes((w) => w.stringField(2, 'testing'))).toEqual([0x12, 0x07, ...Buffer.from('testing')]);
    expect(bytes((w) => w.floatField(2, 1.5))).toEqual([0x15, 0x00, 0x00, 0xc0, 0x3f]);
    expect(bytes((w) => w.packedVarintField(4, [3, 270, 86942]))).toEqual([0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
    expect(bytes((w) => w.packedVarintField(4, []))).toEqual([]);
  });

  it('grows past its first buffer and nests messages with the right length', () => {
    const big = new Uint8Array(1000).fill(7);
    const out = bytes((w) => w.messageField(3, (m) => m.bytesField(9, big)));
    expect(out.slice(0, 6)).toEqual([0x1a, 0xeb, 0x07, 0x4a, 0xe8, 0x07]); // 1003 = 3 + 1000, 1000 bytes
    expect(out.length).toBe(1006);
  });
});

describe('ONNX messages', () => {
  it('writes an FP8 initializer as TensorProto data_type 17 with raw_data', () => {
    const out = bytes((w) => writeTensor(w, { name: 'w', dataType: 17, dims: [2], rawData: Uint8Array.of(0x38, 0x7e) }));
    expect(out).toEqual([0x0a, 0x01, 0x02, 0x10, 0x11, 0x42, 0x01, 0x77, 0x4a, 0x02, 0x38, 0x7e]);
  });

  it('writes external data as key/value entries plus data_location = EXTERNAL', () => {
    const out = Buffer.from(bytes((w) => writeTensor(w, { name: 'w', dataType: 19, dims: [4], external: { location: 'a.safetensors', offset: 88, length: 4 } })));
    const entry = (key: string, value: string) => Buffer.from([0x6a, key.length + value.length + 4, 0x0a, key.length, ...Buffer.from(key), 0x12, value.length, ...Buffer.from(value)]);
    expect(out.includes(entry('location', 'a.safetensors'))).toBe(true);
    expect(out.includes(entry('offset', '88'))).toBe(true);
    expect(out.includes(entry('length', '4'))).toBe(true);
    expect(Array.from(out.subarray(-2))).toEqual([0x70, 0x01]); // field 14, varint 1
    expect(out.includes(0x4a)).toBe(false); // no raw_data field
  });

  it('starts a model with ir_version 10 and declares opset 21 of the default domain', () => {
    const g = new GraphBuilder('g');
    g.output(g.node('Relu', [g.input('x', 'float32', ['n'])])[0], 'float32', ['n']);
    const model = Buffer.from(g.toBytes());
    expect(Array.from(model.subarray(0, 2))).toEqual([0x08, 0x0a]);
    expect(Array.from(model.subarray(-4))).toEqual([0x42, 0x02, 0x10, 0x15]); // opset_import { version: 21 }
    expect(model.includes(Buffer.from([0x12, 0x01, 0x6e]))).toBe(true); // dim_param "n"
  });

  it('refuses a graph without outputs and duplicate names, naming them', () => {
    const g = new GraphBuilder('empty');
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow(/the name 'x' is already used/);
    expect(() => g.toBytes()).toThrow(/graph has no outputs/);
    expect(encodeModel(new GraphBuilder('m').toModel()).length).toBeGreaterThan(0);
  });
});
