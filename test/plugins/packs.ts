/**
 * Generated packs for the plugin tests: good ones, and ones broken in every way a pack can be.
 * Each is plain ESM JavaScript (one is TypeScript), written into a temp custom_nodes/ folder.
 */
import type { PackFiles } from './helpers.js';

const js = (code: string): PackFiles => ({ 'index.js': code });

/** Nodes that work; a probe reports what it received as UI text (JSON). */
export const GOOD_PACK = js(`
import { ExecutionBlocker, zeros } from 'comfy8/node-api';
export class Echo {
  static INPUT_TYPES() { return { required: { text: ['STRING', { default: 'hi' }] } }; }
  static RETURN_TYPES = ['STRING'];
  static FUNCTION = 'run';
  static CATEGORY = 'testing/plugins';
  static OUTPUT_NODE = true;
  run({ text }) { return { ui: { text: [JSON.stringify({ echoed: text })] }, result: [text] }; }
}
export class AsyncAdd {
  static INPUT_TYPES() { return { required: { a: ['INT', { default: 1 }], b: ['INT', { default: 2 }] } }; }
  static RETURN_TYPES = ['INT'];
  static RETURN_NAMES = ['sum'];
  static FUNCTION = 'add';
  static OUTPUT_NODE = true;
  async add({ a, b }) { await new Promise((r) => setTimeout(r, 5)); return { ui: { text: [JSON.stringify({ sum: a + b })] }, result: [a + b] }; }
}
/** Reports the mean of an image; 'after' only orders it after another node. */
export class ImageMean {
  static INPUT_TYPES() { return { required: { image: ['IMAGE'] }, optional: { after: ['IMAGE'], label: ['STRING', { default: '' }] } }; }
  static RETURN_TYPES = [];
  static FUNCTION = 'mean';
  static OUTPUT_NODE = true;
  mean({ image }) {
    let s = 0;
    for (const v of image.data) s += v;
    return { ui: { text: [JSON.stringify({ mean: s / image.data.length })] } };
  }
}
/** Overwrites its input image in place, then returns it. */
export class MutateInPlace {
  static INPUT_TYPES() { return { required: { image: ['IMAGE'] } }; }
  static RETURN_TYPES = ['IMAGE'];
  static FUNCTION = 'mutate';
  mutate({ image }) { image.data.fill(0.25); return [image]; }
}
/** A LATENT with FP8 samples: e4m3fn codes of 1, 2, -1, 1.5, 2^-9, 0. */
export class Fp8LatentSource {
  static INPUT_TYPES() { return { required: {} }; }
  static RETURN_TYPES = ['LATENT'];
  static FUNCTION = 'make';
  static ACCEPTS_FP8 = true;
  make() {
    return [{ samples: { dtype: 'float8_e4m3fn', shape: [1, 1, 2, 3], data: Uint8Array.from([0x38, 0x40, 0xb8, 0x3c, 0x01, 0x00]) } }];
  }
}
function probe(latent) {
  const s = latent.samples;
  return { ui: { text: [JSON.stringify({ dtype: s.dtype, shape: s.shape, data: Array.from(s.data) })] } };
}
export class GuardedLatentProbe {
  static INPUT_TYPES() { return { required: { latent: ['LATENT'] } }; }
  static RETURN_TYPES = [];
  static FUNCTION = 'probe';
  static OUTPUT_NODE = true;
  probe({ latent }) { return probe(latent); }
}
export class Fp8LatentProbe {
  static INPUT_TYPES() { return { required: { latent: ['LATENT'] } }; }
  static RETURN_TYPES = [];
  static FUNCTION = 'probe';
  static OUTPUT_NODE = true;
  static ACCEPTS_FP8 = true;
  probe({ latent }) { return probe(latent); }
}
export class Fp32LatentProbe {
  static INPUT_TYPES() { return { required: { latent: ['LATENT'] } }; }
  static RETURN_TYPES = [];
  static FUNCTION = 'probe';
  static OUTPUT_NODE = true;
  static REQUIRES_FP32 = true;
  probe({ latent }) { return probe(latent); }
}
/** VALIDATE_INPUTS takes n (destructured), so n's max is not enforced by the built-in check. */
export class EvenOnly {
  static INPUT_TYPES() { return { required: { n: ['INT', { default: 2, min: 0, max: 10 }] } }; }
  static RETURN_TYPES = ['INT'];
  static FUNCTION = 'run';
  static OUTPUT_NODE = true;
  static VALIDATE_INPUTS({ n }) { return n % 2 === 0 || \`n must be even, got \${n}\`; }
  run({ n }) { return { ui: { text: [JSON.stringify({ n })] }, result: [n] }; }
}
let calls = 0;
/** IS_CHANGED = NaN: runs on every prompt; counts its runs. */
export class AlwaysRuns {
  static INPUT_TYPES() { return { required: {} }; }
  static RETURN_TYPES = ['INT'];
  static FUNCTION = 'run';
  static OUTPUT_NODE = true;
  static IS_CHANGED() { return NaN; }
  run() { calls += 1; return { ui: { text: [JSON.stringify({ calls })] }, result: [calls] }; }
}
/** OUTPUT_IS_LIST: one STRING per word. */
export class SplitWords {
  static INPUT_TYPES() { return { required: { text: ['STRING', { default: 'a b' }] } }; }
  static RETURN_TYPES = ['STRING'];
  static OUTPUT_IS_LIST = [true];
  static FUNCTION = 'split';
  split({ text }) { return [text.split(' ')]; }
}
/** INPUT_IS_LIST: gets every word at once. */
export class JoinWords {
  static INPUT_TYPES() { return { required: { words: ['STRING', { forceInput: true }] } }; }
  static RETURN_TYPES = [];
  static INPUT_IS_LIST = true;
  static FUNCTION = 'join';
  static OUTPUT_NODE = true;
  join({ words }) { return { ui: { text: [JSON.stringify({ joined: words.join('+'), zeros: zeros('float32', [2]).data.length })] } }; }
}
/** Blocks its consumers, with the pack's own import of ExecutionBlocker. */
export class Blocker {
  static INPUT_TYPES() { return { required: { text: ['STRING', { default: 'x' }] } }; }
  static RETURN_TYPES = ['STRING'];
  static FUNCTION = 'block';
  block() { return [new ExecutionBlocker(null)]; }
}
export const NODE_CLASS_MAPPINGS = { SplitWords, JoinWords, Blocker, EvenOnly, AlwaysRuns, Echo, AsyncAdd, ImageMean, MutateInPlace, Fp8LatentSource, GuardedLatentProbe, Fp8LatentProbe, Fp32LatentProbe };
export const NODE_DISPLAY_NAME_MAPPINGS = { Echo: 'Echo (plugin)' };
`);

