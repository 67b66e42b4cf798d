/**
 * Pipeline benchmark: prints figures, asserts nothing.
 *   npm run bench:pipeline [-- --models demo,medium --size 512 --steps 2 --medium-steps 1 --t5 --text-enc fp8 --keep]
 *
 * For each model, in its own child process (so peak RSS is that model's): the SD3.5 example graph's
 * nodes called in order — CheckpointLoaderSimple, CLIPTextEncode ×2, EmptySD3LatentImage, KSampler
 * (euler, sgm_uniform, cfg 4), VAEDecode — with the server's default precision (FP8 MMDiT blocks,
 * CLIP at float32 compute on its 16-bit weights, FP8 T5, float32 VAE; --text-enc fp8: FP8 CLIP too). Reports seconds for loading, text encoding (both prompts),
 * each sampling step (a CFG step = one batch-2 MMDiT call), VAE decode, and the peak RSS.
 *
 * Models:
 *   demo    the tiny demo checkpoint (nodes/loaders/demo-checkpoint.ts).
 *   medium  SD3.5-Medium-shaped random weights: the MMDiT-X (2.5 B; block Linears stored FP8 as in
 *           the fp8 checkpoints), CLIP-L, CLIP-G and the VAE at their released sizes. T5-XXL (4.7 B)
 *           is left out unless --t5 (then the context has 154 tokens instead of 77).
 * Weight caches (.fp8cache) are written on the first load and counted in the load time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIPTextEncode } from '../../nodes/conditioning/conditioning-nodes.js';
import { EmptySD3LatentImage } from '../../nodes/latent/latent-nodes.js';
import { DEMO_CHECKPOINT_NAME, makeDemoCheckpoint } from '../../nodes/loaders/demo-checkpoint.js';
import { CheckpointLoaderSimple } from '../../nodes/loaders/loader-nodes.js';
import { writeSyntheticCheckpoint, type Sd3CheckpointSpec } from '../../nodes/loaders/synthetic-sd3.js';
import { DEFAULT_MODEL_PRECISION, ModelManager } from '../../nodes/models/model-manager.js';
import type { ExecutionContext, NodeEnvironment } from '../../nodes/node-api.js';
import { KSampler } from '../../nodes/sampling/ksampler-nodes.js';
import { VAEDecode } from '../../nodes/vae/vae-nodes.js';
import { createFolderPaths } from '../../compat/folder-paths.js';

const MEDIUM_SPEC = (t5: boolean): Sd3CheckpointSpec => ({
  seedTag: 'bench/sd35-medium-shaped',
  storage: 'F8_E4M3',
  mmdit: { depth: 24, posEmbedMaxSize: 384, qkNorm: true, dualAttentionBlocks: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], contextInChannels: 4096, admInChannels: 2048 },
  clipL: { width: 768, layers: 12, mlp: 3072, projection: 768 },
  clipG: { width: 1280, layers: 32, mlp: 5120, projection: 1280 },
  ...(t5 ? { t5: { dModel: 4096, heads: 64, dKv: 64, ff: 10240, blocks: 24 } } : {}),
  vae: { channels: [128, 256, 512, 512], encoderBlocks: 2, decoderBlocks: 3 },
});

const flag = (name: string) => process.argv.includes(`--${name}`);
function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const silent = { debug() {}, info() {}, warn() {}, error() {} };
/** Progress on stderr as each figure is measured, so a long run shows where it is. */
const note = (model: string, what: string, ms: number) =>
  process.stderr.write(`  [${model}] ${what}: ${seconds(ms)} s (RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, peak so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)\n`);

function benchContext(env: NodeEnvironment, onProgress: (value: number) => void): ExecutionContext {
  const controller = new AbortController();
  return { nodeId: 'bench', promptId: 'bench', env, signal: controller.signal, previewMethod: 'none', checkInterrupt() {}, progress: (value) => onProgress(value), progressText() {} };
}

