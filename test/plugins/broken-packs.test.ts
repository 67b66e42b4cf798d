import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { runPrompt, startPluginServer, uiJson, type PluginServer } from './helpers.js';
import {
  BAD_DECLARATIONS_PACK,
  DUP_A_PACK,
  DUP_B_PACK,
  EXPORTS_NOTHING_PACK,
  GOOD_PACK,
  LAZY_SINGLE_FILE,
  MISBEHAVING_PACK,
  SYNTAX_ERROR_PACK,
  THROWS_AT_IMPORT_PACK,
  TS_PACK,
} from './packs.js';

let t: PluginServer;
beforeAll(async () => {
  t = await startPluginServer({
    packs: {
      'good-pack': GOOD_PACK,
      misbehaving: MISBEHAVING_PACK,
      'syntax-error': SYNTAX_ERROR_PACK,
      'throws-at-import': THROWS_AT_IMPORT_PACK,
      'exports-nothing': EXPORTS_NOTHING_PACK,
      'dup-a': DUP_A_PACK,
      'dup-b': DUP_B_PACK,
      'bad-declarations': BAD_DECLARATIONS_PACK,
      'ts-pack': TS_PACK,
      'lazy-switch.mjs': LAZY_SINGLE_FILE,
      'switched-off.disabled': GOOD_PACK,
      'notes.txt': 'not a pack',
    },
  });
});
afterAll(async () => {
  await t.close();
});

const echo = (text = 'hi') => ({ '1': { class_type: 'Echo', inputs: { text } } });
const single = (classType: string) => ({ '1': { class_type: classType, inputs: { x: 0 } } });

async function expectServerStillServes(): Promise<void> {
  const run = await runPrompt(t.url, echo(`alive-${Math.random()}`));
  expect(run.types).toContain('execution_success');
  expect((await request(t.url).get('/object_info/Echo')).body).toHaveProperty('Echo');
}

