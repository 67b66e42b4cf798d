/**
 * Text the official frontend rewrites before sending a prompt: dynamic prompts (`{a|b}` picks one,
 * comments dropped) for STRING inputs with `dynamicPrompts`, and `%date:…%` / `%Node.widget%` in
 * `filename_prefix` widgets. Server-side tokens such as `%width%` are left for the server.
 */

/** Expands `{a|b|c}` choices innermost-first and removes `//` and `/* *\/` comments. */
export function expandDynamicPrompt(text: string, random: () => number = Math.random): string {
  let prompt = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  for (;;) {
    const start = prompt.lastIndexOf('{');
    const end = start < 0 ? -1 : prompt.indexOf('}', start);
    if (end < 0) return prompt;
    const options = prompt.slice(start + 1, end).split('|');
    const choice = options[Math.floor(random() * options.length)] ?? '';
    prompt = prompt.slice(0, start) + choice + prompt.slice(end + 1);
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** ComfyUI's date tokens: yyyy, yy, MM, M, dd, d, hh, h, mm, m, ss, s. */
export function formatDate(format: string, date: Date): string {
  const parts: Record<string, string> = {
    yyyy: String(date.getFullYear()),
    yy: pad(date.getFullYear() % 100),
    MM: pad(date.getMonth() + 1),
    M: String(date.getMonth() + 1),
    dd: pad(date.getDate()),
    d: String(date.getDate()),
    hh: pad(date.getHours()),
    h: String(date.getHours()),
    mm: pad(date.getMinutes()),
    m: String(date.getMinutes()),
    ss: pad(date.getSeconds()),
    s: String(date.getSeconds()),
  };
  return format.replace(/yyyy|yy|MM|M|dd|d|hh|h|mm|m|ss|s/g, (token) => parts[token] ?? token);
}

/** Finds a widget value by node title (or class name) and widget name; undefined if absent. */
export type WidgetLookup = (nodeName: string, widgetName: string) => unknown;

/** Replaces `%date:FMT%` and `%Node.widget%`; other `%…%` tokens stay for the server. */
export function applyTextReplacements(text: string, lookup: WidgetLookup, now: Date = new Date()): string {
  return text.replace(/%([^%]+)%/g, (match, token: string) => {
    if (token.startsWith('date:')) return formatDate(token.slice(5), now);
    const dot = token.indexOf('.');
    if (dot < 0) return match;
    const value = lookup(token.slice(0, dot), token.slice(dot + 1));
    // Path separators in a value would change the folder, as in ComfyUI.
    return value === undefined ? match : String(value).replace(/[/\\]/g, '_');
  });
}
