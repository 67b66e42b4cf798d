/**
 * The path-traversal corpus (≥ 300 payloads): every combination of "dot-dot" spellings and
 * separator spellings (plain, URL-encoded, double-encoded, overlong UTF-8, Unicode look-alikes)
 * at several depths, plus absolute, UNC, drive, NUL-byte and symlink payloads.
 */

const DOTS = ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e%252e', '%c0%ae%c0%ae', '%e0%80%ae%e0%80%ae', '\uff0e\uff0e', '\u2025', '\u2024\u2024', '\ufe52\ufe52'];
const SEPARATORS = ['/', '\\', '%2f', '%5c', '%252f', '%255c', '%c0%af', '%c1%9c', '\uff0f', '\u2215', '\u2044', '\uff3c'];
const DEPTHS = [1, 3];
const TARGET = 'secret.txt';

export const SPECIAL_PAYLOADS = [
  '..',
  '../',
  '..\\',
  '../..',
  './../secret.txt',
  'a/../../secret.txt',
  'a/b/../../../secret.txt',
  '..//secret.txt',
  '..///..//secret.txt',
  '.../secret.txt',
  '....//secret.txt',
  '..;/secret.txt',
  '/etc/passwd',
  '/etc/../etc/passwd',
  '\\etc\\passwd',
  'C:\\Windows\\win.ini',
  'c:/Windows/win.ini',
  'C:secret.txt',
  '\\\\server\\share\\secret.txt',
  '//server/share/secret.txt',
  '\\\\?\\C:\\secret.txt',
  '\\\\.\\pipe\\x',
  'file:///etc/passwd',
  'secret.txt\0',
  'x.png\0../../secret.txt',
  '\0',
  '..\0/secret.txt',
  '%00../secret.txt',
  '..%00/secret.txt',
  '%2fetc%2fpasswd',
  '%252fetc%252fpasswd',
  '%5c%5cserver%5cshare',
  '~/secret.txt',
  '~root/.ssh/id_rsa',
  '$HOME/secret.txt',
  '${HOME}/secret.txt',
  'link-out/secret.txt',
  'link-out',
  'link-secret',
  'sub/../link-out/secret.txt',
];

/** Payloads that reach a symlink inside the served directory pointing outside it. */
export const SYMLINK_PAYLOADS = new Set(['link-out/secret.txt', 'link-out', 'link-secret']);

export function traversalCorpus(): string[] {
  const out = new Set<string>(SPECIAL_PAYLOADS);
  for (const dots of DOTS) {
    for (const sep of SEPARATORS) {
      for (const depth of DEPTHS) out.add(`${`${dots}${sep}`.repeat(depth)}${TARGET}`);
    }
  }
  return [...out];
}
