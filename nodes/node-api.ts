/**
 * The node API: how a node declares itself (ComfyUI's INPUT_TYPES, RETURN_TYPES, FUNCTION, …)
 * and what it receives when it runs. Built-in nodes and plugins use the same types.
 *
 * A ComfyUI Python node and its Comfy8 twin:
 *   class ImageInvert:                              defineNode({
 *     @classmethod                                     name: 'ImageInvert',
 *     def INPUT_TYPES(s):                              category: 'image',
 *       return {"required": {"image": ("IMAGE",)}}     inputTypes: { required: { image: ['IMAGE'] } },
 *     RETURN_TYPES = ("IMAGE",)                        returnTypes: ['IMAGE'],
 *     FUNCTION = "invert"                              execute: ({ image }) => [invert(image)],
 *     CATEGORY = "image"                             })
 *     def invert(self, image): return (1.0 - image,)
 */
import type { ApiPrompt, UiOutput } from '../compat/api-types.js';
import type { FolderPaths } from '../compat/folder-paths.js';

/** Options of an input spec (spec §1.5); unknown keys pass through to `/object_info`. */
export interface InputOptions {
  default?: unknown;
  min?: number;
  max?: number;
  step?: number;
  round?: number | false;
  tooltip?: string;
  forceInput?: boolean;
  defaultInput?: boolean;
  lazy?: boolean;
  rawLink?: boolean;
  multiline?: boolean;
  placeholder?: string;
  dynamicPrompts?: boolean;
  display?: 'number' | 'slider' | 'color' | 'knob';
  control_after_generate?: boolean | string;
  image_upload?: boolean;
  image_folder?: 'input' | 'output' | 'temp';
  options?: readonly unknown[];
  multiselect?: boolean;
  remote?: Record<string, unknown>;
  label_on?: string;
  label_off?: string;
  advanced?: boolean;
  [key: string]: unknown;
}

/** `[TYPE]` or `[TYPE, options]`; TYPE is a type name or a legacy combo list of choices. */
export type InputSpec = readonly [type: string | readonly unknown[], options?: InputOptions];

export type HiddenKind =
  | 'PROMPT'
  | 'DYNPROMPT'
  | 'EXTRA_PNGINFO'
  | 'UNIQUE_ID'
  | 'AUTH_TOKEN_COMFY_ORG'
  | 'API_KEY_COMFY_ORG'
  | 'COMFY_USAGE_SOURCE';

export interface InputTypes {
  required?: Record<string, InputSpec>;
  optional?: Record<string, InputSpec>;
  hidden?: Record<string, HiddenKind>;
}

export interface Logger {
  debug(msg: string, ...rest: unknown[]): void;
  info(msg: string, ...rest: unknown[]): void;
  warn(msg: string, ...rest: unknown[]): void;
  error(msg: string, ...rest: unknown[]): void;
}

/** Server-wide facts a node may read; frozen at start-up (or built by a test). */
export interface NodeEnvironment {
  readonly folders: FolderPaths;
  /** `--disable-metadata`: no PNG text chunks. */
  readonly disableMetadata: boolean;
  /** `--preview-method` (`none` | `auto` | `latent2rgb` | `taesd`). */
  readonly previewMethod: string;
  /** `--preview-size`, default 512. */
  readonly previewSize: number;
  readonly log: Logger;
  /** Loaded model parts (MMDiT, text encoders, VAE) shared by every loader node; absent in bare tests. */
  readonly models?: ModelStore;
}

/**
 * A loadable model part: `key` names what is loaded (file paths + precision/options), so two
 * loaders asking for the same key share one load.
 */
export interface ModelPartSpec<T> {
  readonly key: string;
  /** For logs and errors, e.g. `mmdit sd3.5_medium.safetensors (fp8)`. */
  readonly label: string;
  load(): Promise<LoadedModelPart<T>>;
}

export interface LoadedModelPart<T> {
  readonly value: T;
  /** Resident bytes the part holds (its weights), for the RAM budget. */
  readonly bytes: number;
  release(): Promise<void> | void;
}

/** A part in use: it is not evicted until every lease on it is released. */
export interface ModelLease<T> {
  readonly value: T;
  release(): void;
}

/** Precision policy from the command line (server/precision-flags.ts). */
export interface ModelPrecisionPolicy {
  /** MMDiT weights for `weight_dtype = default`: 'fp8' (FP8 blocks) or 'fp32'. */
  readonly unet: 'fp8' | 'fp32';
  /** Text encoders: 'auto' = each encoder's engine default (CLIP fp32, T5 fp8). */
  readonly textEncoder: 'auto' | 'fp8' | 'fp32';
  readonly vae: 'fp32';
}

export interface ModelStoreUsage {
  readonly budgetBytes: number;
  readonly residentBytes: number;
  readonly parts: readonly { readonly key: string; readonly label: string; readonly bytes: number; readonly leases: number }[];
}

export interface ModelStore {
  readonly precision: ModelPrecisionPolicy;
  acquire<T>(spec: ModelPartSpec<T>): Promise<ModelLease<T>>;
  /** Releases every part not in use (`/free`); returns how many were unloaded. */
  unloadAll(): Promise<number>;
  usage(): ModelStoreUsage;
}

