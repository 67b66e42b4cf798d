/** Tokenizers for SD3's text encoders, as ComfyUI tokenizes (spec/sd3-engine.md §3.1–3.4). */
export * from './prompt-weights.js';
export * from './sd-tokenizer.js';
export * from './clip-tokenizer.js';
export * from './t5-tokenizer.js';
export { basicClean } from './basic-clean.js';
export { BUNDLED_TOKENIZER_DIR, loadHfTokenizer } from './data-files.js';
