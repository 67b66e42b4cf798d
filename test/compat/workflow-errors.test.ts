/**
 * Broken workflows give ComfyUI-shaped errors (`{type, message, details, extra_info}`) that name
 * the node at fault, never a thrown exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { workflowToPrompt, type UiWorkflow } from '../../compat/workflow/index.js';
import { objectInfo, readFixture } from './workflow-fixtures.js';

const defaultGraph = () => readFixture<UiWorkflow>('ui/fe_default.json');

function failure(workflow: unknown, info = objectInfo) {
  const result = workflowToPrompt(workflow, info);
  if (result.ok) throw new Error('expected the conversion to fail');
  return result;
}

describe('workflowToPrompt errors', () => {
  it('an unknown node type → missing_node_type naming the node', () => {
    const wf = defaultGraph();
    wf.nodes.push({ id: 42, type: 'NoSuchNode', title: 'Mystery', mode: 0, inputs: [], outputs: [] });
    const { error } = failure(wf);
    expect(error.type).toBe('missing_node_type');
    expect(error.message).toBe("Node 'Mystery' not found. The custom node may not be installed.");
    expect(error.details).toContain("Node ID '#42'");
    expect(error.extra_info).toEqual({ node_id: '42', class_type: 'NoSuchNode', node_title: 'Mystery' });
  });

  it('a type missing from the given object_info → missing_node_type', () => {
    const { KSampler: _dropped, ...rest } = objectInfo;
    const { error } = failure(defaultGraph(), rest);
    expect(error.type).toBe('missing_node_type');
    expect(error.extra_info['node_id']).toBe('3');
    expect(error.extra_info['class_type']).toBe('KSampler');
  });

  it('an unknown type inside a subgraph names the flattened id', () => {
    const wf = readFixture<UiWorkflow>('ui/fe_proxy-seed.json');
    wf.definitions!.subgraphs![0]!.nodes[0]!.type = 'GoneSampler';
    const { error } = failure(wf);
    expect(error.extra_info['node_id']).toBe('10:3');
  });

  it('muted or bypassed nodes of unknown type are no error', () => {
    const wf = defaultGraph();
    wf.nodes.push({ id: 42, type: 'NoSuchNode', mode: 2 }, { id: 43, type: 'AlsoMissing', mode: 4 });
    expect(workflowToPrompt(wf, objectInfo).ok).toBe(true);
  });

  it('an input whose link id is not in links → invalid_workflow_link naming node and input', () => {
    const wf = defaultGraph();
    wf.nodes.find((n) => n.id === 8)!.inputs![0]!.link = 999;
    const { error, nodeErrors } = failure(wf);
    expect(error.type).toBe('invalid_workflow_link');
    expect(error.details).toContain("input 'samples'");
    expect(error.details).toContain('link 999');
    expect(error.extra_info).toMatchObject({ node_id: '8', class_type: 'VAEDecode', input_name: 'samples' });
    expect(nodeErrors['8']!.class_type).toBe('VAEDecode');
  });

  it('a link from a node that does not exist → invalid_workflow_link', () => {
    const wf = defaultGraph();
    const link = (wf.links as unknown[][]).find((l) => l[3] === 8 && l[4] === 0)!;
    link[1] = 404;
    const { error } = failure(wf);
    expect(error.details).toContain('node 404');
    expect(error.extra_info['node_id']).toBe('8');
  });

  it('links looping through virtual nodes are reported, not followed forever', () => {
    const wf = defaultGraph();
    wf.nodes.push(
      { id: 60, type: 'Reroute', mode: 0, inputs: [{ name: '', type: '*', link: 91 }], outputs: [{ name: '', type: '*', links: [90] }] },
      { id: 61, type: 'Reroute', mode: 0, inputs: [{ name: '', type: '*', link: 90 }], outputs: [{ name: '', type: '*', links: [91, 92] }] },
    );
    (wf.links as unknown[][]).push([90, 60, 0, 61, 0, '*'], [91, 61, 0, 60, 0, '*'], [92, 61, 0, 8, 1, '*']);
    wf.nodes.find((n) => n.id === 8)!.inputs![1]!.link = 92;
    const { error } = failure(wf);
    expect(error.type).toBe('invalid_workflow_link');
    expect(error.details).toContain('loop');
  });

  it('garbage → invalid_workflow', () => {
    for (const junk of [null, 42, 'text', [], {}, { nodes: {} }, { nodes: [{ type: 'KSampler' }] }]) {
      const { error } = failure(junk);
      expect(error.type).toBe('invalid_workflow');
      expect(error.details).toContain('nodes');
    }
  });

  it('a node without a type → invalid_workflow_node naming it', () => {
    const wf = defaultGraph();
    wf.nodes.push({ id: 77 } as never);
    const { error } = failure(wf);
    expect(error.type).toBe('invalid_workflow_node');
    expect(error.details).toContain('#77');
  });

  it('duplicate node ids → invalid_workflow_node', () => {
    const wf = defaultGraph();
    wf.nodes.push({ ...wf.nodes[0]! });
    const { error } = failure(wf);
    expect(error.type).toBe('invalid_workflow_node');
    expect(error.details).toContain('duplicate node id');
  });

  it('any field replaced by junk gives a result, never an exception', () => {
    const files = ['ui/fe_default.json', 'ui/fe_proxy-seed.json', 'ui/fe_group_ksampler_external_latent.json', 'pairs/cex_edit_models_sdxl_edit_model.ui.json'];
    const junk = fc.oneof(fc.constant(null), fc.constant(undefined), fc.integer(), fc.string(), fc.constant([]), fc.constant({}), fc.array(fc.integer(), { maxLength: 6 }), fc.constant([null]), fc.constant([{}]));
    fc.assert(
      fc.property(fc.nat(files.length - 1), fc.nat(), fc.nat(), junk, (file, pick, field, value) => {
        const wf = readFixture<Record<string, any>>(files[file]!);
        const places: Record<string, unknown>[] = [
          wf,
          ...wf['nodes'],
          ...wf['nodes'].flatMap((n: Record<string, any>) => [...(n['inputs'] ?? []), ...(n['outputs'] ?? [])]),
          ...(wf['links'] ?? []),
          ...Object.values(wf['extra']?.['groupNodes'] ?? {}),
          ...(wf['definitions']?.['subgraphs'] ?? []),
        ];
        const place = places[pick % places.length]!;
        const keys = Object.keys(place);
        if (keys.length) place[keys[field % keys.length]!] = value;
        const result = workflowToPrompt(wf, objectInfo);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 800, seed: 8 },
    );
  });
});
