/**
 * Runs the engine's synchronous samplers (engine/sampling: the model is a plain function) over an
 * asynchronous model (the onnxruntime session) without touching the sampler code.
 *
 * The sampler runs from the start; when it asks for a model output not computed yet, the model
 * function throws `PendingModelCall`, the output is computed asynchronously and the sampler is run
 * again from the start with every earlier output (and noise draw) replayed from memory. Samplers
 * are deterministic given model outputs and noise, so each replay retraces the same path and gets
 * one call further. Between calls the event loop runs (WebSocket frames go out, `/interrupt`
 * arrives). Cost: the sampler's vector arithmetic is redone O(steps²) times — milliseconds per
 * step at SD3 latent sizes, against seconds-to-minutes per MMDiT call on a CPU.
 */
import type { NoiseInterval, NoiseSource } from '../../engine/sampling/samplers/types.js';

export class PendingModelCall<B> extends Error {
  constructor(readonly batch: B) {
    super('model output pending (internal replay signal)');
    this.name = 'PendingModelCall';
  }
}

export interface ReplayHooks<B> {
  /** Computes one model output. */
  evaluate(batch: B): Promise<Float32Array>;
  /** Runs between model calls (progress reporting, interrupt checks). */
  between(): Promise<void>;
}

/** Calls `body` until it completes without a pending model call; returns its result. */
export async function runWithAsyncModel<B, R>(body: (model: (batch: B) => Float32Array) => R, hooks: ReplayHooks<B>): Promise<R> {
  const outputs: Float32Array[] = [];
  for (;;) {
    let next = 0;
    const model = (batch: B): Float32Array => {
      if (next < outputs.length) return outputs[next++];
      throw new PendingModelCall(batch);
    };
    let pending: PendingModelCall<B>;
    try {
      return body(model);
    } catch (error) {
      if (!(error instanceof PendingModelCall)) throw error;
      pending = error as PendingModelCall<B>;
    }
    await hooks.between();
    outputs.push(await hooks.evaluate(pending.batch));
  }
}

/** A noise source whose draws are recorded, so a replay gets the same values (`rewind()` per replay). */
export function replayableNoise(source: NoiseSource): { source: NoiseSource; rewind(): void } {
  const drawn: Float32Array[] = [];
  let next = 0;
  return {
    source: (shape: readonly number[], interval: NoiseInterval) => {
      if (next < drawn.length) return drawn[next++].slice();
      const values = source(shape, interval);
      drawn.push(values.slice());
      next++;
      return values;
    },
    rewind: () => {
      next = 0;
    },
  };
}