async function child(model: string): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `comfy8-bench-pipeline-${model}-`));
  const folders = createFolderPaths({ baseDirectory: base });
  const dir = folders.searchRoots('checkpoints')![0];
  fs.mkdirSync(dir, { recursive: true });
  const name = model === 'demo' ? DEMO_CHECKPOINT_NAME : 'sd35-medium-shaped-random.safetensors';
  let t = performance.now();
  if (model === 'demo') makeDemoCheckpoint(path.join(dir, name));
  else writeSyntheticCheckpoint(path.join(dir, name), MEDIUM_SPEC(flag('t5')));
  const writeMs = performance.now() - t;
  note(model, 'write', writeMs);
  // --text-enc fp8: CLIP-L/G with FP8 weights too (ComfyUI's --fp8_e4m3fn-text-enc), every model
  // weight 8-bit — the setting stable-diffusion.cpp's q8_0 figures are taken at.
  const textEncoder = option('text-enc', 'auto') as 'auto' | 'fp8' | 'fp32';
  const models = new ModelManager({ precision: { ...DEFAULT_MODEL_PRECISION, textEncoder } });
  const env: NodeEnvironment = { folders, disableMetadata: true, previewMethod: 'none', previewSize: 512, log: silent, models };
  const stepTimes: number[] = [];
  let last = 0;
  const ctx = benchContext(env, () => {
    const now = performance.now();
    stepTimes.push(now - last);
    note(model, `step ${stepTimes.length}`, now - last);
    last = now;
  });
  try {
    t = performance.now();
    const [modelHandle, clip, vae] = (await CheckpointLoaderSimple.execute({ ckpt_name: name }, ctx)) as unknown[];
    const loadMs = performance.now() - t;
    note(model, 'load', loadMs);
    t = performance.now();
    const [pos] = (await CLIPTextEncode.execute({ text: 'a bottle with a pink and red galaxy inside it on top of a wooden table', clip }, ctx)) as unknown[];
    const [neg] = (await CLIPTextEncode.execute({ text: '', clip }, ctx)) as unknown[];
    const encodeMs = performance.now() - t;
    note(model, 'text encode', encodeMs);
    const size = Number(option('size', '512'));
    const steps = Number(model === 'demo' ? option('steps', '4') : option('medium-steps', '1'));
    const [latent] = (await EmptySD3LatentImage.execute({ width: size, height: size, batch_size: 1 }, ctx)) as unknown[];
    last = performance.now();
    const inputs = { model: modelHandle, seed: 1, steps, cfg: 4, sampler_name: 'euler', scheduler: 'sgm_uniform', positive: pos, negative: neg, latent_image: latent, denoise: 1 };
    const [samples] = (await KSampler.execute(inputs as never, ctx)) as unknown[];
    t = performance.now();
    await VAEDecode.execute({ samples, vae }, ctx);
    const decodeMs = performance.now() - t;
    note(model, 'VAE decode', decodeMs);
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    const file = fs.statSync(path.join(dir, name)).size / 2 ** 30;
    console.log(
      `| ${model}${textEncoder === 'auto' ? '' : ` (text encoders ${textEncoder})`} | ${file.toFixed(2)} GiB | ${seconds(writeMs)} | ${seconds(loadMs)} | ${seconds(encodeMs)} | ${stepTimes.map(seconds).join(', ')} | ${seconds(decodeMs)} | ${rssMiB.toFixed(0)} |`,
    );
  } finally {
    if (!flag('keep')) fs.rmSync(base, { recursive: true, force: true });
  }
}

function parent(): void {
  const here = fileURLToPath(import.meta.url);
  const models = option('models', 'demo,medium').split(',');
  console.log(`# Pipeline bench: ${option('size', '512')}×${option('size', '512')}, euler/sgm_uniform, cfg 4, default precision; ${os.cpus().length} cores, load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`(medium: SD3.5-Medium-shaped random weights, MMDiT-X 2.5 B + CLIP-L + CLIP-G + VAE${flag('t5') ? ' + T5-XXL' : ', no T5 (context 77 tokens)'})\n`);
  console.log('| model | file | write s | load s (incl. caches) | text encode s (2 prompts) | step s (each) | VAE decode s | peak RSS MiB |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const model of models) {
    const args = ['--import', 'tsx', here, '--child', model, ...process.argv.slice(2)];
    const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (r.status !== 0) console.log(`| ${model} | failed (exit ${r.status}) |`);
  }
  console.log(`\nload average after: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
}

const childModel = process.argv.includes('--child') ? option('child', '') : '';
if (childModel) await child(childModel);
else parent();
