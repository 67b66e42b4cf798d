/**
 * Errors raised on behalf of a plugin node. Every message starts with `custom_nodes.<pack>` and
 * the node's name so that an `execution_error` tells the user which pack to blame.
 */

export function nodeLabel(pack: string, node: string): string {
  return `[custom_nodes.${pack}] ${node}`;
}

/** A value given to or returned by a plugin node does not match its declared type. */
export class PluginTypeError extends Error {
  constructor(
    readonly pack: string,
    readonly node: string,
    detail: string,
  ) {
    super(`${nodeLabel(pack, node)}: ${detail}`);
    this.name = 'PluginTypeError';
  }
}

/** An output holds NaN or ±Inf and the node's NaN policy is `fail`. */
export class PluginNonFiniteError extends Error {
  constructor(
    readonly pack: string,
    readonly node: string,
    detail: string,
  ) {
    super(`${nodeLabel(pack, node)}: ${detail}`);
    this.name = 'PluginNonFiniteError';
  }
}

/**
 * What the plugin itself threw, with pack and node prefixed to the message. The name (and so
 * `exception_type`) and the stack (the traceback) stay those of the original error.
 */
export function wrapPluginFailure(pack: string, node: string, err: unknown): Error {
  const original = err instanceof Error ? err : new Error(String(err));
  const wrapped = new Error(`${nodeLabel(pack, node)}: ${original.message}`, { cause: original });
  wrapped.name = original.name && original.name !== 'Error' ? original.name : original.constructor?.name || 'Error';
  if (original.stack) {
    const [, ...frames] = original.stack.split('\n');
    wrapped.stack = [`${wrapped.name}: ${wrapped.message}`, ...frames.filter((line) => /^\s+at /.test(line))].join('\n');
  }
  return wrapped;
}
