/**
 * Python value semantics the validator must reproduce byte for byte: `str()`/`repr()` of JSON
 * values (they appear inside error details), `==` between JSON values (combo membership), and
 * Python exceptions with their builtin type names (`exception_type` in validation errors).
 *
 * Known difference: a JavaScript number does not remember whether the JSON said `1` or `1.0`;
 * integral numbers print as ints unless the caller knows the value is a float (`asFloat`).
 */

/** An error standing in for a Python builtin exception (`KeyError`, `ValueError`, …). */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = pyType;
  }
}

/** Python `repr(float)`: shortest round-trip digits, `.0` for integral values, `e+XX` exponents. */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    const text = String(n);
    return text.includes('.') || text.includes('e') ? text : `${text}.0`;
  }
  const sign = exp < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function pyNumberRepr(n: number, asFloat: boolean): string {
  if (!asFloat && Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  return pyFloatRepr(n);
}

/** Python `repr(str)`: single quotes unless the text holds `'` and no `"`. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** Python `repr()` of a JSON-like value. */
export function pyRepr(value: unknown, asFloat = false): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyNumberRepr(value, asFloat);
  if (typeof value === 'string') return pyStrRepr(value);
  if (Array.isArray(value)) return `[${value.map((v) => pyRepr(v)).join(', ')}]`;
  if (isPlainObject(value)) {
    const parts = Object.entries(value).map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v)}`);
    return `{${parts.join(', ')}}`;
  }
  return objectDescription(value);
}

/** Python `str()` of a JSON-like value (strings unquoted, everything else as `repr`). */
export function pyStr(value: unknown, asFloat = false): string {
  return typeof value === 'string' ? value : pyRepr(value, asFloat);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `str(obj)` for a non-JSON object: its own `toString` if it has one, else `<Class object>`. */
function objectDescription(value: unknown): string {
  if (typeof value === 'function') return `<function ${value.name || 'anonymous'}>`;
  const obj = value as { toString?: () => string; constructor?: { name?: string } };
  if (typeof obj.toString === 'function' && obj.toString !== Object.prototype.toString) return obj.toString();
  return `<${obj.constructor?.name ?? 'object'} object>`;
}

/** The Python type name of a JSON-like value, as builtin error messages print it. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  if (isPlainObject(value)) return 'dict';
  return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
}

/** Python `==` between JSON values: `1 == 1.0 == True`, lists and dicts compared deeply. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const numA = typeof a === 'number' || typeof a === 'boolean';
  const numB = typeof b === 'number' || typeof b === 'boolean';
  if (numA && numB) return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => pyEquals(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && pyEquals(a[k], b[k]));
  }
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  return a === b;
}

/** Python truthiness. */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return !Number.isNaN(value);
}
