/**
 * Python's `json.dumps(value)` with default arguments, as ComfyUI writes metadata into PNG text
 * chunks and `.latent` headers: `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`
 * (`ensure_ascii=True`), floats in Python's `repr` style.
 *
 *   pythonJsonDumps({ a: [1, 2.5], b: 'é' }) → '{"a": [1, 2.5], "b": "\\u00e9"}'
 *
 * Known difference: a JavaScript number does not remember whether the submitted JSON said `1`
 * or `1.0`, so integral floats are written as integers (`1`, where Python would write `1.0`).
 */

export function pythonJsonDumps(value: unknown): string {
  return dump(value);
}

function dump(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(dump).join(', ')}]`;
  if (typeof value === 'object') {
    const maybe = value as { toJSON?: () => unknown };
    if (typeof maybe.toJSON === 'function') return dump(maybe.toJSON());
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      parts.push(`${pythonString(k)}: ${dump(v)}`);
    }
    return `{${parts.join(', ')}}`;
  }
  return 'null';
}

/** Python float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    const fixed = String(n);
    // JS also uses exponent form from 1e21 only, so in this range String(n) is already positional.
    return fixed.includes('.') || fixed.includes('e') ? fixed : `${fixed}.0`;
  }
  const sign = exp < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function pythonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20 || code >= 0x80) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
