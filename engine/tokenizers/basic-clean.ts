/**
 * The text clean-up of transformers' slow CLIPTokenizer when `ftfy` is not installed, which is what
 * ComfyUI runs (it uses the slow tokenizer): BasicTokenizer(strip_accents=False,
 * do_split_on_punc=False) — drop NUL, U+FFFD and control/format characters (Unicode category C*),
 * turn whitespace into spaces, put spaces around CJK ideographs, NFC, split on whitespace,
 * lowercase, join with single spaces. The fast tokenizer.json alone does not space CJK ideographs
 * or drop control characters (spec/sd3-engine.md §3.2), so this runs first.
 * With ftfy installed ComfyUI would instead apply ftfy.fix_text (not reproduced).
 */

const CONTROL = /\p{C}/u;
const BERT_WHITESPACE = /[ \t\n\r]|\p{Zs}/u;
// BERT's _is_chinese_char ranges.
const CJK = /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/gu;
// Python str.split() separators (str.isspace()).
const PY_SPLIT = /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

export function basicClean(text: string): string {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0 || cp === 0xfffd) continue;
    if (BERT_WHITESPACE.test(ch)) cleaned += ' ';
    else if (!CONTROL.test(ch) || ch === '\t' || ch === '\n' || ch === '\r') cleaned += ch;
  }
  const spaced = cleaned.replace(CJK, ' $& ').normalize('NFC');
  return spaced
    .split(PY_SPLIT)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase())
    .join(' ');
}