/** An encoded preview frame; the server wraps it as binary type 1 or 4 (spec §2.5). */
export interface PreviewImage {
  format: 'jpeg' | 'png';
  data: Uint8Array;
}

/** What a running node can see and do. */
export interface ExecutionContext {
  /** The executing node id (`UNIQUE_ID`), possibly an expansion id like `"5.0.0.1"`. */
  readonly nodeId: string;
  readonly promptId: string;
  readonly env: NodeEnvironment;
  /** Aborted when the prompt is interrupted; pass it to long async work. */
  readonly signal: AbortSignal;
  /** Throws `InterruptedError` if the prompt was interrupted. Long loops call it between steps. */
  checkInterrupt(): void;
  /** Reports progress (`progress` + `progress_state` messages, and a preview frame if given). */
  progress(value: number, max: number, preview?: PreviewImage): void;
  /** Progress text (binary frame type 3). */
  progressText(text: string): void;
  /** Per-prompt preview method (`extra_data.preview_method` or the server flag). */
  readonly previewMethod: string;
}

/** A node's return: one value per output, or ComfyUI's dict form. */
export type NodeReturn =
  | readonly unknown[]
  | {
      result?: readonly unknown[];
      ui?: UiOutput;
      /** A sub-graph to splice in (spec §3.8); `result` may then hold links into it. */
      expand?: ApiPrompt;
    };

export interface ValidateInputsSpec<I> {
  /**
   * The inputs the validator takes (ComfyUI reads them from the Python signature): these skip
   * the built-in min/max/combo checks. `'*'` = all inputs (Python `**kwargs`).
   */
  inputs: readonly string[] | '*';
  /** Wants `input_types` ({name: received link type}). */
  wantsInputTypes?: boolean;
  /**
   * `inputTypes` is set only when `wantsInputTypes`; `env` is the server's environment
   * (file-checking validators such as LoadImage's need it).
   */
  fn(
    inputs: Partial<I>,
    inputTypes: Record<string, string> | undefined,
    env: NodeEnvironment,
  ): boolean | string | Promise<boolean | string>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyInputs = Record<string, any>;

export interface NodeDefinition<I extends AnyInputs = AnyInputs> {
  /** The class type (`class_type` in prompts, key in `/object_info`). */
  readonly name: string;
  readonly displayName?: string;
  readonly description?: string;
  /** Slash path, e.g. `"image/transform"`. ComfyUI's default is `"sd"`. */
  readonly category: string;
  /** `"nodes"` for core nodes, `"comfy_extras.nodes_x"`, `"custom_nodes.<pack>"`. */
  readonly pythonModule?: string;
  /** INPUT_TYPES: a function when choices depend on files (e.g. LoadImage lists the input dir). */
  readonly inputTypes: InputTypes | ((env: NodeEnvironment) => InputTypes);
  /** RETURN_TYPES; an entry may be a combo list. */
  readonly returnTypes: readonly (string | readonly unknown[])[];
  readonly returnNames?: readonly string[];
  readonly outputIsList?: readonly boolean[];
  readonly outputTooltips?: readonly string[];
  readonly outputNode?: boolean;
  readonly inputIsList?: boolean;
  readonly hasIntermediateOutput?: boolean;
  /** NOT_IDEMPOTENT: the node id joins the cache key. */
  readonly notIdempotent?: boolean;
  readonly deprecated?: boolean;
  readonly experimental?: boolean;
  readonly searchAliases?: readonly string[];
  /** FUNCTION: called with the inputs by name (ComfyUI's keyword arguments). */
  execute(inputs: I, ctx: ExecutionContext): NodeReturn | Promise<NodeReturn>;
  /** IS_CHANGED: called with constant inputs (linked ones undefined); NaN = always re-run. */
  isChanged?(inputs: Partial<I>, env: NodeEnvironment): unknown;
  /** VALIDATE_INPUTS. */
  readonly validateInputs?: ValidateInputsSpec<I>;
  /** check_lazy_status: names of lazy inputs still needed (unevaluated ones arrive undefined). */
  checkLazyStatus?(inputs: Partial<I>, ctx: ExecutionContext): readonly string[] | Promise<readonly string[]>;
}

/** Identity with types: `defineNode<{ image: Tensor }>({ ... })`. */
export function defineNode<I extends AnyInputs = AnyInputs>(def: NodeDefinition<I>): NodeDefinition<I> {
  return def;
}

export function resolveInputTypes(def: NodeDefinition, env: NodeEnvironment): InputTypes {
  return typeof def.inputTypes === 'function' ? def.inputTypes(env) : def.inputTypes;
}

/** Raised by `checkInterrupt`; the executor turns it into `execution_interrupted`. */
export class InterruptedError extends Error {
  constructor() {
    super('Processing interrupted');
    this.name = 'InterruptProcessingException';
  }
}

/**
 * ComfyUI's ExecutionBlocker: returned as an output value, it makes every consumer skip execution.
 * Use for optional branches that must stop quietly (message null) or with an error message.
 */
export class ExecutionBlocker {
  constructor(readonly message: string | null) {}
}
