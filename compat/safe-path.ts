/**
 * The one path-containment check used by every route and node that touches files.
 * A user-supplied relative path is joined to a base directory; anything that would land outside
 * it (`..`, absolute paths, NUL bytes, backslash tricks, symlinks pointing out) is refused.
 */
import fs from 'node:fs';
import path from 'node:path';

export type ContainmentFailure = 'nul_byte' | 'absolute' | 'traversal' | 'symlink_escape';

export type Contained = { ok: true; path: string } | { ok: false; reason: ContainmentFailure };

/** True if `child` is `base` or lies under it (both absolute, normalised). */
export function isInside(base: string, child: string): boolean {
  const rel = path.relative(base, child);
  // `...` or `..foo` are ordinary names: only a leading `..` segment leaves the base.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Joins `parts` (each user-supplied, relative) to `base`. Refuses NUL bytes, absolute parts,
 * backslashes used as separators, and results outside `base`. With `followSymlinks`, the
 * deepest existing ancestor is resolved with realpath and must also stay inside realpath(base).
 */
export function containedPath(base: string, parts: readonly string[], followSymlinks = true): Contained {
  for (const part of parts) {
    if (part.includes('\0')) return { ok: false, reason: 'nul_byte' };
    if (path.isAbsolute(part) || /^[a-zA-Z]:/.test(part) || part.startsWith('\\')) return { ok: false, reason: 'absolute' };
    // Windows separators are ordinary characters on POSIX, but ComfyUI clients may be on Windows:
    // treat `..\x` as the traversal it is meant to be.
    if (part.split(/[\\/]/).includes('..')) return { ok: false, reason: 'traversal' };
  }
  const absBase = path.resolve(base);
  const target = path.resolve(absBase, ...parts);
  if (!isInside(absBase, target)) return { ok: false, reason: 'traversal' };
  if (followSymlinks && !realpathInside(absBase, target)) return { ok: false, reason: 'symlink_escape' };
  return { ok: true, path: target };
}

function realpathInside(absBase: string, target: string): boolean {
  let realBase: string;
  try {
    realBase = fs.realpathSync(absBase);
  } catch {
    return true; // base does not exist yet: nothing under it can be a link
  }
  let probe = target;
  for (;;) {
    try {
      const real = fs.realpathSync(probe);
      return isInside(realBase, real);
    } catch {
      const parent = path.dirname(probe);
      if (parent === probe) return true;
      probe = parent;
    }
  }
}
