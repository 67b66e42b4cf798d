import * as ort from 'onnxruntime-node';
import { GraphBuilder, asFloat } from '/work/main/engine/onnx/graph-builder.js';
async function tryOp(label: string, opset: number, build: (g: GraphBuilder, x: string) => string) {
  const g = new GraphBuilder(label, opset);
  const x = g.input('x', 'float32', ['n', 4]);
  g.output(build(g, x), 'float32', undefined, 'y');
  try {
    const s = await ort.InferenceSession.create(g.toBytes());
    const r = await s.run({ x: new ort.Tensor('float32', new Float32Array([1,2,3,4,5,6,7,8]), [2,4]) });
    console.log(label, 'OK', Array.from(r.y.data as Float32Array).slice(0,4), r.y.dims);
  } catch (e) { console.log(label, 'FAIL', String(e).slice(0, 300)); }
}
await tryOp('relu', 21, (g, x) => g.node('Relu', [x])[0]);
await tryOp('gelu20', 21, (g, x) => g.node('Gelu', [x], { approximate: 'tanh' })[0]);
const sc = (g: GraphBuilder) => g.constant({ dtype: 'float32', shape: [4], data: new Float32Array([1,1,1,1]) });
await tryOp('rms23', 23, (g, x) => g.node('RMSNormalization', [x, sc(g)], { epsilon: asFloat(1e-6), axis: -1 })[0]);
await tryOp('rms21-onnxdomain-simplified', 21, (g, x) => g.node('SimplifiedLayerNormalization', [x, sc(g)], { epsilon: asFloat(1e-6), axis: -1 })[0]);
await tryOp('rms21-ms-simplified', 21, (g, x) => g.node('SimplifiedLayerNormalization', [x, sc(g)], { epsilon: asFloat(1e-6), axis: -1 }, { domain: 'com.microsoft' })[0]);
await tryOp('opset24', 24, (g, x) => g.node('Relu', [x])[0]);
await tryOp('opset25', 25, (g, x) => g.node('Relu', [x])[0]);
await tryOp('fp8deq', 21, (g, x) => {
  const w = g.initializer('w', { dtype: 'float8_e4m3fn', shape: [4, 2], data: new Uint8Array([0x38, 0x7e, 0x01, 0x40, 0x38, 0x38, 0x38, 0xb8]) });
  const s = g.constant({ dtype: 'float32', shape: [], data: new Float32Array([2]) });
  return g.node('MatMul', [x, g.node('DequantizeLinear', [w, s])[0]])[0];
});
