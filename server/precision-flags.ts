/**
 * ComfyUI's precision flags (comfy/cli_args.py) mapped onto the engine's precision policy.
 *
 * The engine stores MMDiT block weights as FP8 e4m3fn ('fp8', ≈ 1 byte/param) or everything as
 * exact float32 upcasts of the file's values ('fp32', ComfyUI-on-CPU parity); text encoders the
 * same way; the VAE always float32. Compute is float32 on onnxruntime's CPU provider in every case.
 *
 * Our default differs from ComfyUI on purpose: no flag → MMDiT blocks in FP8 (ComfyUI would run a
 * CPU model in float32). Flags, in ComfyUI's mutually exclusive groups:
 *   --force-fp32                → float32 for every part not given a flag of its own
 *   --force-fp16, --force-bf16  → accepted; no effect (no 16-bit compute here)
 *   --fp32-unet, --fp64-unet    → MMDiT 'fp32'
 *   --fp16-unet, --bf16-unet    → MMDiT 'fp32' (no 16-bit weight store; float32 holds 16-bit values exactly)
 *   --fp8_e4m3fn-unet           → MMDiT 'fp8'
 *   --fp8_e5m2-unet, --fp8_e8m0fnu-unet → MMDiT 'fp8' (stored as e4m3fn, the engine's FP8 format)
 *   --fp32-text-enc, --fp16-text-enc, --bf16-text-enc → text encoders 'fp32'
 *   --fp8_e4m3fn-text-enc, --fp8_e5m2-text-enc        → text encoders 'fp8' (e4m3fn)
 *   --fp32-vae, --fp16-vae, --bf16-vae → VAE float32 (the only VAE precision)
 * As in ComfyUI's unet_dtype(), a part's own flag wins over --force-fp32.
 */
import type { ParsedArgs } from './cli-args.js';
import type { FlagSpec } from './cli-flags.js';

export type WeightPrecision = 'fp8' | 'fp32';

export interface PrecisionConfig {
  /** MMDiT weights for UNETLoader weight_dtype `default`. */
  readonly unet: WeightPrecision;
  /** 'auto': each encoder's engine default (CLIP-L/G float32, T5-XXL FP8). */
  readonly textEncoder: 'auto' | WeightPrecision;
  readonly vae: 'fp32';
  /** Flags given that the engine honours only approximately (for the start-up log). */
  readonly notes: readonly string[];
}

export const DEFAULT_PRECISION_CONFIG: PrecisionConfig = { unet: 'fp8', textEncoder: 'auto', vae: 'fp32', notes: [] };

interface PrecisionFlag {
  name: string;
  group: string;
  help: string;
  unet?: WeightPrecision;
  textEncoder?: WeightPrecision;
  /** Set when the flag's ComfyUI meaning cannot be met exactly. */
  note?: string;
}

const FP = 'precision-fp';
const UNET = 'precision-unet';
const VAE = 'precision-vae';
const TE = 'precision-text-enc';

const TABLE: readonly PrecisionFlag[] = [
  { name: 'force-fp32', group: FP, help: 'float32 everywhere (exact upcasts of the file weights) unless a part has its own flag' },
  { name: 'force-fp16', group: FP, help: 'accepted; no effect (compute is float32)', note: '--force-fp16 has no effect: compute is float32 on the CPU' },
  { name: 'force-bf16', group: FP, help: 'accepted; no effect (compute is float32)', note: '--force-bf16 has no effect: compute is float32 on the CPU' },
  { name: 'fp32-unet', group: UNET, unet: 'fp32', help: 'diffusion model weights in float32' },
  { name: 'fp64-unet', group: UNET, unet: 'fp32', help: 'diffusion model weights in float32 (no float64 here)', note: '--fp64-unet: weights are float32' },
  { name: 'bf16-unet', group: UNET, unet: 'fp32', help: 'diffusion model weights in float32 (no bf16 store)', note: '--bf16-unet: weights are float32 (no 16-bit store)' },
  { name: 'fp16-unet', group: UNET, unet: 'fp32', help: 'diffusion model weights in float32 (no fp16 store)', note: '--fp16-unet: weights are float32 (no 16-bit store)' },
  { name: 'fp8_e4m3fn-unet', group: UNET, unet: 'fp8', help: 'diffusion model block weights in fp8_e4m3fn (the default here)' },
  { name: 'fp8_e5m2-unet', group: UNET, unet: 'fp8', help: 'diffusion model block weights in fp8 (stored as e4m3fn)', note: '--fp8_e5m2-unet: FP8 weights are stored as e4m3fn' },
  { name: 'fp8_e8m0fnu-unet', group: UNET, unet: 'fp8', help: 'diffusion model block weights in fp8 (stored as e4m3fn)', note: '--fp8_e8m0fnu-unet: FP8 weights are stored as e4m3fn' },
  { name: 'fp16-vae', group: VAE, help: 'accepted; the VAE runs in float32', note: '--fp16-vae: the VAE runs in float32' },
  { name: 'fp32-vae', group: VAE, help: 'VAE in float32 (always the case here)' },
  { name: 'bf16-vae', group: VAE, help: 'accepted; the VAE runs in float32', note: '--bf16-vae: the VAE runs in float32' },
  { name: 'fp8_e4m3fn-text-enc', group: TE, textEncoder: 'fp8', help: 'text encoder weights in fp8_e4m3fn' },
  { name: 'fp8_e5m2-text-enc', group: TE, textEncoder: 'fp8', help: 'text encoder weights in fp8 (stored as e4m3fn)', note: '--fp8_e5m2-text-enc: FP8 weights are stored as e4m3fn' },
  { name: 'fp16-text-enc', group: TE, textEncoder: 'fp32', help: 'text encoder weights in float32 (no fp16 store)', note: '--fp16-text-enc: weights are float32 (no 16-bit store)' },
  { name: 'fp32-text-enc', group: TE, textEncoder: 'fp32', help: 'text encoder weights in float32' },
  { name: 'bf16-text-enc', group: TE, textEncoder: 'fp32', help: 'text encoder weights in float32 (no bf16 store)', note: '--bf16-text-enc: weights are float32 (no 16-bit store)' },
];

export const PRECISION_FLAG_NAMES: ReadonlySet<string> = new Set(TABLE.map((f) => f.name));

/** The flag specs for cli-flags.ts (store_true, in ComfyUI's exclusive groups). */
export function precisionFlags(): FlagSpec[] {
  return TABLE.map((f) => ({ name: f.name, arity: 'flag', group: f.group, help: f.help }));
}

/** The precision section of the Config from parsed flags. */
export function precisionFromParsed(parsed: Pick<ParsedArgs, 'given'>): PrecisionConfig {
  const given = TABLE.filter((f) => parsed.given.has(f.name));
  const forceFp32 = parsed.given.has('force-fp32');
  const unet = given.find((f) => f.unet)?.unet ?? (forceFp32 ? 'fp32' : DEFAULT_PRECISION_CONFIG.unet);
  const textEncoder = given.find((f) => f.textEncoder)?.textEncoder ?? (forceFp32 ? 'fp32' : DEFAULT_PRECISION_CONFIG.textEncoder);
  return { unet, textEncoder, vae: 'fp32', notes: given.flatMap((f) => (f.note ? [f.note] : [])) };
}
