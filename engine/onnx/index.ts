/** The ONNX graph builder vocabulary: `GraphBuilder` plus op functions that return value names. */
export * from './graph-builder.js';
export * from './dtype-codes.js';
export * from './ops-math.js';
export * from './ops-shape.js';
export * from './ops-nn.js';
export * from './ops-quant.js';
export { encodeModel, type ExternalDataRef, type ModelProtoData } from './onnx-proto.js';
