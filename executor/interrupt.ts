/**
 * The interrupt flag shared by `/interrupt` and the running prompt. Listeners let the executor
 * abort `ctx.signal` the moment the flag is set instead of at its next poll.
 */
import type { InterruptFlag } from './types.js';

export interface ListenableInterruptFlag extends InterruptFlag {
  /** Calls `listener` whenever the flag is set; returns the unsubscribe function. */
  onSet(listener: () => void): () => void;
}

export function createInterruptFlag(): ListenableInterruptFlag {
  let isSet = false;
  const listeners = new Set<() => void>();
  return {
    get isSet() {
      return isSet;
    },
    set() {
      isSet = true;
      for (const listener of [...listeners]) listener();
    },
    reset() {
      isSet = false;
    },
    onSet(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function isListenable(flag: InterruptFlag): flag is ListenableInterruptFlag {
  return typeof (flag as Partial<ListenableInterruptFlag>).onSet === 'function';
}
