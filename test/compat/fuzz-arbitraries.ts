/**
 * fast-check arbitraries for POST /prompt bodies: random JSON values, random body objects,
 * near-valid prompts (weight-free templates with 1–3 mutations: wrong types, missing fields, huge
 * numbers, NaN-like strings, `__value__` wrappers, random links, cycles, unknown classes, odd node
 * ids, long chains), deep nesting, and malformed JSON bytes. Every case is raw bytes plus a label.
 */
import fc from 'fast-check';
import type { ApiPrompt } from './compat-helpers.js';

export interface FuzzCase {
  label: string;
  body: Buffer;
}

const text = (label: string) => (value: unknown): FuzzCase => ({ label, body: Buffer.from(JSON.stringify(value), 'utf8') });

/** A file the LoadImage template names; the test puts it into the input directory. */
export const FUZZ_INPUT_IMAGE = 'fuzz.png';

function templates(): ApiPrompt[] {
  return [
    {
      '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 255 } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'fuzz' } },
    },
    {
      '1': { class_type: 'EmptySD3LatentImage', inputs: { width: 16, height: 16, batch_size: 1 } },
      '2': { class_type: 'SaveLatent', inputs: { samples: ['1', 0], filename_prefix: 'latents/fuzz' } },
    },
    {
      '1': { class_type: 'LoadImage', inputs: { image: FUZZ_INPUT_IMAGE } },
      '2': { class_type: 'ImageScale', inputs: { image: ['1', 0], upscale_method: 'nearest-exact', width: 4, height: 4, crop: 'disabled' } },
      '3': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
    },
    {
      '1': { class_type: 'SolidMask', inputs: { value: 0.5, width: 8, height: 8 } },
      '2': { class_type: 'MaskToImage', inputs: { mask: ['1', 0] } },
      '3': { class_type: 'ImageCrop', inputs: { image: ['2', 0], width: 4, height: 4, x: 1, y: 1 } },
      '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
    },
  ];
}

const KNOWN_CLASSES = ['EmptyImage', 'ImageInvert', 'SaveImage', 'PreviewImage', 'LoadImage', 'EmptySD3LatentImage', 'SaveLatent', 'SolidMask', 'MaskToImage', 'ImageBatch', 'ImageScale', 'LatentUpscale', 'RepeatLatentBatch', 'ImageToMask', 'InvertMask'];
const FOREIGN_CLASSES = ['KSampler', 'CheckpointLoaderSimple', 'VAEDecode', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'Object', '', ' SaveImage', 'saveimage'];
const ODD_IDS = ['__proto__', 'constructor', 'toString', '', '0', '-1', '1.5', ' 1', '5.0.0.1', '12:5', '9'.repeat(40), 'ü', '1\u0000'];
const SLOTS = [0, 1, 2, -1, 99, 1.5, '0', null, 2 ** 53];

const numberish = fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 53), 1e308, -1e308, 1.5, 0.1, 16384, 16385, 4096, 4097, 0xffffff, 0x1000000, Number.MIN_VALUE);
const nanLike = fc.constantFrom('NaN', 'nan', '-nan', 'Infinity', '-inf', 'inf', '1e999', '-1e999', '', ' 12 ', '1_000', '0x10', '12abc', '3.5', 'true', 'None', 'null', '٣');
const fileish = fc.constantFrom(FUZZ_INPUT_IMAGE, `${FUZZ_INPUT_IMAGE} [input]`, `${FUZZ_INPUT_IMAGE} [output]`, 'missing.png', '../../etc/passwd', '/etc/passwd', 'sub/../fuzz.png', 'C:\\x.png', 'a\u0000.png', '.', '..');
const linkish = fc.oneof(
  fc.tuple(fc.constantFrom('1', '2', '3', '4', '999', '', '__proto__', 'constructor'), fc.constantFrom(...SLOTS)),
  fc.tuple(fc.integer({ min: -2, max: 5 }), fc.integer({ min: -1, max: 3 })),
  fc.array(fc.constantFrom('1', 0, null), { minLength: 0, maxLength: 4 }),
);

