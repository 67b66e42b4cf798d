/**
 * The workflow and prompt ComfyUI embeds in the images it saves: PNG text chunks `workflow` and
 * `prompt` (SaveImage), WebP EXIF/XMP (SaveAnimatedWEBP).
 *
 *   const found = extractWorkflowFromImage(fs.readFileSync('ComfyUI_00001_.png'));
 *   found?.workflow  // the UI workflow, parsed
 *   found?.prompt    // the API prompt, parsed
 */
import { isPng, readPngText } from '../png-text.js';
import { isWebp, readWebpText } from './webp-metadata.js';

export interface ImageWorkflow {
  format: 'png' | 'webp';
  /** The UI workflow (`workflow` entry), when present and valid JSON. */
  workflow?: unknown;
  /** The API prompt (`prompt` entry), when present and valid JSON. */
  prompt?: unknown;
  /** Entries that were present but not JSON, with the parse error. */
  unreadable: Record<string, string>;
}

/**
 * JSON as Python's json.dumps may write it: bare NaN / Infinity (allowed by Python, not by JSON)
 * become null.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const patched = text.replace(/"(?:[^"\\]|\\.)*"|-?\bInfinity\b|\bNaN\b/g, (m) => (m.startsWith('"') ? m : 'null'));
    if (patched === text) throw err;
    return JSON.parse(patched);
  }
}

/** The embedded workflow/prompt, or null when the bytes are not a PNG or WebP image. */
export function extractWorkflowFromImage(bytes: Uint8Array): ImageWorkflow | null {
  let format: ImageWorkflow['format'];
  let text: Record<string, string>;
  if (isPng(bytes)) {
    format = 'png';
    text = readPngText(bytes);
  } else if (isWebp(bytes)) {
    format = 'webp';
    text = readWebpText(bytes);
  } else {
    return null;
  }
  const found: ImageWorkflow = { format, unreadable: {} };
  for (const key of ['workflow', 'prompt'] as const) {
    if (text[key] === undefined) continue;
    try {
      found[key] = parsePythonJson(text[key]!);
    } catch (err) {
      found.unreadable[key] = (err as Error).message;
    }
  }
  return found;
}