/** Nodes that misbehave at run time, each in one way. */
export const MISBEHAVING_PACK = js(`
const image = (shape, v = 0.5) => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
const node = (returnTypes, fn, extra = {}) => Object.assign({
  INPUT_TYPES: () => ({ required: { x: ['INT', { default: 0 }] } }),
  RETURN_TYPES: returnTypes,
  FUNCTION: 'run',
  OUTPUT_NODE: true,
  run: fn,
}, extra);
export const NODE_CLASS_MAPPINGS = {
  WrongType: node(['IMAGE'], () => ['not an image']),
  WrongShape: node(['IMAGE'], () => [image([4, 4, 3])]),
  OutOfRange: node(['IMAGE'], () => [image([1, 2, 2, 3], 1.5)]),
  WrongCount: node(['INT', 'INT'], () => [1]),
  NotAList: node(['INT'], () => 42),
  FloatForInt: node(['INT'], () => [2.5]),
  Throws: node(['INT'], () => { throw new TypeError('plugin exploded'); }),
  ReturnsNaN: node(['LATENT'], () => [{ samples: { dtype: 'float32', shape: [1, 1, 1, 2], data: Float32Array.from([0, NaN]) } }]),
  WarnsNaN: node(['FLOAT'], () => [Infinity], { NAN_POLICY: 'warn' }),
  NeverReturns: node(['INT'], () => new Promise(() => {})),
};
`);

export const SYNTAX_ERROR_PACK = js(`export const NODE_CLASS_MAPPINGS = {{ ;`);
export const THROWS_AT_IMPORT_PACK = js(`throw new Error('kaboom at import');`);
export const EXPORTS_NOTHING_PACK = js(`export const somethingElse = 1;`);