/** Values an input may be set to. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: numberish, weight: 3 },
  { arbitrary: nanLike, weight: 3 },
  { arbitrary: fc.constantFrom(true, false, null, [], {}), weight: 2 },
  { arbitrary: fc.record({ __value__: fc.jsonValue({ maxDepth: 2 }) }), weight: 1 },
  { arbitrary: fc.record({ __value__: fc.oneof(numberish, nanLike) }), weight: 1 },
  { arbitrary: linkish, weight: 4 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.nat(20_000).map((n) => 'x'.repeat(n)), weight: 1 },
  { arbitrary: fileish, weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
);

/** Sets an own enumerable key even when it is `__proto__` (so JSON.stringify writes it). */
function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

type Mutation = (p: Record<string, unknown>, pick: number, value: unknown) => void;

function nodeAt(p: Record<string, unknown>, pick: number): Record<string, unknown> | undefined {
  const ids = Object.keys(p);
  const node = ids.length ? p[ids[pick % ids.length]!] : undefined;
  return node && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
}

function inputsAt(p: Record<string, unknown>, pick: number): Record<string, unknown> | undefined {
  const inputs = nodeAt(p, pick)?.['inputs'];
  return inputs && typeof inputs === 'object' && !Array.isArray(inputs) ? (inputs as Record<string, unknown>) : undefined;
}

const MUTATIONS: Record<string, Mutation> = {
  setInput(p, pick, value) {
    const inputs = inputsAt(p, pick);
    const names = inputs ? Object.keys(inputs) : [];
    if (inputs && names.length) inputs[names[Math.floor(pick / 7) % names.length]!] = value;
  },
  deleteInput(p, pick) {
    const inputs = inputsAt(p, pick);
    const names = inputs ? Object.keys(inputs) : [];
    if (inputs && names.length) delete inputs[names[Math.floor(pick / 7) % names.length]!];
  },
  oddInputName(p, pick, value) {
    const inputs = inputsAt(p, pick);
    if (inputs) setKey(inputs, ['__proto__', 'constructor', 'images ', 'IMAGE', ''][pick % 5]!, value);
  },
  deleteClass(p, pick) {
    delete nodeAt(p, pick)?.['class_type'];
  },
  foreignClass(p, pick) {
    const node = nodeAt(p, pick);
    if (node) node['class_type'] = FOREIGN_CLASSES[Math.floor(pick / 3) % FOREIGN_CLASSES.length];
  },
  swapClass(p, pick) {
    const node = nodeAt(p, pick);
    if (node) node['class_type'] = KNOWN_CLASSES[Math.floor(pick / 3) % KNOWN_CLASSES.length];
  },
  weirdClass(p, pick, value) {
    const node = nodeAt(p, pick);
    if (node) node['class_type'] = value;
  },
  weirdInputs(p, pick, value) {
    const node = nodeAt(p, pick);
    if (node) node['inputs'] = Array.isArray(value) || typeof value !== 'object' ? value : null;
  },
  replaceNode(p, pick, value) {
    const ids = Object.keys(p);
    if (ids.length) p[ids[pick % ids.length]!] = value;
  },
  renameNode(p, pick) {
    const ids = Object.keys(p);
    if (!ids.length) return;
    const id = ids[pick % ids.length]!;
    const node = p[id];
    delete p[id];
    setKey(p, ODD_IDS[Math.floor(pick / 5) % ODD_IDS.length]!, node);
  },
  cycle(p, pick) {
    // Point a link input of some node at a node downstream of it (or at itself).
    const ids = Object.keys(p);
    const inputs = inputsAt(p, pick);
    const linkName = inputs && Object.keys(inputs).find((k) => Array.isArray(inputs[k]));
    if (inputs && linkName) inputs[linkName] = [ids[Math.floor(pick / 3) % ids.length]!, 0];
  },
  addNode(p, pick, value) {
    const cls = KNOWN_CLASSES[pick % KNOWN_CLASSES.length];
    setKey(p, String(100 + (pick % 50)), { class_type: cls, inputs: { image: ['1', 0], images: value, mask: ['1', 0], samples: value } });
  },
  chain(p, pick) {
    // ImageInvert × n between node 1 and every consumer of it.
    const n = 1 + (pick % 400);
    for (let i = 0; i < n; i++) p[`c${i}`] = { class_type: 'ImageInvert', inputs: { image: [i === 0 ? '1' : `c${i - 1}`, 0] } };
    for (const [id, node] of Object.entries(p)) {
      const inputs = (node as { inputs?: Record<string, unknown> })?.inputs;
      if (!id.startsWith('c') && inputs) for (const [k, v] of Object.entries(inputs)) if (Array.isArray(v) && v[0] === '1') inputs[k] = [`c${n - 1}`, 0];
    }
  },
  meta(p, pick, value) {
    const node = nodeAt(p, pick);
    if (node) node[['_meta', 'is_changed', 'override_display_id'][pick % 3]!] = pick % 2 ? value : { title: value };
  },
};

