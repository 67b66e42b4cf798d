/**
 * Sampler registry: ComfyUI's sampler names (comfy/samplers.py SAMPLER_NAMES, in its order) and the
 * ones this engine implements.
 */
import { sampleDpm2Ancestral, sampleDpmpp2sAncestral, sampleEulerAncestral } from './ancestral.js';
import { sampleDpmpp2m, sampleDpmpp2mSde, sampleDpmpp3mSde, sampleDpmppSde } from './dpmpp.js';
import { sampleDpm2, sampleEuler, sampleHeun } from './euler.js';
import { sampleLcm } from './lcm.js';
import { sampleLms } from './lms.js';
import { sampleResMultistep } from './res-multistep.js';
import type { SamplerFn } from './types.js';
import { sampleUniPcBh1, sampleUniPcBh2 } from './uni-pc.js';

/** ComfyUI's KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"] (2025/2026 revisions), in list order. */
export const SAMPLER_NAMES = [
  'euler', 'euler_cfg_pp', 'euler_ancestral', 'euler_ancestral_cfg_pp', 'heun', 'heunpp2', 'exp_heun_2_x0',
  'exp_heun_2_x0_sde', 'dpm_2', 'dpm_2_ancestral', 'lms', 'dpm_fast', 'dpm_adaptive', 'dpmpp_2s_ancestral',
  'dpmpp_2s_ancestral_cfg_pp', 'dpmpp_sde', 'dpmpp_sde_gpu', 'dpmpp_2m', 'dpmpp_2m_cfg_pp', 'dpmpp_2m_sde',
  'dpmpp_2m_sde_gpu', 'dpmpp_2m_sde_heun', 'dpmpp_2m_sde_heun_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu', 'ddpm', 'lcm',
  'ipndm', 'ipndm_v', 'deis', 'res_multistep', 'res_multistep_cfg_pp', 'res_multistep_ancestral',
  'res_multistep_ancestral_cfg_pp', 'gradient_estimation', 'gradient_estimation_cfg_pp', 'er_sde', 'seeds_2', 'seeds_3',
  'sa_solver', 'sa_solver_pece', 'ddim', 'uni_pc', 'uni_pc_bh2',
] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/**
 * The implemented samplers. `ddim` is ComfyUI's euler run with fresh inpainting noise (see
 * sampling-loop.ts); the `_gpu` SDE names differ from their CPU twins only in where the Brownian
 * tree lives, so they share the implementation.
 */
export const SAMPLERS: Readonly<Partial<Record<SamplerName, SamplerFn>>> = {
  euler: sampleEuler,
  euler_ancestral: sampleEulerAncestral,
  heun: sampleHeun,
  dpm_2: sampleDpm2,
  dpm_2_ancestral: sampleDpm2Ancestral,
  lms: sampleLms,
  dpmpp_2s_ancestral: sampleDpmpp2sAncestral,
  dpmpp_sde: sampleDpmppSde,
  dpmpp_sde_gpu: sampleDpmppSde,
  dpmpp_2m: sampleDpmpp2m,
  dpmpp_2m_sde: sampleDpmpp2mSde,
  dpmpp_2m_sde_gpu: sampleDpmpp2mSde,
  dpmpp_3m_sde: sampleDpmpp3mSde,
  dpmpp_3m_sde_gpu: sampleDpmpp3mSde,
  lcm: sampleLcm,
  res_multistep: sampleResMultistep,
  ddim: sampleEuler,
  uni_pc: sampleUniPcBh1,
  uni_pc_bh2: sampleUniPcBh2,
};

/** Samplers whose noise ComfyUI takes from a torchsde Brownian tree rather than its seed+1 generator. */
export const BROWNIAN_TREE_SAMPLERS: ReadonlySet<string> = new Set([
  'dpmpp_sde', 'dpmpp_sde_gpu', 'dpmpp_2m_sde', 'dpmpp_2m_sde_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu',
]);

/** The sampler function for a name; throws naming the implemented ones. */
export function getSampler(name: string): SamplerFn {
  const fn = (SAMPLERS as Record<string, SamplerFn | undefined>)[name];
  if (!fn) {
    const known = (SAMPLER_NAMES as readonly string[]).includes(name) ? `ComfyUI sampler '${name}' is not implemented` : `unknown sampler '${name}'`;
    throw new Error(`${known}; implemented: ${Object.keys(SAMPLERS).join(', ')}`);
  }
  return fn;
}
