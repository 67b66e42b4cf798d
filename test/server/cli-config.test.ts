import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyExtraModelPaths, expandPath, parseExtraModelPaths } from '../../compat/extra-model-paths.js';
import { createFolderPaths } from '../../compat/folder-paths.js';
import { CliError, helpText, parseCliArgs } from '../../server/cli-args.js';
import { FLAGS } from '../../server/cli-flags.js';
import { configFromArgs, createConfig } from '../../server/config.js';
import { buildFolderPaths } from '../../server/folders.js';
import { createLogger } from '../../server/logger.js';

const cwd = '/work/here';

describe('command-line flags', () => {
  it('has ComfyUI defaults', () => {
    const c = configFromArgs([], cwd);
    expect(c.listen).toEqual(['127.0.0.1']);
    expect(c.port).toBe(8188);
    expect(c.maxUploadBytes).toBe(100 * 1024 * 1024);
    expect(c.previewMethod).toBe('none');
    expect(c.previewSize).toBe(512);
    expect(c.cache).toEqual({ kind: 'ram' });
    expect(c.hashingFunction).toBe('sha256');
    expect(c.corsOrigin).toBeNull();
    expect(c.logLevel).toBe('INFO');
    expect(c.baseDirectory).toBe(cwd);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.listen)).toBe(true);
  });

  it('parses optional values, lists, repeats, = forms and abbreviations', () => {
    expect(configFromArgs(['--listen'], cwd).listen).toEqual(['0.0.0.0', '::']);
    expect(configFromArgs(['--listen', '10.0.0.1,::1', '--port', '9000'], cwd)).toMatchObject({ listen: ['10.0.0.1', '::1'], port: 9000 });
    expect(configFromArgs(['--listen', '--port=1234'], cwd)).toMatchObject({ listen: ['0.0.0.0', '::'], port: 1234 });
    expect(configFromArgs(['--enable-cors-header'], cwd).corsOrigin).toBe('*');
    expect(configFromArgs(['--enable-cors-header', 'http://a.b'], cwd).corsOrigin).toBe('http://a.b');
    const multi = configFromArgs(['--extra-model-paths-config', 'a.yaml', 'b.yaml', '--extra-model-paths-config', '/abs/c.yaml'], cwd);
    expect(multi.extraModelPathsConfigs).toEqual(['/work/here/a.yaml', '/work/here/b.yaml', '/abs/c.yaml']);
    expect(configFromArgs(['--cache-lru', '5'], cwd).cache).toEqual({ kind: 'lru', size: 5 });
    expect(configFromArgs(['--cache-classic'], cwd).cache).toEqual({ kind: 'classic' });
    expect(configFromArgs(['--high-ram'], cwd).cache).toEqual({ kind: 'classic' });
    expect(configFromArgs(['--cache-none'], cwd).cache).toEqual({ kind: 'none' });
    expect(configFromArgs(['--cache-ram', '4'], cwd)).toMatchObject({ cache: { kind: 'ram' }, ramHeadroomBytes: 4 * 1024 ** 3 });
    expect(configFromArgs(['--cache-ram'], cwd)).toMatchObject({ cache: { kind: 'ram' }, ramHeadroomBytes: null });
    expect(configFromArgs(['--verbose'], cwd).logLevel).toBe('DEBUG');
    expect(configFromArgs(['--verbose', 'WARNING'], cwd).logLevel).toBe('WARNING');
    expect(configFromArgs(['--max-upload-size', '1.5'], cwd).maxUploadBytes).toBe(1572864);
    expect(configFromArgs(['--temp-directory', 't', '--base-directory', '/b'], cwd)).toMatchObject({ tempDirectory: '/work/here/t', baseDirectory: '/b' });
    expect(configFromArgs(['--feature-flag', 'show_signin_button=true', '--feature-flag', 'x=abc', 'bare'], cwd).extraFeatureFlags).toEqual({ show_signin_button: true, x: 'abc', bare: true });
    expect(configFromArgs(['--port', '9', '--dont-print-server', '--multi-user', '--disable-metadata', '--offline'], cwd)).toMatchObject({ printServer: false, multiUser: true, disableMetadata: true, offline: true });
    expect(configFromArgs(['--disable-api-nodes'], cwd).offline).toBe(true);
    expect(configFromArgs(['--preview-method', 'taesd', '--default-hashing-function', 'md5'], cwd)).toMatchObject({ previewMethod: 'taesd', hashingFunction: 'md5' });
    expect(configFromArgs(['--front-end-root', 'dist'], cwd).frontEndRoot).toBe('/work/here/dist');
    expect(configFromArgs(['--por', '77'], cwd).port).toBe(77); // unique prefix, as argparse
    expect(configFromArgs(['--port', '1'], cwd).argv).toEqual(['main.py', '--port', '1']);
  });

  it('accepts and ignores PyTorch device flags', () => {
    const c = configFromArgs(['--cpu', '--lowvram', '--cuda-device', '1', '--force-fp16', '--fast', 'fp16_accumulation', '--use-pytorch-cross-attention'], cwd);
    expect(c.port).toBe(8188);
  });

  it('refuses unknown flags, bad values and conflicting cache modes with argparse-style errors', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--bogus'], /unrecognized arguments: --bogus/],
      [['positional'], /unrecognized arguments: positional/],
      [['--port', 'abc'], /argument --port: invalid int value: 'abc'/],
      [['--port'], /argument --port: expected one argument/],
      [['--preview-method', 'fancy'], /invalid choice: 'fancy'/],
      [['--cache-lru', '3', '--cache-none'], /not allowed with argument/],
      [['--disable'], /ambiguous option/],
      [['--cpu=1'], /ignored explicit argument/],
    ];
    for (const [argv, message] of bad) {
      const err = (() => {
        try {
          parseCliArgs(argv);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err, argv.join(' ')).toBeInstanceOf(CliError);
      expect((err as CliError).message).toMatch(message);
      expect((err as CliError).exitCode).toBe(2);
    }
  });

  it('--help lists every flag', () => {
    const help = helpText();
    for (const f of FLAGS) expect(help).toContain(`--${f.name}`);
  });
});

