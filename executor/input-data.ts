/**
 * Gathering a node's call arguments (ComfyUI's `get_input_data`): every value is a list, one
 * element per list iteration (spec §3.6). Links read their source's output list; constants
 * become one-element lists; hidden inputs are injected (spec §3.9).
 */
import { isLink, type ApiPrompt, type Link } from '../compat/api-types.js';
import type { InputOptions, InputSpec, InputTypes } from '../nodes/node-api.js';

export type InputCategory = 'required' | 'optional' | 'hidden';

export interface InputInfo {
  type: InputSpec[0];
  category: InputCategory;
  options: InputOptions;
}

/** Where an input is declared (required before optional before hidden), or undefined. */
export function inputInfo(types: InputTypes, name: string): InputInfo | undefined {
  for (const category of ['required', 'optional'] as const) {
    const spec = types[category]?.[name];
    if (spec) return { type: spec[0], category, options: spec[1] ?? {} };
  }
  const hidden = types.hidden?.[name];
  if (hidden) return { type: hidden, category: 'hidden', options: {} };
  return undefined;
}

export interface HiddenSources {
  /** The submitted prompt (`{}` while validating, as ComfyUI passes no prompt there). */
  prompt: ApiPrompt | Record<string, never>;
  dynprompt: unknown;
  /** extra_data with the sensitive keys re-attached. */
  extraData: Record<string, unknown>;
}

export interface GatheredInputs {
  values: Record<string, unknown[]>;
  /** Linked inputs whose source has no value (yet): lazy or unevaluated; they hold `[undefined]`. */
  missing: Set<string>;
}

/** Reads output list `slot` of a link's source; undefined when the source has no value yet. */
export type LinkReader = (link: Link) => unknown[] | undefined;

export function gatherInputs(
  inputs: Record<string, unknown>,
  types: InputTypes,
  uniqueId: string,
  readLink: LinkReader | undefined,
  hidden: HiddenSources,
): GatheredInputs {
  const values: Record<string, unknown[]> = {};
  const missing = new Set<string>();
  for (const [name, value] of Object.entries(inputs)) {
    const info = inputInfo(types, name);
    if (isLink(value) && !info?.options.rawLink) {
      const list = readLink?.(value);
      if (list === undefined) {
        missing.add(name);
        values[name] = [undefined];
      } else {
        values[name] = list;
      }
    } else if (info) {
      values[name] = [value];
    }
  }
  Object.assign(values, hiddenValues(types, uniqueId, hidden));
  return { values, missing };
}

function hiddenValues(types: InputTypes, uniqueId: string, src: HiddenSources): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [name, kind] of Object.entries(types.hidden ?? {})) {
    switch (kind) {
      case 'PROMPT':
        out[name] = [src.prompt];
        break;
      case 'DYNPROMPT':
        out[name] = [src.dynprompt];
        break;
      case 'EXTRA_PNGINFO':
        out[name] = [src.extraData.extra_pnginfo ?? null];
        break;
      case 'UNIQUE_ID':
        out[name] = [uniqueId];
        break;
      case 'AUTH_TOKEN_COMFY_ORG':
        out[name] = [src.extraData.auth_token_comfy_org ?? null];
        break;
      case 'API_KEY_COMFY_ORG':
        out[name] = [src.extraData.api_key_comfy_org ?? null];
        break;
      case 'COMFY_USAGE_SOURCE':
        out[name] = [src.extraData.comfy_usage_source ?? null];
        break;
    }
  }
  return out;
}

/**
 * Splits gathered lists into per-call argument dicts (spec §3.6): INPUT_IS_LIST → one call
 * with the whole lists; else max(len) calls, reusing a shorter list's last element.
 */
export function sliceCalls(values: Record<string, unknown[]>, inputIsList: boolean): Record<string, unknown>[] {
  if (inputIsList) return [values];
  const lengths = Object.values(values).map((v) => v.length);
  const count = lengths.length === 0 ? 0 : Math.max(...lengths);
  // ComfyUI calls a node once with no arguments at all when every list is empty.
  if (count === 0) return [{}];
  const calls: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const call: Record<string, unknown> = {};
    for (const [name, list] of Object.entries(values)) call[name] = list[Math.min(i, list.length - 1)];
    calls.push(call);
  }
  return calls;
}