describe('loading packs broken in every way', () => {
  it("prints ComfyUI's import summary with (IMPORT FAILED) for the packs that did not import", () => {
    const log = t.logText();
    expect(log).toContain('\nImport times for custom nodes:\n');
    const lines = log.split('\n').filter((l) => / seconds(?: \(IMPORT FAILED\))?: /.test(l));
    const failed = lines.filter((l) => l.includes('(IMPORT FAILED)')).map((l) => l.split('/').pop());
    expect(failed.sort()).toEqual(['exports-nothing', 'syntax-error', 'throws-at-import']);
    expect(lines).toHaveLength(10);
    for (const line of lines) expect(line).toMatch(/^ {2}\s*\d+\.\d seconds/);
    expect(log).toContain('kaboom at import');
    expect(log).toContain('due to the lack of NODE_CLASS_MAPPINGS');
    expect(log).not.toContain('switched-off');
  });

  it('reports every pack with its nodes and problems', () => {
    const byName = Object.fromEntries(t.server.plugins.packs.map((p) => [p.name, p]));
    expect(byName['good-pack']).toMatchObject({ ok: true, problems: [] });
    expect(byName['ts-pack']).toMatchObject({ ok: true, nodes: ['Countdown'] });
    expect(byName['lazy-switch']).toMatchObject({ ok: true, nodes: ['LazySwitch'] });
    expect(byName['syntax-error']!.ok).toBe(false);
    expect(byName['throws-at-import']!.problems[0]).toContain('kaboom at import');
  });

  it('keeps built-in names and the first pack of a shared name; the other nodes of those packs load', async () => {
    const info = (await request(t.url).get('/object_info')).body;
    expect(info['SaveImage'].python_module).toBe('nodes');
    expect(info['SharedName'].python_module).toBe('custom_nodes.dup-a');
    expect(info['OnlyInA'].python_module).toBe('custom_nodes.dup-a');
    expect(info['OnlyInB'].python_module).toBe('custom_nodes.dup-b');
    const log = t.logText();
    expect(log).toContain("custom_nodes.dup-a: node 'SaveImage' skipped: a built-in node has that name");
    expect(log).toContain("custom_nodes.dup-b: node 'SharedName' skipped: pack 'dup-a' already defines it");
    const run = await runPrompt(t.url, { '1': { class_type: 'SharedName', inputs: {} } });
    expect(uiJson(run, '1')).toEqual({ from: 'dup-a' });
  });

  it('drops each bad declaration with a message naming pack, node and field, and keeps the good node', async () => {
    const info = (await request(t.url).get('/object_info')).body;
    expect(info['StillGood']).toMatchObject({ python_module: 'custom_nodes.bad-declarations', category: 'sd', output: ['INT'] });
    const expected: Record<string, string> = {
      NoInputTypes: 'INPUT_TYPES must be a function',
      InputTypesThrows: 'INPUT_TYPES() threw: no inputs today',
      BadInputSpec: 'INPUT_TYPES().required.a must be [TYPE] or [TYPE, options]',
      BadGroup: "INPUT_TYPES() has unknown group 'requird'",
      NoReturnTypes: 'RETURN_TYPES must be a list',
      ReturnTypesString: 'RETURN_TYPES must be a list',
      MissingMethod: "FUNCTION names 'nothere', but the node has no such method",
      NoFunction: 'FUNCTION must name the method',
      NamesLength: 'RETURN_NAMES has 2 entries but RETURN_TYPES has 1',
      ListFlags: 'OUTPUT_IS_LIST must be a list of booleans',
      OutputNodeString: 'OUTPUT_NODE must be true or false',
      CategoryNumber: 'CATEGORY must be a string',
      BadNanPolicy: 'NAN_POLICY must be one of fail, warn, ignore',
      IsChangedNotFn: 'IS_CHANGED must be a function',
      NullClass: 'NODE_CLASS_MAPPINGS value must be a class or an object',
    };
    const problems = t.server.plugins.packs.find((p) => p.name === 'bad-declarations')!.problems;
    for (const [node, text] of Object.entries(expected)) {
      expect(info[node], node).toBeUndefined();
      expect(problems.some((p) => p.startsWith(`custom_nodes.bad-declarations: node '${node}' dropped: `) && p.includes(text)), `${node}: ${text}`).toBe(true);
    }
  });

  it('registers plugin nodes in ComfyUI shape, display names included', async () => {
    const info = (await request(t.url).get('/object_info/AsyncAdd')).body['AsyncAdd'];
    expect(info).toMatchObject({ python_module: 'custom_nodes.good-pack', output: ['INT'], output_name: ['sum'], output_node: true, category: 'sd' });
    expect((await request(t.url).get('/object_info/Echo')).body['Echo'].display_name).toBe('Echo (plugin)');
  });
});