const mutationNames = Object.keys(MUTATIONS);

const mutationStep = fc.record({ name: fc.constantFrom(...mutationNames), pick: fc.nat(10_000), value: weirdValue });

/** Body-level fields a near-valid prompt may carry. */
const bodyExtras = fc.record(
  {
    client_id: fc.oneof(fc.uuid(), weirdValue),
    extra_data: fc.oneof(fc.record({ extra_pnginfo: fc.jsonValue({ maxDepth: 3 }) }), weirdValue),
    number: fc.oneof(numberish, nanLike, weirdValue),
    front: weirdValue,
    partial_execution_targets: fc.oneof(fc.array(fc.constantFrom('1', '2', '3', '4', 'c0', '999', 1, null)), weirdValue),
    prompt_id: fc.oneof(fc.uuid(), fc.constantFrom('not-a-uuid', '6F0C6F0C-6F0C-4F0C-8F0C-6F0C6F0C6F0C', ''), weirdValue),
  },
  { requiredKeys: [] },
);

export const nearValidPrompt: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.nat(templates().length - 1), fc.array(mutationStep, { minLength: 1, maxLength: 3 }), fc.option(bodyExtras, { freq: 3 }))
  .map(([templateIndex, steps, extras]) => {
    const prompt = templates()[templateIndex] as unknown as Record<string, unknown>;
    for (const step of steps) MUTATIONS[step.name]!(prompt, step.pick, step.value);
    return text(`near-valid:${steps.map((s) => s.name).join('+')}`)({ ...(extras ?? {}), prompt });
  });

export const randomJson: fc.Arbitrary<FuzzCase> = fc.jsonValue({ maxDepth: 5 }).map(text('random-json'));

export const randomBody: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.record({ class_type: fc.oneof(fc.constantFrom(...KNOWN_CLASSES), fc.string()), inputs: fc.dictionary(fc.string({ maxLength: 8 }), weirdValue) })), weirdValue), bodyExtras)
  .map(([prompt, extras]) => text('random-body')({ ...extras, prompt }));

/** Nesting `depth` levels deep as JSON text (built as text so no encoder recursion is involved). */
function nested(depth: number, kind: 'array' | 'object' | 'value'): string {
  if (kind === 'array') return '['.repeat(depth) + '1' + ']'.repeat(depth);
  if (kind === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  return '{"__value__":'.repeat(depth) + '[1]' + '}'.repeat(depth);
}

/** Places a deep value at one spot of an otherwise valid body. */
function deepBody(depth: number, kind: 'array' | 'object' | 'value', where: number): string {
  const deep = nested(depth, kind);
  const spots = [
    `{"prompt": ${deep}}`,
    `{"prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": ${deep}, "height": 8, "batch_size": 1, "color": 0}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}}`,
    `{"prompt": {"1": {"class_type": "SaveImage", "inputs": {"images": ${deep}, "filename_prefix": "x"}}}}`,
    `{"prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}, "extra_data": ${deep}}`,
    `{"prompt": {"1": {"class_type": ${deep}, "inputs": {}}}}`,
    `{"prompt": {"1": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": ${deep}}}}}`,
    `{"prompt": {"1": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}, "_meta": ${deep}}, "2": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}, "partial_execution_targets": ${deep}}`,
  ];
  return spots[where % spots.length]!;
}

/** Depth ≤ 900: within what ComfyUI's Python parser and validator handle, so 200/400 only. */
export const deepNesting: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.integer({ min: 20, max: 900 }), fc.constantFrom('array' as const, 'object' as const, 'value' as const), fc.nat(100))
  .map(([depth, kind, where]) => ({ label: `deep:${kind}:${depth}:${where % 7}`, body: Buffer.from(deepBody(depth, kind, where)) }));

