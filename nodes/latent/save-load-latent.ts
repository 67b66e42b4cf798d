/**
 * SaveLatent / LoadLatent and ComfyUI's `.latent` file: a safetensors file holding
 *   `latent_tensor`            the samples `[B, C, H, W]` (float32 as saved by ComfyUI)
 *   `latent_format_version_0`  an empty float32 tensor — its presence marks the current format;
 * and, unless metadata is disabled, header metadata `prompt` (JSON of the API prompt, `""` when
 * none) plus one JSON string per extra_pnginfo key (normally `workflow`).
 * Files without the marker predate it and stored latents scaled by 0.18215: LoadLatent multiplies
 * them by 1 / 0.18215.
 */
import path from 'node:path';
import { getSaveImagePath } from '../../compat/filename-prefix.js';
import { pythonJsonDumps } from '../../compat/python-json.js';
import { openSafetensors, writeSafetensors } from '../../engine/safetensors.js';
import { tensor, zeros, type Tensor } from '../../engine/tensor.js';
import { annotatedFileExists, fileSha256, listInputFiles, requireAnnotatedFile } from '../image/load-image.js';
import { defineNode, type InputTypes, type NodeEnvironment, type NodeReturn } from '../node-api.js';
import type { Latent } from './latent.js';

export const LATENT_TENSOR_KEY = 'latent_tensor';
export const LATENT_FORMAT_MARKER = 'latent_format_version_0';
/** Scale of pre-marker `.latent` files (SD1.x VAE scaling factor). */
export const OLD_LATENT_SCALE = 0.18215;

export function latentMetadata(prompt: unknown, extraPnginfo: Record<string, unknown> | null | undefined): Record<string, string> {
  const metadata: Record<string, string> = { prompt: prompt === undefined || prompt === null ? '' : pythonJsonDumps(prompt) };
  if (extraPnginfo) for (const [key, value] of Object.entries(extraPnginfo)) metadata[key] = pythonJsonDumps(value);
  return metadata;
}

export function writeLatentFile(file: string, samples: Tensor<'float32'>, metadata?: Record<string, string>): void {
  const tensors = { [LATENT_TENSOR_KEY]: samples, [LATENT_FORMAT_MARKER]: zeros('float32', [0]) };
  writeSafetensors(file, tensors, metadata);
}

/** Reads a `.latent` file as ComfyUI's LoadLatent does (float32, old-format rescaling). */
export function readLatentFile(file: string): Latent {
  const st = openSafetensors(file);
  try {
    const keys = st.keys();
    if (!keys.includes(LATENT_TENSOR_KEY)) {
      throw new Error(`${path.basename(file)} is not a latent file: no '${LATENT_TENSOR_KEY}' tensor (has: ${keys.join(', ') || 'none'})`);
    }
    const samples = st.readFloat32(LATENT_TENSOR_KEY);
    if (keys.includes(LATENT_FORMAT_MARKER)) return { samples };
    const multiplier = Math.fround(1 / OLD_LATENT_SCALE);
    const scaled = samples.data.map((v: number) => Math.fround(v * multiplier));
    return { samples: tensor('float32', samples.shape, scaled) };
  } finally {
    st.close();
  }
}

interface SaveLatentInputs {
  samples: Latent;
  filename_prefix?: string;
  prompt?: unknown;
  extra_pnginfo?: Record<string, unknown> | null;
}

export const SaveLatent = defineNode<SaveLatentInputs>({
  name: 'SaveLatent',
  displayName: 'Save Latent',
  category: 'model/latent',
  searchAliases: ['export latent'],
  inputTypes: {
    required: {
      samples: ['LATENT'],
      filename_prefix: ['STRING', { default: 'latents/ComfyUI' }],
    },
    hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
  },
  returnTypes: ['LATENT'],
  returnNames: ['samples'],
  outputNode: true,
  async execute(inputs, ctx): Promise<NodeReturn> {
    const where = getSaveImagePath(inputs.filename_prefix ?? 'ComfyUI', ctx.env.folders.outputDir);
    const metadata = ctx.env.disableMetadata ? undefined : latentMetadata(inputs.prompt, inputs.extra_pnginfo);
    const file = `${where.filename}_${String(where.counter).padStart(5, '0')}_.latent`;
    writeLatentFile(path.join(where.fullOutputFolder, file), inputs.samples.samples, metadata);
    return { ui: { latents: [{ filename: file, subfolder: where.subfolder, type: 'output' }] }, result: [inputs.samples] };
  },
});

function latentInputTypes(env: NodeEnvironment): InputTypes {
  const files = listInputFiles(env.folders.inputDir, null).filter((f) => f.endsWith('.latent'));
  return { required: { latent: [files] } };
}

export const LoadLatent = defineNode<{ latent: string }>({
  name: 'LoadLatent',
  displayName: 'Load Latent',
  category: 'model/latent',
  searchAliases: ['import latent', 'open latent'],
  inputTypes: latentInputTypes,
  returnTypes: ['LATENT'],
  execute({ latent }, ctx) {
    return [readLatentFile(requireAnnotatedFile(ctx.env.folders, latent, 'Latent file'))];
  },
  isChanged: (inputs, env) => fileSha256(env.folders, inputs.latent),
  validateInputs: {
    inputs: ['latent'],
    fn: (inputs, _inputTypes, env) => {
      const name = inputs.latent;
      if (typeof name !== 'string' || !annotatedFileExists(env.folders, name)) return `Invalid latent file: ${String(name)}`;
      return true;
    },
  },
});

