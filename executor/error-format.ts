/**
 * How a thrown JavaScript value shows up in ComfyUI's error payloads: `exception_type`,
 * `traceback` (stack lines) and the `str(ex)` text.
 */
import { PyError } from './py-values.js';

/** `exception_type`: the builtin name for PyError, else the error's own name or class name. */
export function exceptionTypeName(err: unknown): string {
  if (err instanceof PyError) return err.pyType;
  if (err instanceof Error) {
    if (err.name && err.name !== 'Error') return err.name;
    return err.constructor?.name || 'Error';
  }
  return 'Error';
}

/** `str(ex)`. */
export function exceptionMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Stack frames as Python's `traceback.format_tb` gives them: one string per frame, newline-ended. */
export function tracebackLines(err: unknown): string[] {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return [];
  return err.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => `${line.trimEnd()}\n`);
}
