/**
 * Constant checks of spec §3.2: `min`/`max` bounds and combo membership, with ComfyUI's
 * messages (values printed as Python prints them).
 */
import type { ErrorItem } from '../compat/api-types.js';
import type { InputOptions } from '../nodes/node-api.js';
import { PyError, pyEquals, pyRepr, pyStr, pyTypeName } from './py-values.js';

/** Combos longer than this are summarized in the error instead of listed. */
const MAX_LISTED_CHOICES = 20;

export function checkConstantRange(name: string, value: unknown, config: unknown[]): ErrorItem | undefined {
  const options = config[1] as InputOptions;
  const asFloat = config[0] === 'FLOAT';
  if (options.min !== undefined && pyLess(value, options.min)) {
    return {
      type: 'value_smaller_than_min',
      message: `Value ${pyStr(value, asFloat)} smaller than min of ${pyStr(options.min, asFloat)}`,
      details: name,
      extra_info: { input_name: name, input_config: config, received_value: value },
    };
  }
  if (options.max !== undefined && pyLess(options.max, value)) {
    return {
      type: 'value_bigger_than_max',
      message: `Value ${pyStr(value, asFloat)} bigger than max of ${pyStr(options.max, asFloat)}`,
      details: name,
      extra_info: { input_name: name, input_config: config, received_value: value },
    };
  }
  return undefined;
}

/** Python `a < b` for the values a bound check meets; unorderable pairs raise TypeError. */
function pyLess(a: unknown, b: unknown): boolean {
  const numeric = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if (numeric(a) && numeric(b)) return Number(a) < Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b;
  throw new PyError('TypeError', `'<' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
}

export function checkCombo(name: string, value: unknown, config: unknown[]): ErrorItem | undefined {
  const choices = comboChoices(config);
  if (!choices) return undefined;
  const options = config[1] as InputOptions;
  const candidates = options.multiselect && Array.isArray(value) ? value : [value];
  const invalid = candidates.filter((v) => !choices.some((c) => pyEquals(c, v)));
  if (invalid.length === 0) return undefined;
  const tooMany = choices.length > MAX_LISTED_CHOICES;
  const listInfo = tooMany ? `(list of length ${choices.length})` : pyRepr(choices);
  return {
    type: 'value_not_in_list',
    message: 'Value not in list',
    details: `${name}: ${invalid.map((v) => pyRepr(v)).join(', ')} not in ${listInfo}`,
    extra_info: { input_name: name, input_config: tooMany ? null : config, received_value: value },
  };
}

/** The choices a combo input accepts; undefined when the input is no (checkable) combo. */
function comboChoices(config: unknown[]): readonly unknown[] | undefined {
  const [type, rawOptions] = config;
  if (Array.isArray(type)) return type;
  if (type !== 'COMBO') return undefined;
  const options = rawOptions as InputOptions;
  // Remote combos fetch their choices in the browser; the server cannot check them.
  if (options.remote_combo || options.remote) return undefined;
  return Array.isArray(options.options) ? options.options : [];
}
