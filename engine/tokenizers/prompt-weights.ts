/**
 * ComfyUI's prompt-weight syntax (comfy/sd1_clip.py `escape_important`, `parse_parentheses`,
 * `token_weights`), ported line for line so odd inputs (unbalanced parentheses, `(a:b:1.2)`,
 * `(x:1_0)`) split exactly as ComfyUI splits them (spec/sd3-engine.md §3.3).
 *
 *   "a (red:1.3) ((cat))" → [{text: "a ", weight: 1}, {text: "red", weight: 1.3}, {text: "cat", weight: 1.21…}]
 *
 * `\(` / `\)` are literal parentheses; `[ ]` have no meaning; `(text)` multiplies by 1.1 per level;
 * `(text:w)` sets the weight to w (the number after the last colon, parsed like Python's float()).
 */

export interface WeightedSegment {
  text: string;
  weight: number;
}

const ESCAPED_CLOSE = '\0\x01';
const ESCAPED_OPEN = '\0\x02';

export function escapeImportant(text: string): string {
  return text.replaceAll('\\)', ESCAPED_CLOSE).replaceAll('\\(', ESCAPED_OPEN);
}

export function unescapeImportant(text: string): string {
  return text.replaceAll(ESCAPED_CLOSE, ')').replaceAll(ESCAPED_OPEN, '(');
}

/** Splits at top-level parentheses; a stray ')' drives the level negative, as in ComfyUI. */
export function parseParentheses(text: string): string[] {
  const result: string[] = [];
  let current = '';
  let level = 0;
  for (const ch of text) {
    if (ch === '(') {
      if (level === 0) {
        if (current) result.push(current);
        current = '(';
      } else {
        current += ch;
      }
      level += 1;
    } else if (ch === ')') {
      level -= 1;
      if (level === 0) {
        result.push(current + ')');
        current = '';
      } else {
        current += ch;
      }
    } else {
      current += ch;
    }
  }
  if (current) result.push(current);
  return result;
}

const PY_DIGITS = String.raw`\d(?:_?\d)*`;
const PY_FLOAT = new RegExp(String.raw`^[+-]?(?:(?:${PY_DIGITS}(?:\.(?:${PY_DIGITS})?)?|\.${PY_DIGITS})(?:[eE][+-]?${PY_DIGITS})?)$`);
const PY_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
// Python's str.isspace() set (JS \s differs: it has U+FEFF and lacks \x1c-\x1f, \x85).
const PY_SPACE = String.raw`\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const PY_WHITESPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/**
 * Python's float(str) for ASCII input: surrounding whitespace, a sign, underscores between digits,
 * exponents, inf/infinity/nan. Returns undefined where Python raises ValueError.
 * (Python also accepts non-ASCII decimal digits such as '١'; those are rejected here.)
 */
export function parsePythonFloat(text: string): number | undefined {
  const s = text.replace(PY_WHITESPACE, '');
  const special = PY_SPECIAL.exec(s);
  if (special) {
    if (special[2].toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!PY_FLOAT.test(s)) return undefined;
  return Number(s.replaceAll('_', ''));
}

function weightsOf(text: string, currentWeight: number, out: WeightedSegment[]): void {
  for (let part of parseParentheses(text)) {
    if (part.length >= 2 && part.startsWith('(') && part.endsWith(')')) {
      part = part.slice(1, -1);
      const colon = part.lastIndexOf(':');
      let weight = currentWeight * 1.1;
      if (colon > 0) {
        const parsed = parsePythonFloat(part.slice(colon + 1));
        if (parsed !== undefined) {
          weight = parsed;
          part = part.slice(0, colon);
        }
      }
      weightsOf(part, weight, out);
    } else {
      out.push({ text: part, weight: currentWeight });
    }
  }
}

/** ComfyUI's `token_weights(escape_important(text), 1.0)`; segments keep the escape markers. */
export function tokenWeights(text: string, currentWeight = 1): WeightedSegment[] {
  const out: WeightedSegment[] = [];
  weightsOf(text, currentWeight, out);
  return out;
}

/** Escapes, splits into weighted segments and unescapes each: the pieces the tokenizer sees. */
export function parsePromptWeights(text: string, opts: { disableWeights?: boolean } = {}): WeightedSegment[] {
  const escaped = escapeImportant(text);
  const segments = opts.disableWeights ? [{ text: escaped, weight: 1 }] : tokenWeights(escaped, 1);
  return segments.map((s) => ({ text: unescapeImportant(s.text), weight: s.weight }));
}
