import * as ort from 'onnxruntime-node';
import * as fs from 'node:fs';
import { GraphBuilder } from '/work/main/engine/onnx/graph-builder.js';
const dir = fs.mkdtempSync('/tmp/extd-');
const header = Buffer.from(JSON.stringify({ w: { dtype: 'F8_E4M3', shape: [4, 2], data_offsets: [0, 8] } }) + '   ');
const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(header.length));
fs.writeFileSync(dir + '/weights.safetensors', Buffer.concat([len, header, Buffer.from([0x38, 0x7e, 0x01, 0x40, 0x38, 0x38, 0x38, 0xb8])]));
const off = 8 + header.length; console.log('offset', off);
function build(location: string) {
  const g = new GraphBuilder('ext');
  const x = g.input('x', 'float32', ['n', 4]);
  const w = g.externalInitializer('w', 'float8_e4m3fn', [4, 2], { location, offset: off, length: 8 });
  const s = g.constant({ dtype: 'float32', shape: [], data: new Float32Array([2]) });
  g.output(g.node('MatMul', [x, g.node('DequantizeLinear', [w, s])[0]])[0], 'float32', undefined, 'y');
  return g.toBytes();
}
const feeds = { x: new ort.Tensor('float32', new Float32Array([1,2,3,4]), [1,4]) };
async function attempt(label: string, f: () => Promise<ort.InferenceSession>) {
  try { const s = await f(); const r = await s.run(feeds); console.log(label, 'OK', r.y.data); } catch (e) { console.log(label, 'FAIL', String(e).slice(0, 300)); }
}
fs.writeFileSync(dir + '/m.onnx', build('weights.safetensors'));
await attempt('path, relative', () => ort.InferenceSession.create(dir + '/m.onnx'));
await attempt('bytes, relative, no folder', () => ort.InferenceSession.create(build('weights.safetensors')));
await attempt('bytes, relative, folder extra', () => ort.InferenceSession.create(build('weights.safetensors'), { extra: { session: { model_external_initializers_file_folder_path: dir } } } as any));
await attempt('bytes, absolute', () => ort.InferenceSession.create(build(dir + '/weights.safetensors')));
fs.writeFileSync(dir + '/m2.onnx', build(dir + '/weights.safetensors'));
await attempt('path, absolute', () => ort.InferenceSession.create(dir + '/m2.onnx'));
fs.mkdirSync(dir + '/sub'); fs.writeFileSync(dir + '/sub/m3.onnx', build('../weights.safetensors'));
await attempt('path, ../', () => ort.InferenceSession.create(dir + '/sub/m3.onnx'));
fs.symlinkSync(dir + '/weights.safetensors', dir + '/sub/link.safetensors'); fs.writeFileSync(dir + '/sub/m4.onnx', build('link.safetensors'));
await attempt('path, symlink', () => ort.InferenceSession.create(dir + '/sub/m4.onnx'));
