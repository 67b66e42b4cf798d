import fs from 'node:fs';
import { workflowToPrompt } from '/work/main/compat/workflow/convert.js';
const dir = '/work/main/test/fixtures/workflows/';
const oi = JSON.parse(fs.readFileSync(dir + 'object_info.json', 'utf8'));
const only = process.argv[2];
let ok = 0, bad = 0;
for (const f of fs.readdirSync(dir + 'pairs').filter((f) => f.endsWith('.ui.json'))) {
  if (only && !f.includes(only)) continue;
  const ui = JSON.parse(fs.readFileSync(dir + 'pairs/' + f, 'utf8'));
  const api = JSON.parse(fs.readFileSync(dir + 'pairs/' + f.replace('.ui.', '.api.'), 'utf8'));
  const hasMeta = Object.values(api).some((n: any) => n._meta);
  const r = workflowToPrompt(ui, oi, { includeMeta: hasMeta, dynamicPrompts: () => 0 });
  if (!r.ok) { bad++; console.log('ERR', f, JSON.stringify(r.error)); continue; }
  const diffs: string[] = [];
  const ids = new Set([...Object.keys(api), ...Object.keys(r.prompt)]);
  for (const id of ids) {
    const a = api[id], b = r.prompt[id];
    if (!a || !b) { diffs.push(`${id}: expected ${a ? a.class_type : 'absent'} got ${b ? b.class_type : 'absent'}`); continue; }
    if (a.class_type !== b.class_type) diffs.push(`${id}: class ${a.class_type} vs ${b.class_type}`);
    for (const k of new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)])) {
      if (JSON.stringify(a.inputs[k]) !== JSON.stringify(b.inputs[k])) diffs.push(`${id} ${a.class_type}.${k}: exp ${JSON.stringify(a.inputs[k])?.slice(0, 80)} got ${JSON.stringify(b.inputs[k])?.slice(0, 80)}`);
    }
    if (JSON.stringify(a._meta) !== JSON.stringify(b._meta)) diffs.push(`${id}: meta ${JSON.stringify(a._meta)} vs ${JSON.stringify(b._meta)}`);
  }
  if (diffs.length) { bad++; console.log('DIFF', f, '\n   ' + diffs.slice(0, 12).join('\n   ')); } else ok++;
}
console.log({ ok, bad });