/** Far deeper than any real client sends (ComfyUI itself answers 500 here): only survival counts. */
export const extremeNesting: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.integer({ min: 5_000, max: 100_000 }), fc.constantFrom('array' as const, 'object' as const, 'value' as const), fc.nat(100))
  .map(([depth, kind, where]) => ({ label: `extreme:${kind}:${depth}:${where % 7}`, body: Buffer.from(deepBody(depth, kind, where)) }));

const validBodyText = JSON.stringify({ prompt: templates()[0], client_id: 'x', extra_data: { extra_pnginfo: { workflow: { nodes: [] } } } });

export const malformedJson: fc.Arbitrary<FuzzCase> = fc.oneof(
  fc.integer({ min: 1, max: validBodyText.length - 1 }).map((cut) => ({ label: 'malformed:truncated', body: Buffer.from(validBodyText.slice(0, cut)) })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ label: 'malformed:bytes', body: Buffer.from(bytes) })),
  fc.string({ maxLength: 80 }).map((s) => ({ label: 'malformed:string', body: Buffer.from(s) })),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ufeff' + validBodyText,
    validBodyText.replace('}', ',}'),
    validBodyText.replaceAll('"', "'"),
    '{"prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": NaN, "height": 8, "batch_size": 1, "color": 0}}}}',
    '{"prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": Infinity, "height": 8, "batch_size": 1, "color": 0}}}}',
    '{"prompt": {}} // comment',
    '{"prompt": {}}{"prompt": {}}',
    'prompt=%7B%7D',
    '{"prompt": "\\ud800"',
    '{"prompt": {"1": undefined}}',
  ).map((s) => ({ label: 'malformed:classic', body: Buffer.from(s) })),
);

/**
 * Large but sane bodies: long strings, long chains, cycles through many nodes. Rings stay at a
 * few hundred nodes: every node of a cycle reports the whole cycle path (spec §3.2 step 4), so the
 * 400 reply grows with the square of the ring (1,780 nodes → a 180 MB reply, tens of seconds).
 */
export const bigBodies: fc.Arbitrary<FuzzCase> = fc.oneof(
  fc.integer({ min: 100_000, max: 1_000_000 }).map((n) => text('big:prefix')({ prompt: { ...templates()[0], '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'p'.repeat(n) } } } })),
  fc.integer({ min: 300, max: 2_500 }).map((n) => {
    const prompt: Record<string, unknown> = { '0': { class_type: 'EmptyImage', inputs: { width: 1, height: 1, batch_size: 1, color: 0 } } };
    for (let i = 1; i <= n; i++) prompt[String(i)] = { class_type: 'ImageInvert', inputs: { image: [String(i - 1), 0] } };
    prompt['out'] = { class_type: 'PreviewImage', inputs: { images: [String(n), 0] } };
    return text(`big:chain:${n}`)({ prompt });
  }),
  fc.integer({ min: 20, max: 200 }).map((n) => {
    const prompt: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) prompt[String(i)] = { class_type: 'PreviewImage', inputs: { images: [String((i + 1) % n), 0] } };
    return text(`big:ring:${n}`)({ prompt });
  }),
);
