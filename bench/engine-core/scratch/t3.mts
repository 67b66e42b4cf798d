import { createSession } from '/work/main/engine/runtime/session.js';
import { GraphBuilder } from '/work/main/engine/onnx/index.js';
const g = new GraphBuilder('r');
const x = g.input('x', 'float16', ['n', 2]);
g.output(g.node('Relu', [x])[0], 'float16', ['n', 2], 'y');
const s = await createSession(g.toBytes(), { device: 'cuda', log: (l, m) => console.log(l, m) });
console.log(s.device, s.inputs, s.outputs);
console.log(await s.run({ x: { dtype: 'float16', shape: [1, 2], data: new Uint16Array([0x3c00, 0xbc00]) } }));
try { await s.run({ x: { dtype: 'float32', shape: [1], data: new Float32Array(1) }, z: { dtype: 'float32', shape: [1], data: new Float32Array(1) } }); } catch (e) { console.log(String(e)); }
await s.release();
