/**
 * The engine's one door to onnxruntime-node (the only module in the project importing it, with
 * tensor-convert.ts). A session is made from model bytes or a path, checks its feeds against the
 * model's inputs, and converts engine Tensors in and out.
 *
 * External data: locations in the model are relative. For a model given as a path they resolve
 * against the model's folder; for bytes, against `externalDataFolder` (onnxruntime's session config
 * `session.model_external_initializers_file_folder_path`). onnxruntime 1.30 rejects absolute
 * locations and any that leave that folder (symlinks included), and reads the bytes itself, so
 * weights referenced there never pass through JavaScript.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../tensor.js';
import { checkFeeds, describeFeeds, type ValueSpec } from './input-check.js';
import { fromOrtTensor, toOrtTensor } from './tensor-convert.js';

export type Device = 'cpu' | 'cuda';
export type LogFn = (level: 'info' | 'warn', message: string) => void;

export interface SessionOptions {
  /** Used in error messages. */
  name?: string;
  /** 'cuda' uses the CUDA execution provider when this onnxruntime build can load it, else CPU (logged). */
  device?: Device;
  /** Default 'all'. FP8 initializers stay FP8 at every level (spec/sd3-engine.md §6.4). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Intra-op threads; 0 or omitted lets onnxruntime choose (one per core). */
  intraOpThreads?: number;
  /**
   * Default false: with the arena on, dequantised float32 temporaries stay cached after a run
   * (+4.8 GiB for 8 × 8192² FP8 weights, §6.4); off, they are returned.
   */
  enableCpuMemArena?: boolean;
  /** Folder that external-data locations are relative to, for a model given as bytes. */
  externalDataFolder?: string;
  log?: LogFn;
}

export interface RunOptions {
  /** Fetch only these outputs (default: all). */
  outputs?: readonly string[];
}

export interface EngineSession {
  readonly name: string;
  readonly device: Device;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  run(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/**
 * Whether the CUDA execution provider can be tried: the build lists it and its provider library
 * sits next to the binding (npm installs made with ONNXRUNTIME_NODE_INSTALL=skip lack it, §6.4).
 * Checked up front so a CPU-only install does not print onnxruntime's load error on every session.
 */
export function cudaAvailable(): boolean {
  if (!ort.listSupportedBackends().some((b) => b.name === 'cuda')) return false;
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node'); // …/dist/index.js
  const bindingDir = path.join(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return fs.existsSync(path.join(bindingDir, 'libonnxruntime_providers_cuda.so')) || fs.existsSync(path.join(bindingDir, 'onnxruntime_providers_cuda.dll'));
}

function ortOptions(opts: SessionOptions, device: Device): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    enableCpuMemArena: opts.enableCpuMemArena ?? false,
    intraOpNumThreads: opts.intraOpThreads ?? 0,
    logSeverityLevel: 3,
  };
  if (opts.externalDataFolder !== undefined) {
    // Node binding flattens `extra` into session config entries: session.<key>.
    (options as { extra?: unknown }).extra = { session: { model_external_initializers_file_folder_path: opts.externalDataFolder } };
  }
  return options;
}

function specsOf(metadata: readonly ort.InferenceSession.ValueMetadata[]): ValueSpec[] {
  return metadata.map((m) => (m.isTensor ? { name: m.name, type: m.type, dims: [...m.shape] } : { name: m.name, type: 'non-tensor', dims: [] }));
}

async function openOrt(model: Uint8Array | string, opts: SessionOptions): Promise<{ session: ort.InferenceSession; device: Device }> {
  const open = (device: Device) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, ortOptions(opts, device))
      : ort.InferenceSession.create(model, ortOptions(opts, device));
  if (opts.device !== 'cuda') return { session: await open('cpu'), device: 'cpu' };
  if (!cudaAvailable()) {
    opts.log?.('warn', `session '${opts.name ?? 'model'}': this onnxruntime-node install has no CUDA provider library; using CPU`);
    return { session: await open('cpu'), device: 'cpu' };
  }
  try {
    return { session: await open('cuda'), device: 'cuda' };
  } catch (error) {
    opts.log?.('warn', `session '${opts.name ?? 'model'}': CUDA execution provider unavailable (${String(error)}); using CPU`);
    return { session: await open('cpu'), device: 'cpu' };
  }
}

export async function createSession(model: Uint8Array | string, opts: SessionOptions = {}): Promise<EngineSession> {
  const name = opts.name ?? (typeof model === 'string' ? model : 'model');
  let opened: { session: ort.InferenceSession; device: Device };
  try {
    opened = await openOrt(model, opts);
  } catch (error) {
    throw new Error(`session '${name}': onnxruntime could not load the model: ${(error as Error).message}`, { cause: error });
  }
  const { session, device } = opened;
  const inputs = specsOf(session.inputMetadata);
  const outputs = specsOf(session.outputMetadata);
  let released = false;

  async function run(feeds: Readonly<Record<string, Tensor>>, runOpts: RunOptions = {}): Promise<Record<string, Tensor>> {
    if (released) throw new Error(`session '${name}' was released`);
    checkFeeds(name, inputs, feeds);
    const unknownOutputs = (runOpts.outputs ?? []).filter((o) => !outputs.some((spec) => spec.name === o));
    if (unknownOutputs.length > 0) {
      throw new Error(`session '${name}': unknown output(s) ${unknownOutputs.join(', ')}; outputs are ${outputs.map((o) => o.name).join(', ')}`);
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [inputName, t] of Object.entries(feeds)) ortFeeds[inputName] = toOrtTensor(t);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = runOpts.outputs ? await session.run(ortFeeds, [...runOpts.outputs]) : await session.run(ortFeeds);
    } catch (error) {
      throw new Error(`session '${name}': run failed with inputs ${describeFeeds(feeds)}: ${(error as Error).message}`, { cause: error });
    }
    const out: Record<string, Tensor> = {};
    for (const [outName, value] of Object.entries(results)) out[outName] = fromOrtTensor(outName, value as ort.Tensor);
    return out;
  }

  async function release(): Promise<void> {
    if (released) return;
    released = true;
    await session.release();
  }

  return { name, device, inputs, outputs, run, release };
}