const simple = (name: string) => `{
  INPUT_TYPES: () => ({ required: {} }),
  RETURN_TYPES: ['STRING'],
  FUNCTION: 'run',
  OUTPUT_NODE: true,
  run: () => ({ ui: { text: [JSON.stringify({ from: '${name}' })] }, result: ['${name}'] }),
}`;

/** Claims a built-in's name (SaveImage) and a name shared with DUP_B. */
export const DUP_A_PACK = js(`export const NODE_CLASS_MAPPINGS = { SaveImage: ${simple('dup-a')}, SharedName: ${simple('dup-a')}, OnlyInA: ${simple('dup-a')} };`);
export const DUP_B_PACK = js(`export const NODE_CLASS_MAPPINGS = { SharedName: ${simple('dup-b')}, OnlyInB: ${simple('dup-b')} };`);

/** One good node among declarations broken in every field the loader checks. */
export const BAD_DECLARATIONS_PACK = js(`
const base = () => ({ INPUT_TYPES: () => ({ required: {} }), RETURN_TYPES: ['INT'], FUNCTION: 'run', run: () => [1] });
const bad = (patch) => Object.assign(base(), patch);
export const NODE_CLASS_MAPPINGS = {
  StillGood: base(),
  NoInputTypes: bad({ INPUT_TYPES: undefined }),
  InputTypesThrows: bad({ INPUT_TYPES: () => { throw new Error('no inputs today'); } }),
  BadInputSpec: bad({ INPUT_TYPES: () => ({ required: { a: 'INT' } }) }),
  BadGroup: bad({ INPUT_TYPES: () => ({ requird: {} }) }),
  NoReturnTypes: bad({ RETURN_TYPES: undefined }),
  ReturnTypesString: bad({ RETURN_TYPES: 'INT' }),
  MissingMethod: bad({ FUNCTION: 'nothere' }),
  NoFunction: bad({ FUNCTION: undefined }),
  NamesLength: bad({ RETURN_NAMES: ['a', 'b'] }),
  ListFlags: bad({ OUTPUT_IS_LIST: [1] }),
  OutputNodeString: bad({ OUTPUT_NODE: 'yes' }),
  CategoryNumber: bad({ CATEGORY: 7 }),
  BadNanPolicy: bad({ NAN_POLICY: 'explode' }),
  IsChangedNotFn: bad({ IS_CHANGED: 3 }),
  NullClass: null,
};
`);

/** A TypeScript single-folder pack with types, loaded through tsx. */
export const TS_PACK: PackFiles = {
  'index.ts': `
interface Inputs { count: number }
export class Countdown {
  static INPUT_TYPES() { return { required: { count: ['INT', { default: 3, min: 0, max: 10 }] } }; }
  static RETURN_TYPES = ['STRING'] as const;
  static FUNCTION = 'run';
  static OUTPUT_NODE = true;
  run({ count }: Inputs): { ui: { text: string[] }; result: [string] } {
    const text: string = Array.from({ length: count }, (_, i) => count - i).join(',');
    return { ui: { text: [JSON.stringify({ text })] }, result: [text] };
  }
}
export const NODE_CLASS_MAPPINGS = { Countdown };
`,
};

/** A single-file .mjs pack with a lazy input and check_lazy_status. */
export const LAZY_SINGLE_FILE = `
export const NODE_CLASS_MAPPINGS = {
  LazySwitch: {
    INPUT_TYPES: () => ({ required: { use_b: ['BOOLEAN', { default: false }], a: ['STRING', { lazy: true }], b: ['STRING', { lazy: true }] } }),
    RETURN_TYPES: ['STRING'],
    FUNCTION: 'pick',
    OUTPUT_NODE: true,
    check_lazy_status({ use_b }) { return [use_b ? 'b' : 'a']; },
    pick({ use_b, a, b }) { return { ui: { text: [JSON.stringify({ picked: use_b ? b : a, other: use_b ? a ?? null : b ?? null })] }, result: [use_b ? b : a] }; },
  },
};
`;

/** Frontend-only pack (no nodes) whose name needs URL quoting. */
export const WEB_PACK: PackFiles = {
  'index.js': `export const WEB_DIRECTORY = './web'; export const NODE_CLASS_MAPPINGS = {};`,
  'web/js/ext.js': `// extension\nexport const loaded = true;\n`,
  'web/js/nested/deep.js': `export const deep = true;\n`,
  'web/style.css': `body {}\n`,
};