describe('running plugin nodes', () => {
  it('runs sync, async, TypeScript and lazy nodes', async () => {
    expect(uiJson(await runPrompt(t.url, echo('yo')), '1')).toEqual({ echoed: 'yo' });
    expect(uiJson(await runPrompt(t.url, { '1': { class_type: 'AsyncAdd', inputs: { a: 40, b: 2 } } }), '1')).toEqual({ sum: 42 });
    expect(uiJson(await runPrompt(t.url, { '1': { class_type: 'Countdown', inputs: { count: 3 } } }), '1')).toEqual({ text: '3,2,1' });
    const lazy = await runPrompt(t.url, {
      '1': { class_type: 'Echo', inputs: { text: 'A' } },
      '2': { class_type: 'Echo', inputs: { text: 'B' } },
      '3': { class_type: 'LazySwitch', inputs: { use_b: true, a: ['1', 0], b: ['2', 0] } },
    });
    expect(uiJson(lazy, '3')).toEqual({ picked: 'B', other: null });
  });

  it('honours INPUT_IS_LIST / OUTPUT_IS_LIST, and an ExecutionBlocker from the pack\'s own import of comfy8/node-api', async () => {
    const lists = await runPrompt(t.url, {
      '1': { class_type: 'SplitWords', inputs: { text: 'red green blue' } },
      '2': { class_type: 'JoinWords', inputs: { words: ['1', 0] } },
    });
    expect(uiJson(lists, '2')).toEqual({ joined: 'red+green+blue', zeros: 2 });
    const blocked = await runPrompt(t.url, {
      '1': { class_type: 'Blocker', inputs: { text: 'x' } },
      '2': { class_type: 'Echo', inputs: { text: ['1', 0] } },
    });
    expect(blocked.types).toContain('execution_success');
    expect(blocked.outputs['2']).toBeUndefined();
  });

  it('calls VALIDATE_INPUTS with the inputs it destructures, and IS_CHANGED NaN re-runs the node', async () => {
    const bad = await request(t.url).post('/prompt').send({ prompt: { '1': { class_type: 'EvenOnly', inputs: { n: 3 } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.node_errors['1'].errors[0]).toMatchObject({ type: 'custom_validation_failed', details: 'n - n must be even, got 3' });
    // n = 12 exceeds max 10, but a validator taking n replaces the built-in range check (as in ComfyUI).
    expect(uiJson(await runPrompt(t.url, { '1': { class_type: 'EvenOnly', inputs: { n: 12 } } }), '1')).toEqual({ n: 12 });
    const first = uiJson(await runPrompt(t.url, { '1': { class_type: 'AlwaysRuns', inputs: {} } }), '1') as { calls: number };
    const second = uiJson(await runPrompt(t.url, { '1': { class_type: 'AlwaysRuns', inputs: {} } }), '1') as { calls: number };
    expect(second.calls).toBe(first.calls + 1);
  });

  const failures: [string, string, string][] = [
    ['WrongType', 'PluginTypeError', "output 0 (IMAGE): IMAGE must be a float32 tensor [B, H, W, C], got 'not an image'"],
    ['WrongShape', 'PluginTypeError', 'IMAGE must be a float32 tensor [B, H, W, C], got float32 [4, 4, 3]'],
    ['OutOfRange', 'PluginTypeError', 'IMAGE values must lie in 0..1 (clamp them), got 1.5'],
    ['WrongCount', 'PluginTypeError', 'returned 1 values, but RETURN_TYPES declares 2'],
    ['NotAList', 'PluginTypeError', 'must return a list with one value per RETURN_TYPES entry'],
    ['FloatForInt', 'PluginTypeError', 'INT must be an integer number, got number 2.5'],
    ['Throws', 'TypeError', 'plugin exploded'],
    ['ReturnsNaN', 'PluginNonFiniteError', 'output 0 (LATENT) holds a non-finite value: samples element 1'],
  ];
  it.each(failures)('%s fails with an execution_error naming pack and node; the server keeps serving', async (node, type, text) => {
    const run = await runPrompt(t.url, single(node));
    expect(run.types).toContain('execution_error');
    expect(run.error).toMatchObject({ node_id: '1', node_type: node, exception_type: type });
    expect(String(run.error!['exception_message'])).toContain(`[custom_nodes.misbehaving] ${node}: `);
    expect(String(run.error!['exception_message'])).toContain(text);
    await expectServerStillServes();
  });

  it('warns about NaN/Inf instead of failing for a node with NAN_POLICY warn', async () => {
    const run = await runPrompt(t.url, single('WarnsNaN'));
    expect(run.types).toContain('execution_success');
    expect(t.logText()).toContain('[custom_nodes.misbehaving] WarnsNaN: output 0 (FLOAT) holds a non-finite value: value = Infinity');
  });

  it('stops a node that never returns when the prompt is interrupted', async () => {
    const run = await runPrompt(t.url, single('NeverReturns'), async () => {
      expect((await request(t.url).post('/interrupt').send({})).status).toBe(200);
    });
    expect(run.types).toContain('execution_interrupted');
    expect(run.types).not.toContain('execution_success');
    await expectServerStillServes();
  });

  it("hands copies to plugins: a node mutating its input cannot corrupt another node's (cached) value", async () => {
    const prompt = {
      '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0xffffff } },
      '2': { class_type: 'MutateInPlace', inputs: { image: ['1', 0] } },
      '3': { class_type: 'ImageMean', inputs: { image: ['1', 0], after: ['2', 0] } },
      '4': { class_type: 'ImageMean', inputs: { image: ['2', 0] } },
    };
    const first = await runPrompt(t.url, prompt);
    expect(uiJson(first, '3')).toEqual({ mean: 1 });
    expect(uiJson(first, '4')).toEqual({ mean: 0.25 });
    // Node 1 is now a cache hit: its cached value must still be white.
    const second = await runPrompt(t.url, { ...prompt, '5': { class_type: 'ImageMean', inputs: { image: ['1', 0], after: ['2', 0], label: 'again' } } });
    expect(second.types).toContain('execution_cached');
    expect(uiJson(second, '5')).toEqual({ mean: 1 });
  });
});
