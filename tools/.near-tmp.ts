import fs from 'node:fs';
import { workflowToPrompt } from '/work/main/compat/workflow/convert.js';
const dir = '/work/main/test/fixtures/workflows/';
const oi = JSON.parse(fs.readFileSync(dir + 'object_info.json', 'utf8'));
const near: [string, string][] = [['ui/cew_flux_1_kontext_dev_grouped.json', 'api/cew_flux_1_kontext_dev_grouped.api.json'], ['ui/cew_hidream_e1_full.json', 'api/cew_hidream_e1_full.api.json'], ['ui/cew_qwen_image_instantx_controlnet_subgraph.json', 'api/cew_qwen_image_instantx_controlnet_subgraph.api.json'], ['ui/cog_sdxl_lightning_unet_ui.json', 'api/cog_sdxl_lightning_unet_api.json']];
for (const [u, a] of near) {
  const ui = JSON.parse(fs.readFileSync(dir + u, 'utf8')); const api = JSON.parse(fs.readFileSync(dir + a, 'utf8'));
  const r = workflowToPrompt(ui, oi, { dynamicPrompts: () => 0 });
  if (!r.ok) { console.log('ERR', u, JSON.stringify(r.error)); continue; }
  const diffs: string[] = [];
  for (const id of new Set([...Object.keys(api), ...Object.keys(r.prompt)])) {
    const x = api[id], y = r.prompt[id];
    if (!x || !y) { diffs.push(`${id}: expected ${x ? x.class_type : 'absent'} got ${y ? y.class_type : 'absent'}`); continue; }
    for (const k of new Set([...Object.keys(x.inputs), ...Object.keys(y.inputs)])) if (JSON.stringify(x.inputs[k]) !== JSON.stringify(y.inputs[k])) diffs.push(`${id} ${x.class_type}.${k}: exp ${JSON.stringify(x.inputs[k])?.slice(0, 60)} got ${JSON.stringify(y.inputs[k])?.slice(0, 60)}`);
    if (JSON.stringify(x._meta) !== JSON.stringify(y._meta)) diffs.push(`${id}: meta ${JSON.stringify(x._meta)} vs ${JSON.stringify(y._meta)}`);
  }
  console.log(u, r.warnings, '\n   ' + diffs.join('\n   '));
}
for (const f of fs.readdirSync(dir + 'ui').filter((f) => f.startsWith('fe_'))) {
  const r = workflowToPrompt(JSON.parse(fs.readFileSync(dir + 'ui/' + f, 'utf8')), oi, { dynamicPrompts: () => 0 });
  console.log(f, r.ok ? JSON.stringify(r.prompt).slice(0, 600) : 'ERR ' + JSON.stringify(r.error), r.warnings);
}
