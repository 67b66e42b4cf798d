import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computePrefixVars, getSaveImagePath, nextCounter, OutputPathEscapeError, pythonNormpath } from '../../compat/filename-prefix.js';

function tmpOutput(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'comfy8-prefix-'));
}

describe('computePrefixVars', () => {
  it('replaces size and local-time tokens, leaving frontend tokens alone', () => {
    const now = new Date(2026, 0, 5, 7, 8, 9); // local time
    expect(computePrefixVars('%year%-%month%-%day%_%hour%%minute%%second%_%width%x%height%_%date:yyyy%', 640, 480, now)).toBe(
      '2026-01-05_070809_640x480_%date:yyyy%',
    );
  });
});

describe('getSaveImagePath', () => {
  it('starts at 1 in an empty or missing folder and creates sub-folders', () => {
    const out = tmpOutput();
    const r = getSaveImagePath('ComfyUI', out);
    expect(r).toEqual({ fullOutputFolder: path.resolve(out), filename: 'ComfyUI', counter: 1, subfolder: '', filenamePrefix: 'ComfyUI' });
    const nested = getSaveImagePath('runs/a/img', out);
    expect(nested.subfolder).toBe('runs/a');
    expect(nested.filename).toBe('img');
    expect(nested.counter).toBe(1);
    expect(fs.statSync(path.join(out, 'runs/a')).isDirectory()).toBe(true);
  });

  it('continues after the highest existing counter, ignoring other names', () => {
    const out = tmpOutput();
    for (const f of ['ComfyUI_00001_.png', 'ComfyUI_00007_.png', 'ComfyUI_00003_.latent', 'ComfyUIx_00050_.png', 'Other_00099_.png', 'ComfyUI_abc_.png']) {
      fs.writeFileSync(path.join(out, f), '');
    }
    expect(getSaveImagePath('ComfyUI', out).counter).toBe(8);
  });

  it('reads the counter as ComfyUI does (up to "_" or ".", Python int rules)', () => {
    expect(nextCounter(['a_12.png', 'a_3_x.png', 'a_ 20 _.png', 'a_+4_.png'], 'a', 'a')).toBe(21);
    expect(nextCounter(['A_00005_.png'], 'a', 'a')).toBe(1); // case-sensitive on POSIX
    expect(nextCounter(['a_x_.png'], 'a', 'a')).toBe(1); // a match with no number counts as 0
    expect(nextCounter([], 'a', 'a')).toBe(1);
  });

  it('expands tokens with the image size before splitting', () => {
    const out = tmpOutput();
    const r = getSaveImagePath('%width%x%height%/pic', out, { imageWidth: 64, imageHeight: 32 });
    expect([r.subfolder, r.filename, r.filenamePrefix]).toEqual(['64x32', 'pic', '64x32/pic']);
  });

  it('normalises the prefix and refuses folders outside the output directory', () => {
    const out = tmpOutput();
    expect(getSaveImagePath('a/../b/./c', out).subfolder).toBe('b');
    expect(() => getSaveImagePath('../escape/x', out)).toThrow(OutputPathEscapeError);
    expect(() => getSaveImagePath('/etc/x', out)).toThrow(/outside the output folder/);
    fs.symlinkSync(os.tmpdir(), path.join(out, 'link'));
    expect(() => getSaveImagePath('link/x', out)).toThrow(OutputPathEscapeError);
  });

  it('normpath matches Python for trailing slashes and empty prefixes', () => {
    expect(pythonNormpath('a/b/')).toBe('a/b');
    expect(pythonNormpath('')).toBe('.');
    expect(pythonNormpath('./x')).toBe('x');
  });
});
