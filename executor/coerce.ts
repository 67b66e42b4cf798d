/**
 * Widget value coercion as ComfyUI's validator does it with Python builtins (spec §3.2):
 * INT → `int(v)` (floats truncate, `"3"` parses, `"3.5"` fails), FLOAT → `float(v)`,
 * STRING → `str(v)`, BOOLEAN → `bool(v)` (any non-empty string is true).
 * Failures throw `PyError` carrying Python's own message.
 */
import { PyError, pyStr, pyStrRepr, pyTruthy, pyTypeName } from './py-values.js';

const INT_LITERAL = /^[+-]?\d+(?:_\d+)*$/;
const FLOAT_LITERAL = /^[+-]?(?:(?:\d+(?:_\d+)*)(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const FLOAT_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

export function pyInt(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new PyError('ValueError', 'cannot convert float NaN to integer');
    if (!Number.isFinite(value)) throw new PyError('OverflowError', 'cannot convert float infinity to integer');
    return Math.trunc(value) + 0;
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (!INT_LITERAL.test(text)) throw new PyError('ValueError', `invalid literal for int() with base 10: ${pyStrRepr(value)}`);
    return Number(text.replaceAll('_', ''));
  }
  throw new PyError('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(value)}'`);
}

export function pyFloat(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const text = value.trim();
    const special = FLOAT_SPECIAL.exec(text);
    if (special) {
      if (special[2]!.toLowerCase() === 'nan') return Number.NaN;
      return special[1] === '-' ? -Infinity : Infinity;
    }
    if (!FLOAT_LITERAL.test(text)) throw new PyError('ValueError', `could not convert string to float: ${pyStrRepr(value)}`);
    return Number(text.replaceAll('_', ''));
  }
  throw new PyError('TypeError', `float() argument must be a string or a real number, not '${pyTypeName(value)}'`);
}

/** The value types ComfyUI converts; every other input type passes its constant through. */
export const COERCED_TYPES = ['INT', 'FLOAT', 'STRING', 'BOOLEAN'] as const;

/** Converts a constant for an input of `inputType`; other types come back unchanged. */
export function coerceConstant(inputType: unknown, value: unknown): unknown {
  switch (inputType) {
    case 'INT':
      return pyInt(value);
    case 'FLOAT':
      return pyFloat(value);
    case 'STRING':
      return pyStr(value);
    case 'BOOLEAN':
      return pyTruthy(value);
    default:
      return value;
  }
}
