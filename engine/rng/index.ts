/** Torch-compatible CPU random numbers and ComfyUI's noise built on them (see engine/README.md). */
export { Mt19937 } from './mt19937.js';
export { normalizeSeed, mtSeed32, type Seed } from './seed.js';
export {
  TorchGenerator,
  manualSeed,
  RANDN_KERNELS,
  TORCH_DEFAULT_SEED,
  type RandnKernel,
  type TorchGeneratorOptions,
} from './torch-generator.js';
export {
  prepareNoise,
  createCpuNoiseSampler,
  createCpuStepNoiseSource,
  type NoiseSampler,
  type NoiseOptions,
  type PrepareNoiseOptions,
  type Shaped,
} from './noise.js';
