/**
 * Every saved UI workflow in the fixtures converts to exactly the API prompt ComfyUI saved with
 * it (node ids, class types, every input value and link, `_meta` where the pair has it). Near-pairs
 * are compared with their documented differences (SOURCES.md) taken out of both sides.
 */
import { describe, expect, it } from 'vitest';
import type { ApiPrompt } from '../../compat/api-types.js';
import { workflowToPrompt, type WorkflowToPromptOptions } from '../../compat/workflow/index.js';
import { objectInfo, pairNames, readFixture, renameIds, without } from './workflow-fixtures.js';

interface Known {
  /** Paths removed from both sides before comparing, with why. */
  exclude?: string[];
  options?: WorkflowToPromptOptions;
  /** Renames applied to the converted prompt's ids. */
  renameIds?: Record<string, string>;
  reason: string;
}

const KNOWN_PAIR_DIFFERENCES: Record<string, Known> = {
  cex_flux2_flux2_example: {
    exclude: ['41._meta', '45._meta'],
    reason:
      'ImageScaleToTotalPixels had no display name in the ComfyUI that saved this pair (title "ImageScaleToTotalPixels") but "Scale Image to Total Pixels" in the versions that saved the other fixtures; one object_info cannot hold both',
  },
  cex_sdxl_sdxl_revision_text_prompts: {
    options: { uploadWidget: 'choose file to upload' },
    reason: 'saved by an early-2024 frontend that still sent the upload button as "choose file to upload"; nothing in the file tells it from the "upload" era, so the automatic guess says "upload"',
  },
  cex_stable_cascade_stable_cascade__inpaint_controlnet: {
    renameIds: { '68:0': '62', '68:1': '66', '68:2': '64', '68:3': '61', '68:5': '60' },
    reason:
      'the group node\'s inner nodes were sent under the ids they had before grouping (60–66), which the saved group definition does not record; with that renaming everything else is identical',
  },
};

/**
 * Older ComfyUI servers wrote each node's IS_CHANGED result into the prompt (`is_changed`) while
 * executing, before SaveImage embedded it; the frontend never sends it, so it is not compared.
 */
function withoutServerKeys(prompt: ApiPrompt): ApiPrompt {
  const copy = JSON.parse(JSON.stringify(prompt)) as ApiPrompt;
  for (const node of Object.values(copy)) delete node['is_changed'];
  return copy;
}

/**
 * `_meta` follows the pair (frontends before mid-2024 did not send it). The pairs come from many
 * ComfyUI versions but object_info.json is one: a widget a node gained after the pair was saved
 * (VAEEncodeForInpaint.grow_mask_by, CLIPLoader.device, UNETLoader.weight_dtype, …) has no saved
 * value and was not sent then, so it is left out rather than defaulted.
 */
function metaOption(expected: ApiPrompt): WorkflowToPromptOptions {
  return { includeMeta: Object.values(expected).some((n) => n._meta !== undefined), missingWidgets: 'omit' };
}

function convert(ui: unknown, expected: ApiPrompt, extra: WorkflowToPromptOptions = {}): ApiPrompt {
  const result = workflowToPrompt(ui, objectInfo, { ...metaOption(expected), ...extra });
  if (!result.ok) throw new Error(`conversion failed: ${result.error.message}: ${result.error.details}`);
  return result.prompt;
}

describe('workflowToPrompt over every exact pair', () => {
  const names = pairNames();
  it('has the 58 pairs', () => {
    expect(names.length).toBe(58);
  });
  for (const name of names) {
    const known = KNOWN_PAIR_DIFFERENCES[name];
    it(`${name}${known ? ' (documented difference excluded)' : ''}`, () => {
      const ui = readFixture(`pairs/${name}.ui.json`);
      const expected = withoutServerKeys(readFixture<ApiPrompt>(`pairs/${name}.api.json`));
      let actual = convert(ui, expected, known?.options);
      if (known?.renameIds) actual = renameIds(actual, known.renameIds);
      const exclude = known?.exclude ?? [];
      expect(without(actual, exclude)).toStrictEqual(without(expected, exclude));
    });
  }
});

