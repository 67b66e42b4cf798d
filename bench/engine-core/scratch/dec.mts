import { decodeToFloat32 } from '../../../engine/dtypes.js';
const codes = new Uint8Array(64 << 20);
for (let i = 0; i < codes.length; i++) codes[i] = (i * 2654435761) >>> 24;
for (let k = 0; k < 4; k++) { const t = performance.now(); decodeToFloat32(codes, 'float8_e4m3fn'); console.log(((performance.now() - t)).toFixed(0), 'ms'); }
const t = performance.now(); let s = 0; for (let i = 0; i < codes.length; i++) s += codes[i]; console.log('sum loop', (performance.now() - t).toFixed(0), 'ms');
