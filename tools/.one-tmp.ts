import fs from 'node:fs';
import { workflowToPrompt } from '/work/main/compat/workflow/convert.js';
const oi = JSON.parse(fs.readFileSync('/work/main/test/fixtures/workflows/object_info.json', 'utf8'));
const r = workflowToPrompt(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')), oi, { dynamicPrompts: false });
console.log(JSON.stringify(r.ok ? r.prompt : r, null, 0));
