/**
 * The frontend's dynamic prompts (`dynamicPrompts: true` STRING widgets): C-style comments are
 * stripped and each `{a|b|c}` group is replaced by one option picked at random, nested groups
 * included; `\{`, `\}` and `\|` are literal.
 *
 *   processDynamicPrompt('a {red|blue} cat // note', () => 0) → 'a red cat '
 */

export type RandomSource = () => number;

export function processDynamicPrompt(source: string, random: RandomSource = Math.random): string {
  const text = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*/g, '');
  let i = 0;
  const escape = (): string => `\\${text[i++] ?? ''}`;
  const choice = (): string => {
    const options: string[] = [];
    let current = '';
    let depth = 0;
    while (i < text.length) {
      const c = text[i++]!;
      if (c === '\\') {
        current += escape();
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}') {
        if (!depth) break;
        depth--;
      } else if (c === '|' && !depth) {
        options.push(current);
        current = '';
        continue;
      }
      current += c;
    }
    options.push(current);
    const picked = options[Math.floor(random() * options.length)] ?? '';
    return processDynamicPrompt(picked, random);
  };
  let out = '';
  while (i < text.length) {
    const c = text[i++]!;
    if (c === '\\') out += escape();
    else if (c === '{') out += choice();
    else out += c;
  }
  return out.replace(/\\([{}|])/g, '$1');
}
