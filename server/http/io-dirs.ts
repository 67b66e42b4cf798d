/**
 * Resolving `{filename, type, subfolder}` references to files in input/output/temp, with the
 * checks `/view` and `/upload/mask` share (spec §1.6).
 */
import path from 'node:path';
import { ERRORS, HttpError } from '../../compat/errors.js';
import type { FolderPaths, IoDirectory } from '../../compat/folder-paths.js';
import { containedPath } from '../../compat/safe-path.js';

export const IO_TYPES: readonly IoDirectory[] = ['output', 'input', 'temp'];

export function ioType(value: string | undefined, fallback: IoDirectory): IoDirectory {
  const t = value ?? fallback;
  if (!(IO_TYPES as readonly string[]).includes(t)) throw new HttpError(ERRORS.FILE_TYPE_INVALID, { vars: { value: t } });
  return t as IoDirectory;
}

export interface FileRef {
  filename: string;
  type?: string;
  subfolder?: string;
}

/**
 * The absolute path a reference names. Annotations (`"x.png [temp]"`) override `type`; the
 * filename must be non-empty, relative and free of `..` (400); the subfolder must stay inside
 * the directory (403); only the filename's basename is used.
 */
export function resolveIoFile(folders: FolderPaths, ref: FileRef, defaultType: IoDirectory): { path: string; name: string; type: IoDirectory } {
  const hasAnnotation = /\s\[(input|output|temp)\]$/.test(ref.filename);
  const ann = folders.annotated(ref.filename, 'output');
  const name = ann.name;
  if (!name || name.startsWith('/') || name.includes('..') || name.includes('\0')) throw new HttpError(ERRORS.FILE_NAME_INVALID);
  const type = hasAnnotation ? ann.type : ioType(ref.type, defaultType);
  const base = folders.getDirectory(type);
  const sub = containedPath(base, ref.subfolder ? [ref.subfolder] : []);
  if (!sub.ok) throw new HttpError(ERRORS.FILE_SUBFOLDER_ESCAPE, { vars: { dir: type } });
  const file = containedPath(sub.path, [path.basename(name)]);
  if (!file.ok) throw new HttpError(ERRORS.FILE_SUBFOLDER_ESCAPE, { vars: { dir: type } });
  return { path: file.path, name: path.basename(name), type };
}
