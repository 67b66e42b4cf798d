/**
 * Loads the bundled tokenizer data (data/, provenance in data/SOURCES.md). The files sit next to
 * the sources, so a build that copies engine/ must copy engine/tokenizers/data/ too; `dataDir`
 * points elsewhere.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';

export const BUNDLED_TOKENIZER_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data');

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
