/** ComfyUI's precision flags → the config's precision section (server/precision-flags.ts). */
import { describe, expect, it } from 'vitest';
import { CliError, parseCliArgs } from '../../server/cli-args.js';
import { configFromArgs } from '../../server/config.js';

const precision = (...argv: string[]) => configFromArgs(argv, '/tmp').precision;

describe('precision flags', () => {
  it('defaults to FP8 MMDiT blocks, engine-default text encoders, float32 VAE', () => {
    expect(precision()).toEqual({ unet: 'fp8', textEncoder: 'auto', vae: 'fp32', notes: [] });
  });

  it('--force-fp32 makes every part float32', () => {
    expect(precision('--force-fp32')).toMatchObject({ unet: 'fp32', textEncoder: 'fp32', vae: 'fp32' });
  });

  it('a part’s own flag wins over --force-fp32 (as ComfyUI’s unet_dtype)', () => {
    expect(precision('--force-fp32', '--fp8_e4m3fn-unet')).toMatchObject({ unet: 'fp8', textEncoder: 'fp32' });
    expect(precision('--force-fp32', '--fp8_e4m3fn-text-enc')).toMatchObject({ unet: 'fp32', textEncoder: 'fp8' });
  });

  it.each([
    ['--fp32-unet', 'fp32'],
    ['--fp16-unet', 'fp32'],
    ['--bf16-unet', 'fp32'],
    ['--fp64-unet', 'fp32'],
    ['--fp8_e4m3fn-unet', 'fp8'],
    ['--fp8_e5m2-unet', 'fp8'],
  ])('%s → MMDiT %s', (flag, unet) => {
    expect(precision(flag).unet).toBe(unet);
  });

  it.each([
    ['--fp32-text-enc', 'fp32'],
    ['--fp16-text-enc', 'fp32'],
    ['--bf16-text-enc', 'fp32'],
    ['--fp8_e4m3fn-text-enc', 'fp8'],
    ['--fp8_e5m2-text-enc', 'fp8'],
  ])('%s → text encoders %s', (flag, te) => {
    expect(precision(flag).textEncoder).toBe(te);
  });

  it('notes the flags met only approximately', () => {
    expect(precision('--fp16-vae', '--fp8_e5m2-unet').notes).toEqual(['--fp8_e5m2-unet: FP8 weights are stored as e4m3fn', '--fp16-vae: the VAE runs in float32']);
    expect(precision('--fp32-vae').notes).toEqual([]);
  });

  it('keeps ComfyUI’s mutually exclusive groups', () => {
    expect(() => parseCliArgs(['--fp32-unet', '--fp16-unet'])).toThrow(CliError);
    expect(() => parseCliArgs(['--force-fp32', '--force-fp16'])).toThrow(/not allowed with/);
    expect(() => parseCliArgs(['--fp16-vae', '--bf16-vae'])).toThrow(/not allowed with/);
    expect(() => parseCliArgs(['--fp32-text-enc', '--fp8_e4m3fn-text-enc'])).toThrow(/not allowed with/);
    expect(() => parseCliArgs(['--force-fp32', '--fp16-unet', '--fp32-vae', '--fp8_e4m3fn-text-enc'])).not.toThrow();
  });
});
