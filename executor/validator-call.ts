/**
 * Calling a node's custom validator (VALIDATE_INPUTS) as ComfyUI does: only the inputs it names
 * (all with `'*'`), links as undefined, plus `input_types` when it asks; one
 * `custom_validation_failed` error per passed input for every call that did not return `true`.
 */
import type { ErrorItem } from '../compat/api-types.js';
import type { InputTypes, NodeDefinition } from '../nodes/node-api.js';
import { gatherInputs, sliceCalls } from './input-data.js';
import { pyStr } from './py-values.js';
import type { ValidationRun } from './validate-node.js';

const INPUT_TYPES_ARG = 'input_types';

export async function runCustomValidator(
  run: ValidationRun,
  id: string,
  def: NodeDefinition,
  inputs: Record<string, unknown>,
  types: InputTypes,
  receivedTypes: Record<string, unknown>,
): Promise<ErrorItem[]> {
  const spec = def.validateInputs!;
  const gathered = gatherInputs(inputs, types, id, undefined, { prompt: {}, dynprompt: null, extraData: {} });
  const passed: Record<string, unknown[]> = {};
  for (const [name, list] of Object.entries(gathered.values)) {
    if (spec.inputs === '*' || spec.inputs.includes(name)) passed[name] = list;
  }
  const argNames = Object.keys(passed);
  if (spec.wantsInputTypes) argNames.push(INPUT_TYPES_ARG);

  const results: unknown[] = [];
  for (const call of sliceCalls(passed, def.inputIsList === true)) {
    const inputTypes = spec.wantsInputTypes ? (receivedTypes as Record<string, string>) : undefined;
    results.push(await spec.fn(call, inputTypes, run.env));
  }
  return failures(argNames, results);
}

function failures(argNames: string[], results: unknown[]): ErrorItem[] {
  const errors: ErrorItem[] = [];
  const names: (string | null)[] = argNames.length > 0 ? argNames : [null];
  for (const name of names) {
    for (const result of results) {
      if (result === true) continue;
      let details = name ?? '';
      if (result !== false) details = name !== null ? `${name} - ${pyStr(result)}` : pyStr(result);
      errors.push({
        type: 'custom_validation_failed',
        message: 'Custom validation failed for node',
        details,
        extra_info: name !== null ? { input_name: name } : {},
      });
    }
  }
  return errors;
}
