/**
 * ComfyUI's schedulers (comfy/samplers.py SCHEDULER_HANDLERS) for a flow model sampling, plus the
 * step selection of KSampler (denoise) and KSamplerAdvanced (start/end steps) — engine spec §5.3–5.4.
 *
 * Every schedule is a Float32Array of steps + 1 descending sigmas ending in 0, built in ComfyUI's
 * operation order with float32 rounding where ComfyUI uses float32 tensors and doubles where it
 * uses Python floats.
 *
 * Example: calculateSigmas(createFlowModelSampling(3), 'simple', 4) → [1, 0.9, 0.75, 0.5, 0]
 */
import { betaQuantile } from './inverse-beta.js';
import { sigmaFromTimestep, timestepFromSigma, type FlowModelSampling } from './model-sampling.js';
import { fl, linspace32 } from './torch-float32.js';

/** ComfyUI's scheduler names, in its list order (the first is the fallback for unknown names). */
export const SCHEDULER_NAMES = [
  'simple',
  'sgm_uniform',
  'karras',
  'exponential',
  'ddim_uniform',
  'beta',
  'normal',
  'linear_quadratic',
  'kl_optimal',
] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** Samplers for which KSampler computes steps + 1 sigmas and drops the second-to-last one. */
export const DISCARD_PENULTIMATE_SIGMA_SAMPLERS: ReadonlySet<string> = new Set(['dpm_2', 'dpm_2_ancestral', 'uni_pc', 'uni_pc_bh2']);

const withZero = (values: ArrayLike<number>): Float32Array => {
  const out = new Float32Array(values.length + 1);
  out.set(Array.from(values, fl));
  return out;
};

function simpleSchedule(ms: FlowModelSampling, steps: number): Float32Array {
  const stride = ms.sigmas.length / steps;
  return withZero(Array.from({ length: steps }, (_, k) => ms.sigmas[ms.sigmas.length - 1 - Math.trunc(k * stride)]));
}

function ddimUniformSchedule(ms: FlowModelSampling, steps: number): Float32Array {
  const stride = Math.max(Math.floor(ms.sigmas.length / steps), 1);
  const picked = [0];
  for (let x = 1; x < ms.sigmas.length; x += stride) picked.push(ms.sigmas[x]);
  return Float32Array.from(picked.reverse());
}

function normalSchedule(ms: FlowModelSampling, steps: number, sgm: boolean): Float32Array {
  const start = timestepFromSigma(ms, ms.sigmaMax);
  const end = timestepFromSigma(ms, ms.sigmaMin);
  let appendZero = true;
  let timesteps: Float32Array;
  if (sgm) {
    timesteps = linspace32(start, end, steps + 1).subarray(0, steps);
  } else {
    // ComfyUI's "σ(end) ≈ 0 → one extra step" rule; never true for SD3's flow table.
    if (Math.abs(sigmaFromTimestep(ms, end)) <= 1e-5) {
      steps += 1;
      appendZero = false;
    }
    timesteps = linspace32(start, end, steps);
  }
  const sigmas = Array.from(timesteps, (t) => sigmaFromTimestep(ms, t));
  return appendZero ? withZero(sigmas) : Float32Array.from(sigmas);
}

function karrasSchedule(steps: number, sigmaMin: number, sigmaMax: number, rho = 7): Float32Array {
  const ramp = linspace32(0, 1, steps);
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  const span = fl(minInvRho - maxInvRho);
  return withZero(Array.from(ramp, (r) => fl(fl(fl(maxInvRho) + fl(r * span)) ** rho)));
}

function exponentialSchedule(steps: number, sigmaMin: number, sigmaMax: number): Float32Array {
  return withZero(Array.from(linspace32(Math.log(sigmaMax), Math.log(sigmaMin), steps), (v) => fl(Math.exp(v))));
}

/** numpy.rint: round half to even. */
const roundHalfEven = (v: number): number => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

function betaSchedule(ms: FlowModelSampling, steps: number, alpha = 0.6, beta = 0.6): Float32Array {
  const total = ms.sigmas.length - 1;
  const picked: number[] = [];
  let last = -1;
  const stepSize = 1 / steps; // numpy.linspace(0, 1, steps, endpoint=False) = arange(steps) * (1/steps)
  for (let k = 0; k < steps; k++) {
    const index = roundHalfEven(betaQuantile(1 - k * stepSize, alpha, beta) * total);
    if (index !== last) picked.push(ms.sigmas[index]);
    last = index;
  }
  return withZero(picked);
}

/** Mochi's linear-quadratic schedule (threshold 0.025, linear_steps = steps // 2), scaled by σ_max. */
function linearQuadraticSchedule(ms: FlowModelSampling, steps: number, threshold = 0.025): Float32Array {
  let schedule: number[];
  if (steps === 1) {
    schedule = [1.0, 0.0];
  } else {
    const linearSteps = Math.floor(steps / 2);
    const linear = Array.from({ length: linearSteps }, (_, i) => (i * threshold) / linearSteps);
    const stepDiff = linearSteps - threshold * steps;
    const quadraticSteps = steps - linearSteps;
    const quadCoef = stepDiff / (linearSteps * quadraticSteps ** 2);
    const linCoef = threshold / linearSteps - (2 * stepDiff) / quadraticSteps ** 2;
    const constant = quadCoef * linearSteps ** 2;
    const quadratic = Array.from({ length: quadraticSteps }, (_, j) => {
      const i = linearSteps + j;
      return quadCoef * i ** 2 + linCoef * i + constant;
    });
    schedule = [...linear, ...quadratic, 1.0].map((v) => 1.0 - v);
  }
  return Float32Array.from(schedule, (v) => fl(fl(v) * ms.sigmaMax));
}

