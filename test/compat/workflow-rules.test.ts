/**
 * The conversion rules one by one, on the frontend's own test workflows (test/fixtures/workflows/
 * ui/fe_*.json) and small hand-made graphs: reroutes (legacy and native), PrimitiveNode values,
 * converted widgets, control values, subgraphs, group nodes, bypass routing, muting.
 */
import { describe, expect, it } from 'vitest';
import type { ApiPrompt } from '../../compat/api-types.js';
import { isApiPrompt, isUiWorkflow, processDynamicPrompt, workflowToPrompt, type UiWorkflow } from '../../compat/workflow/index.js';
import { mapWidgetValues, widgetPlan } from '../../compat/workflow/widgets.js';
import { objectInfo, readFixture } from './workflow-fixtures.js';

function convert(workflow: unknown, options = {}): ApiPrompt {
  const result = workflowToPrompt(workflow, objectInfo, options);
  if (!result.ok) throw new Error(`${result.error.message}: ${result.error.details}`);
  return result.prompt;
}

const ui = (name: string) => readFixture<UiWorkflow>(`ui/${name}`);

describe('reroutes', () => {
  it('legacy Reroute nodes and native reroutes give the same prompt', () => {
    const legacy = convert(ui('fe_reroute_legacy_branching.json'));
    expect(legacy['12']!.inputs['vae']).toEqual(['4', 2]);
    expect(legacy['26']!.inputs['vae']).toEqual(['4', 2]);
    expect(convert(ui('fe_reroute_native_branching.json'))).toStrictEqual(legacy);
    expect(convert(ui('fe_reroute_migration_native_single_connected.json'))).toStrictEqual(convert(ui('fe_reroute_migration_legacy_single_connected.json')));
  });

  it('a Reroute is never emitted', () => {
    const prompt = convert(ui('fe_reroute_legacy_branching.json'));
    expect(Object.values(prompt).map((n) => n.class_type).sort()).toEqual(['CheckpointLoaderSimple', 'VAEDecode', 'VAEDecode']);
  });
});

describe('widgets', () => {
  it('maps widgets_values through input_order, skipping the control value (old `true` form too)', () => {
    const prompt = convert(ui('fe_default.json'));
    expect(prompt['3']!.inputs).toMatchObject({ seed: 156680208700286, steps: 20, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1 });
    const raw = JSON.stringify(ui('fe_default.json').nodes.find((n) => n.type === 'KSampler')!.widgets_values);
    expect(raw).toContain('true');
  });

  it('a widget the saved node has no value for gets its default (or is left out on request)', () => {
    const wf = ui('fe_default.json');
    expect(wf.nodes.find((n) => n.type === 'SaveImage')!.widgets_values).toBeUndefined();
    expect(convert(wf)['9']!.inputs['filename_prefix']).toBe('ComfyUI');
    expect(convert(wf, { missingWidgets: 'omit' })['9']!.inputs).not.toHaveProperty('filename_prefix');
  });

  it('reads object-form widgets_values by name', () => {
    const plan = widgetPlan(objectInfo['KSampler']!);
    const mapped = mapWidgetValues(plan, { steps: 7, seed: 5, cfg: 2, sampler_name: 'euler', scheduler: 'karras', denoise: 0.5 });
    expect(Object.fromEntries(mapped.values)).toEqual({ seed: 5, steps: 7, cfg: 2, sampler_name: 'euler', scheduler: 'karras', denoise: 0.5 });
  });

  it('keeps a combo control value and its filter list out of the inputs', () => {
    const def = { ...objectInfo['KSamplerSelect']!, input: { required: { sampler_name: [['euler', 'ddim'], { control_after_generate: true }] } } } as never;
    expect(Object.fromEntries(mapWidgetValues(widgetPlan(def), ['ddim', 'randomize', '']).values)).toEqual({ sampler_name: 'ddim' });
    expect(Object.fromEntries(mapWidgetValues(widgetPlan(def), ['ddim', 'fixed']).values)).toEqual({ sampler_name: 'ddim' });
  });

  it('wraps list-valued widgets as {"__value__": [...]}', () => {
    const wf = ui('fe_core_smoke.json');
    const node = wf.nodes.find((n) => n.type === 'PrimitiveInt')!;
    node.widgets_values = [[1, 2, 3], 'fixed'];
    expect(convert(wf)['1']!.inputs['value']).toEqual({ __value__: [1, 2, 3] });
  });

  it('a PrimitiveNode pushes its value into the widget it drives, also through a Reroute', () => {
    const wf = ui('fe_primitive_node.json');
    wf.nodes.find((n) => n.type === 'PrimitiveNode')!.widgets_values = [33, 'fixed'];
    expect(convert(wf)['2']!.inputs['steps']).toBe(33);
    const viaReroute = ui('fe_old_workflow_converted_input.json');
    viaReroute.nodes.find((n) => n.type === 'PrimitiveNode')!.widgets_values = [0.25, 'fixed'];
    viaReroute.nodes.push({ id: 9, type: 'Reroute', mode: 0, inputs: [{ name: '', type: '*', link: 1 }], outputs: [{ name: '', type: 'FLOAT', links: [2] }] });
    (viaReroute.links as unknown[][]).push([2, 9, 0, 1, 4, 'FLOAT']);
    viaReroute.nodes.find((n) => n.id === 1)!.inputs![4]!.link = 2;
    (viaReroute.links as unknown[][])[0]![3] = 9;
    (viaReroute.links as unknown[][])[0]![4] = 0;
    expect(convert(viaReroute)['1']!.inputs['strength']).toBe(0.25);
  });

  it('a converted widget fed by a real node gets the link', () => {
    expect(convert(ui('fe_bad_link.json'))['4']!.inputs['steps']).toEqual(['5', 0]);
  });

  it('legacy workflows leave out converted widgets whose socket is unconnected; current ones keep them', () => {
    const wf = ui('fe_primitive_node.json');
    wf.nodes.find((n) => n.id === 2)!.inputs![4]!.link = null;
    expect(convert(wf)['2']!.inputs).not.toHaveProperty('steps');
    expect(convert(wf, { legacyConvertedWidgets: false })['2']!.inputs['steps']).toBe(20);
  });

  it('resolves dynamic prompts and strips comments in dynamicPrompts text widgets', () => {
    expect(processDynamicPrompt('a {red|blue|{green|teal}} cat // note', () => 0.99)).toBe('a teal cat ');
    expect(processDynamicPrompt('x /* hidden */y \\{kept\\}', () => 0)).toBe('x y {kept}');
    const wf = ui('fe_default.json');
    wf.nodes.find((n) => n.id === 6)!.widgets_values = ['a {red|blue} bottle'];
    expect(convert(wf, { dynamicPrompts: () => 0.6 })['6']!.inputs['text']).toBe('a blue bottle');
    expect(convert(wf, { dynamicPrompts: false })['6']!.inputs['text']).toBe('a {red|blue} bottle');
  });
});

