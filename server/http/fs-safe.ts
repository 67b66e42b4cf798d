/** `fs.statSync` that answers null for any failure (missing, name too long, not a directory…). */
import fs from 'node:fs';

export function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}