describe('main.ts as a process', () => {
  const tsx = (args: string[], timeout = 60_000) => spawnSync('npx', ['tsx', 'server/main.ts', ...args], { cwd: process.cwd(), encoding: 'utf8', timeout });

  it('exits 2 with a clear message on an unknown flag', () => {
    const r = tsx(['--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unrecognized arguments: --bogus');
  });

  it('exits 1 when --user-directory does not exist', () => {
    const r = tsx(['--user-directory', '/nonexistent/comfy8-users', '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--user-directory /nonexistent/comfy8-users does not exist');
  });

  it('prints help with exit 0', () => {
    const r = tsx(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--extra-model-paths-config');
  });

  it('exits 1 when the port is in use; starts and prints the GUI line otherwise', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-main-'));
    try {
      const busy = tsx(['--port', String(port), '--base-directory', base]);
      expect(busy.status).toBe(1);
      expect(busy.stderr).toMatch(/port .* in use/);
      await new Promise<void>((r) => blocker.close(() => r()));
      const ok = tsx(['--port', String(port), '--base-directory', base, '--quick-test-for-ci']);
      expect(ok.status).toBe(0);
      expect(ok.stderr).toContain(`To see the GUI go to: http://127.0.0.1:${port}`);
      expect(fs.existsSync(path.join(base, 'output'))).toBe(true);
      // All interfaces without authentication: refused unless explicitly allowed (docs/security.md).
      const open = tsx(['--listen', '--port', String(port), '--base-directory', base, '--quick-test-for-ci']);
      expect(open.status).toBe(1);
      expect(open.stderr).toContain('--allow-unauthenticated');
      const both = tsx(['--listen', '--allow-unauthenticated', '--port', String(port), '--base-directory', base, '--quick-test-for-ci']);
      expect(both.status).toBe(0);
      expect(both.stderr).toContain(`To see the GUI go to: http://127.0.0.1:${port}\nTo see the GUI go to: http://[::]:${port}`);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('extra_model_paths.yaml', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-yaml-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const yaml = `
comfyui:
  base_path: ~/ComfyUI/
  is_default: true
  checkpoints: models/checkpoints/
  loras: |
    models/loras/

    models/lycoris/
  custom_nodes: custom_nodes/
other:
  base_path: rel/base
  clip: te/
  my_new_kind: stuff/
nobase:
  vae: vae_here
  unet: /abs/unet
empty:
`;

  it('expands ~ and $VARS, resolves relative to the YAML dir, splits blocks', () => {
    const entries = parseExtraModelPaths(yaml, path.join(dir, 'x.yaml'), { HOME: '/home/u' }, '/home/u');
    const list = entries.map((e) => [e.folder, e.path, e.isDefault]);
    expect(list).toEqual([
      ['checkpoints', '/home/u/ComfyUI/models/checkpoints', true],
      ['loras', '/home/u/ComfyUI/models/loras', true],
      ['loras', '/home/u/ComfyUI/models/lycoris', true],
      ['custom_nodes', '/home/u/ComfyUI/custom_nodes', true],
      ['clip', path.join(dir, 'rel/base/te'), false],
      ['my_new_kind', path.join(dir, 'rel/base/stuff'), false],
      ['vae', path.join(dir, 'vae_here'), false],
      ['unet', '/abs/unet', false],
    ]);
    expect(expandPath('$ROOT/a/${SUB}/$MISSING', { ROOT: '/r', SUB: 's' }, '/h')).toBe('/r/a/s/$MISSING');
  });

  it('applies: is_default first, legacy names mapped, unknown keys become folders', () => {
    const folders = createFolderPaths({ baseDirectory: dir });
    applyExtraModelPaths(folders, parseExtraModelPaths(yaml, path.join(dir, 'x.yaml'), {}, '/home/u'));
    expect(folders.searchRoots('checkpoints')![0]).toBe('/home/u/ComfyUI/models/checkpoints');
    expect(folders.searchRoots('loras')!.slice(0, 2)).toEqual(['/home/u/ComfyUI/models/lycoris', '/home/u/ComfyUI/models/loras']);
    expect(folders.searchRoots('text_encoders')!.at(-1)).toBe(path.join(dir, 'rel/base/te'));
    expect(folders.searchRoots('diffusion_models')!.at(-1)).toBe('/abs/unet');
    expect(folders.folderNames()).toContain('my_new_kind');
    expect(folders.extensions('my_new_kind')).toEqual([]);
  });

  it('rejects malformed files with the file named', () => {
    expect(() => parseExtraModelPaths('a: [1, 2', '/x/bad.yaml')).toThrow(/bad\.yaml: invalid YAML/);
    expect(() => parseExtraModelPaths('- a\n- b\n', '/x/list.yaml')).toThrow(/list\.yaml/);
    expect(parseExtraModelPaths('', '/x/empty.yaml')).toEqual([]);
  });

  it('loads --extra-model-paths-config files into the server folders', () => {
    const file = path.join(dir, 'extra.yaml');
    fs.writeFileSync(file, 'mine:\n  base_path: .\n  checkpoints: ckpts\n  custom_nodes: nodes_extra\n');
    const folders = buildFolderPaths(createConfig({ baseDirectory: dir, extraModelPathsConfigs: [file] }), createLogger({ silent: true }), dir);
    expect(folders.searchRoots('checkpoints')).toContain(path.join(dir, 'ckpts'));
    expect(folders.searchRoots('custom_nodes')).toEqual([path.join(dir, 'custom_nodes'), path.join(dir, 'nodes_extra')]);
  });
});