describe('schema versions', () => {
  it('schema 1 (links as objects) converts like schema 0.4', () => {
    const wf = ui('fe_default.json');
    const v1 = {
      ...wf,
      version: 1,
      state: { lastNodeId: 9, lastLinkId: 9, lastGroupId: 0, lastRerouteId: 0 },
      links: (wf.links as unknown[][]).map(([id, origin_id, origin_slot, target_id, target_slot, type]) => ({ id, origin_id, origin_slot, target_id, target_slot, type })),
    };
    expect(convert(v1)).toStrictEqual(convert(wf));
  });
});

describe('modes', () => {
  it('drops muted nodes and the inputs linked to them', () => {
    const wf = ui('fe_default.json');
    wf.nodes.find((n) => n.id === 5)!.mode = 2; // EmptyLatentImage
    const prompt = convert(wf);
    expect(prompt['5']).toBeUndefined();
    expect(prompt['3']!.inputs).not.toHaveProperty('latent_image');
  });

  it('routes through a bypassed node by type', () => {
    const wf = ui('fe_model_free_execution.json');
    wf.nodes.find((n) => n.type === 'ImageScale')!.mode = 4;
    const prompt = convert(wf);
    expect(prompt['2']).toBeUndefined();
    expect(prompt['3']!.inputs['images']).toEqual(['1', 0]);
  });

  it('drops the link when a bypassed node has no input of the wanted type', () => {
    const wf = ui('fe_default.json');
    wf.nodes.find((n) => n.id === 4)!.mode = 4; // CheckpointLoaderSimple has no inputs at all
    const result = workflowToPrompt(wf, objectInfo);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.prompt['3']!.inputs).not.toHaveProperty('model');
    expect(result.warnings.join('\n')).toContain('bypassed node 4');
  });

  it('ignores Note and MarkdownNote nodes', () => {
    const wf = ui('fe_default.json');
    wf.nodes.push({ id: 50, type: 'Note', mode: 0, widgets_values: ['hello'] }, { id: 51, type: 'MarkdownNote', mode: 0, widgets_values: ['# hi'] });
    const prompt = convert(wf);
    expect(prompt['50']).toBeUndefined();
    expect(prompt['51']).toBeUndefined();
  });

  it('_meta.title is the node title, else the display name; includeMeta: false leaves it out', () => {
    const wf = ui('fe_default.json');
    wf.nodes.find((n) => n.id === 7)!.title = 'Negative';
    const prompt = convert(wf);
    expect(prompt['7']!._meta).toEqual({ title: 'Negative' });
    expect(prompt['4']!._meta).toEqual({ title: 'Load Checkpoint' });
    expect(convert(wf, { includeMeta: false })['4']).not.toHaveProperty('_meta');
  });
});

