/**
 * Loads the bundled tokenizer data (data/, provenance in data/SOURCES.md). The files sit next to
 * the sources, so a build that copies engine/ must copy engine/tokenizers/data/ too; `dataDir`
 * points elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';

/**
 * Beside this module in the sources; from the compiled `dist/engine/tokenizers/` the data stays in
 * the sources' folder, found by walking up to the project root (the folder holding engine/tokenizers/data).
 */
function findBundledDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'data');
  if (existsSync(path.join(beside, 'clip'))) return beside;
  for (let dir = path.dirname(here); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'engine', 'tokenizers', 'data');
    if (existsSync(path.join(candidate, 'clip'))) return candidate;
  }
  return beside;
}

export const BUNDLED_TOKENIZER_DIR = findBundledDir();

const cache = new Map<string, Tokenizer>();

/** An @huggingface/tokenizers Tokenizer from `<dataDir>/<name>/tokenizer.json` (+ tokenizer_config.json), cached per folder. */
export function loadHfTokenizer(name: 'clip' | 't5', dataDir = BUNDLED_TOKENIZER_DIR): Tokenizer {
  const folder = path.join(dataDir, name);
  const known = cache.get(folder);
  if (known) return known;
  let tokenizer: Tokenizer;
  try {
    const json = JSON.parse(readFileSync(path.join(folder, 'tokenizer.json'), 'utf8')) as object;
    const config = JSON.parse(readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8')) as object;
    tokenizer = new Tokenizer(json, config);
  } catch (error) {
    throw new Error(`tokenizer '${name}': cannot load tokenizer.json/tokenizer_config.json from ${folder}: ${(error as Error).message}`, { cause: error });
  }
  cache.set(folder, tokenizer);
  return tokenizer;
}