function klOptimalSchedule(steps: number, sigmaMin: number, sigmaMax: number): Float32Array {
  const atanMin = fl(Math.atan(sigmaMin));
  const atanMax = fl(Math.atan(sigmaMax));
  const out = new Float32Array(steps + 1);
  for (let k = 0; k < steps; k++) {
    const a = fl(k / (steps - 1)); // torch.arange(n).div_(n - 1): NaN for n = 1, as in ComfyUI
    out[k] = fl(Math.tan(fl(fl(a * atanMin) + fl(fl(1 - a) * atanMax))));
  }
  return out;
}

const SCHEDULERS: Readonly<Record<SchedulerName, (ms: FlowModelSampling, steps: number) => Float32Array>> = {
  simple: simpleSchedule,
  sgm_uniform: (ms, n) => normalSchedule(ms, n, true),
  karras: (ms, n) => karrasSchedule(n, ms.sigmaMin, ms.sigmaMax),
  exponential: (ms, n) => exponentialSchedule(n, ms.sigmaMin, ms.sigmaMax),
  ddim_uniform: ddimUniformSchedule,
  beta: (ms, n) => betaSchedule(ms, n),
  normal: (ms, n) => normalSchedule(ms, n, false),
  linear_quadratic: (ms, n) => linearQuadraticSchedule(ms, n),
  kl_optimal: (ms, n) => klOptimalSchedule(n, ms.sigmaMin, ms.sigmaMax),
};

export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}

/** `comfy.samplers.calculate_sigmas`: the schedule for `steps` steps; throws for an unknown name. */
export function calculateSigmas(ms: FlowModelSampling, scheduler: string, steps: number): Float32Array {
  if (!isSchedulerName(scheduler)) {
    throw new Error(`unknown scheduler '${scheduler}'; valid: ${SCHEDULER_NAMES.join(', ')}`);
  }
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`scheduler '${scheduler}': steps must be an integer ≥ 1, got ${steps}`);
  return SCHEDULERS[scheduler](ms, steps);
}

export interface KSamplerSigmaOptions {
  /** Unknown names fall back to 'simple', as ComfyUI's KSampler class does. */
  scheduler: string;
  /** Decides the discard-penultimate rule (dpm_2, dpm_2_ancestral, uni_pc, uni_pc_bh2). */
  sampler: string;
  steps: number;
  /** KSampler's denoise; ≤ 0 gives an empty schedule (nothing is sampled), > 0.9999 counts as 1. */
  denoise?: number;
}

/** KSampler.set_steps: the sigmas one KSampler node samples over. */
export function ksamplerSigmas(ms: FlowModelSampling, options: KSamplerSigmaOptions): Float32Array {
  const scheduler = isSchedulerName(options.scheduler) ? options.scheduler : SCHEDULER_NAMES[0];
  const discard = DISCARD_PENULTIMATE_SIGMA_SAMPLERS.has(options.sampler);
  const forSteps = (steps: number): Float32Array => {
    const sigmas = calculateSigmas(ms, scheduler, discard ? steps + 1 : steps);
    if (!discard) return sigmas;
    const out = sigmas.slice(0, sigmas.length - 1);
    out[out.length - 1] = sigmas[sigmas.length - 1];
    return out;
  };
  const { steps, denoise } = options;
  if (denoise === undefined || denoise > 0.9999) return forSteps(steps);
  if (denoise <= 0) return new Float32Array(0);
  const full = forSteps(Math.trunc(steps / denoise));
  return full.slice(Math.max(full.length - (steps + 1), 0));
}

export interface StepRangeOptions {
  /** KSamplerAdvanced start_at_step (KSampler: 0). */
  startStep?: number;
  /** KSamplerAdvanced end_at_step (KSampler: none). */
  lastStep?: number;
  /** True unless return_with_leftover_noise = enable (KSampler: false). */
  forceFullDenoise?: boolean;
}

/**
 * KSampler.sample's step cut. Returns null when start_step leaves nothing to sample (ComfyUI then
 * returns the input latent unchanged).
 */
export function applyStepRange(sigmas: Float32Array, options: StepRangeOptions): Float32Array | null {
  let out = sigmas.slice();
  const { startStep, lastStep, forceFullDenoise = false } = options;
  if (lastStep !== undefined && lastStep < out.length - 1) {
    out = out.slice(0, lastStep + 1);
    if (forceFullDenoise) out[out.length - 1] = 0;
  }
  if (startStep !== undefined) {
    if (startStep < out.length - 1) out = out.slice(startStep);
    else return null;
  }
  return out;
}