describe('subgraphs and group nodes', () => {
  it('flattens a subgraph instance into "<instance>:<inner>" ids, links through its input and output slots', () => {
    const prompt = convert(ui('fe_proxy-seed.json'));
    expect(prompt['10:3']).toMatchObject({ class_type: 'KSampler', inputs: { seed: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } });
    expect(prompt['8']!.inputs['samples']).toEqual(['10:3', 0]);
    expect(prompt['10']).toBeUndefined();
  });

  it('nested subgraphs get a:b:c ids', () => {
    const wf = ui('fe_proxy-seed.json');
    const inner = wf.definitions!.subgraphs![0]!;
    const outer = { ...inner, id: 'aaaaaaaa-0000-4000-8000-000000000001', nodes: [{ ...wf.nodes.find((n) => n.id === 10)!, id: 77, type: inner.id }], links: inner.links };
    // The outer definition wraps one instance of the inner one, wired straight through.
    outer.links = [
      { id: 1, origin_id: -10, origin_slot: 0, target_id: 77, target_slot: 0, type: 'MODEL' },
      { id: 4, origin_id: -10, origin_slot: 1, target_id: 77, target_slot: 1, type: 'CONDITIONING' },
      { id: 6, origin_id: -10, origin_slot: 2, target_id: 77, target_slot: 2, type: 'CONDITIONING' },
      { id: 2, origin_id: -10, origin_slot: 3, target_id: 77, target_slot: 3, type: 'LATENT' },
      { id: 7, origin_id: 77, origin_slot: 0, target_id: -20, target_slot: 0, type: 'LATENT' },
    ];
    outer.nodes[0]!.inputs = outer.nodes[0]!.inputs!.map((inp, i) => ({ ...inp, link: [1, 4, 6, 2][i]! }));
    wf.definitions!.subgraphs!.push(outer);
    wf.nodes.find((n) => n.id === 10)!.type = outer.id;
    const prompt = convert(wf);
    expect(prompt['10:77:3']).toMatchObject({ class_type: 'KSampler', inputs: { model: ['4', 0], latent_image: ['5', 0] } });
    expect(prompt['8']!.inputs['samples']).toEqual(['10:77:3', 0]);
  });

  it('an unconnected subgraph input with a promoted widget sends the instance widget value', () => {
    const wf = ui('fe_subgraph-promoted-int-text-with-primitives.json');
    wf.nodes.find((n) => n.id === 1)!.widgets_values = ['from instance', 640, 384];
    const prompt = convert(wf);
    expect(prompt['1:10']!.inputs['text']).toBe('from instance');
    expect(prompt['1:11']!.inputs).toMatchObject({ width: 640, height: 384, batch_size: 1 });
  });

  it('promoted widget values skip the control slot older files kept after a seed', () => {
    const wf = ui('fe_proxy-seed.json');
    const sg = wf.definitions!.subgraphs![0]!;
    // Promote the KSampler seed: a fifth subgraph input wired to the seed socket.
    sg.inputs!.push({ name: 'seed', type: 'INT', linkIds: [20] });
    (sg.links as unknown[]).push({ id: 20, origin_id: -10, origin_slot: 4, target_id: 3, target_slot: 4, type: 'INT' });
    sg.nodes[0]!.inputs!.push({ name: 'seed', type: 'INT', link: 20, widget: { name: 'seed' } });
    const instance = wf.nodes.find((n) => n.id === 10)!;
    instance.inputs!.push({ name: 'seed', type: 'INT', link: null, widget: { name: 'seed' } });
    instance.widgets_values = [777];
    expect(convert(wf)['10:3']!.inputs['seed']).toBe(777);
    instance.widgets_values = [778, 'randomize'];
    expect(convert(wf)['10:3']!.inputs['seed']).toBe(778);
  });

  it('expands legacy group nodes (workflow>Name and workflow/Name) with the group widget values', () => {
    const prompt = convert(ui('fe_group_ksampler_external_latent.json'));
    expect(prompt['10:3']).toMatchObject({ class_type: 'KSampler', inputs: { seed: 42424242, steps: 17, cfg: 6.5, latent_image: ['20', 0], model: ['10:0', 0] } });
    expect(prompt['10:5']!.inputs['images']).toEqual(['10:4', 0]);
    const legacy = convert(ui('fe_legacy_group_node.json'));
    expect(Object.keys(legacy).sort()).toEqual(['15:0', '15:1']);
  });

  it('links that go nowhere usable are left out', () => {
    // A LATENT link into EmptyLatentImage, which has no such input; the output still converts.
    expect(Object.keys(convert(ui('fe_two-subgraphs-with-normal-node.json')))).toEqual(['3']);
    // A link between two missing nodes that no input uses is harmless.
    expect(convert(ui('fe_rgthree_corrupt_link.json'))['4']!.inputs['steps']).toEqual(['5', 0]);
  });
});

describe('format detection', () => {
  it('tells UI workflows from API prompts', () => {
    const wf = ui('fe_default.json');
    const prompt = convert(wf);
    expect(isUiWorkflow(wf)).toBe(true);
    expect(isApiPrompt(wf)).toBe(false);
    expect(isApiPrompt(prompt)).toBe(true);
    expect(isUiWorkflow(prompt)).toBe(false);
    for (const junk of [null, 3, 'x', [], {}, { nodes: 'x' }, { '1': { class_type: 3, inputs: {} } }]) {
      expect(isUiWorkflow(junk)).toBe(false);
      expect(isApiPrompt(junk)).toBe(false);
    }
    expect(isApiPrompt(readFixture('api/comfy_default_graph_sdxl1_0.json'))).toBe(true);
  });
});