interface NearPair {
  ui: string;
  api: string;
  exclude: string[];
  reason: string;
}

const NEAR_PAIRS: NearPair[] = [
  {
    ui: 'ui/cew_flux_1_kontext_dev_grouped.json',
    api: 'api/cew_flux_1_kontext_dev_grouped.api.json',
    exclude: ['142:8.inputs.unet_name'],
    reason: 'workflow re-embedded after generation; the inner UNETLoader model name was changed (SOURCES.md)',
  },
  {
    ui: 'ui/cew_hidream_e1_full.json',
    api: 'api/cew_hidream_e1_full.api.json',
    exclude: ['13.inputs.image', '47.inputs.noise_seed', '49.inputs.steps'],
    reason: 'workflow re-embedded after generation: LoadImage file, RandomNoise seed and BasicScheduler steps differ (SOURCES.md)',
  },
  {
    ui: 'ui/cew_qwen_image_instantx_controlnet_subgraph.json',
    api: 'api/cew_qwen_image_instantx_controlnet_subgraph.api.json',
    exclude: ['80', '66.inputs.model', '3.inputs.seed', '3.inputs.steps', '3.inputs.cfg', '6.inputs.text'],
    reason: 'workflow re-embedded after generation: node 80 bypassed afterwards (so 66.model routes past it), KSampler seed/steps/cfg and prompt text changed (SOURCES.md)',
  },
  {
    ui: 'ui/cog_sdxl_lightning_unet_ui.json',
    api: 'api/cog_sdxl_lightning_unet_api.json',
    exclude: ['4.inputs.ckpt_name', '14._meta'],
    reason: 'API file edited by hand (ckpt_name); UNETLoader was titled by its class name before ComfyUI named it "Load Diffusion Model"',
  },
];

describe('workflowToPrompt over the near-pairs', () => {
  for (const near of NEAR_PAIRS) {
    it(`${near.ui} (excluded: ${near.exclude.join(', ')})`, () => {
      const expected = withoutServerKeys(readFixture<ApiPrompt>(near.api));
      const actual = convert(readFixture(near.ui), expected);
      expect(without(actual, near.exclude)).toStrictEqual(without(expected, near.exclude));
    });
  }

  it('routes past node 80 once it is bypassed, as the UI now says', () => {
    const expected = readFixture<ApiPrompt>('api/cew_qwen_image_instantx_controlnet_subgraph.api.json');
    const actual = convert(readFixture('ui/cew_qwen_image_instantx_controlnet_subgraph.json'), expected);
    expect(actual['80']).toBeUndefined();
    // 80 (LoraLoaderModelOnly) took its model from 37; bypassed, its model input passes through.
    expect(expected['80']!.inputs['model']).toEqual(['37', 0]);
    expect(actual['66']!.inputs['model']).toEqual(['37', 0]);
  });

  it('expands the subgraph instance to "106:N" ids like the saved prompt', () => {
    const expected = readFixture<ApiPrompt>('api/cew_qwen_image_instantx_controlnet_subgraph.api.json');
    const actual = convert(readFixture('ui/cew_qwen_image_instantx_controlnet_subgraph.json'), expected);
    const inner = Object.keys(actual).filter((id) => id.includes(':'));
    expect(inner.length).toBeGreaterThan(0);
    expect(inner.sort()).toEqual(Object.keys(expected).filter((id) => id.includes(':')).sort());
  });

  it('leaves out the bypassed group node and all its inner nodes', () => {
    const expected = readFixture<ApiPrompt>('api/cew_flux_1_kontext_dev_grouped.api.json');
    const actual = convert(readFixture('ui/cew_flux_1_kontext_dev_grouped.json'), expected);
    expect(Object.keys(actual).filter((id) => id.startsWith('156'))).toEqual([]);
    expect(Object.keys(actual).filter((id) => id.startsWith('142:')).length).toBe(10);
  });
});
