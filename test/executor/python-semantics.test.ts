import { describe, expect, it } from 'vitest';
import { pyFloat, pyInt, typesCompatible } from '../../executor/index.js';
import { pyEquals, pyRepr, pyStr, pyTruthy } from '../../executor/py-values.js';

describe('int() as Python does it', () => {
  it.each([
    [3, 3],
    [3.99, 3],
    [-3.99, -3],
    ['42', 42],
    ['  -7\n', -7],
    ['1_000', 1000],
    [true, 1],
    [false, 0],
  ])('int(%j) = %j', (input, expected) => {
    expect(pyInt(input)).toBe(expected);
  });

  it.each([
    ['3.5', "invalid literal for int() with base 10: '3.5'"],
    ['', "invalid literal for int() with base 10: ''"],
    ['1__0', "invalid literal for int() with base 10: '1__0'"],
    [null, "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"],
    [[1], "int() argument must be a string, a bytes-like object or a real number, not 'list'"],
    [{ a: 1 }, "int() argument must be a string, a bytes-like object or a real number, not 'dict'"],
    [Number.NaN, 'cannot convert float NaN to integer'],
    [Infinity, 'cannot convert float infinity to integer'],
  ])('int(%j) fails with %j', (input, message) => {
    expect(() => pyInt(input)).toThrow(message);
  });
});

describe('float() as Python does it', () => {
  it.each([
    ['2.5', 2.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    [' -1.5E-2 ', -0.015],
    ['inf', Infinity],
    ['-Infinity', -Infinity],
    [7, 7],
    [true, 1],
  ])('float(%j) = %j', (input, expected) => {
    expect(pyFloat(input)).toBe(expected);
  });

  it('float("nan") is NaN', () => {
    expect(pyFloat('nan')).toBeNaN();
  });

  it.each([
    ['abc', "could not convert string to float: 'abc'"],
    ['1.2.3', "could not convert string to float: '1.2.3'"],
    [null, "float() argument must be a string or a real number, not 'NoneType'"],
  ])('float(%j) fails with %j', (input, message) => {
    expect(() => pyFloat(input)).toThrow(message);
  });
});

describe('str(), repr(), ==, truthiness', () => {
  it.each([
    [null, 'None'],
    [true, 'True'],
    [5, '5'],
    [0.1, '0.1'],
    [1e-5, '1e-05'],
    [1e16, '1e+16'],
    ['x', 'x'],
    [['a', 1, null], "['a', 1, None]"],
    [{ k: 'v' }, "{'k': 'v'}"],
  ])('str(%j) = %j', (value, expected) => {
    expect(pyStr(value)).toBe(expected);
  });

  it('repr quotes like Python', () => {
    expect(pyRepr("it's")).toBe('"it\'s"');
    expect(pyRepr('a\nb')).toBe("'a\\nb'");
    expect(pyStr(2, true)).toBe('2.0');
  });

  it('== treats 1, 1.0 and True alike and compares lists deeply', () => {
    expect(pyEquals(1, true)).toBe(true);
    expect(pyEquals([1, 'a'], [1, 'a'])).toBe(true);
    expect(pyEquals('1', 1)).toBe(false);
  });

  it.each([
    ['', false],
    ['false', true],
    [0, false],
    [0.5, true],
    [[], false],
    [{}, false],
    [null, false],
  ])('bool(%j) = %j', (value, expected) => {
    expect(pyTruthy(value)).toBe(expected);
  });
});

describe('link type matching (§3.3)', () => {
  it.each([
    ['INT', 'INT', true],
    ['INT', 'FLOAT', false],
    ['*', 'IMAGE', true],
    ['IMAGE', '*', true],
    ['INT,FLOAT', 'FLOAT', true],
    ['STRING, INT', 'INT ,BOOLEAN', true],
    ['STRING,INT', 'FLOAT,BOOLEAN', false],
    ['IMAGE,*', 'LATENT', true],
    ['COMFY_MATCHTYPE_V3', 'LATENT', true],
    [['a', 'b'], 'COMBO', true],
    [['a', 'b'], ['a', 'b'], true],
    [['a', 'b'], ['a', 'c'], false],
    [['a', 'b'], 'STRING', false],
  ])('%j → %j: %s', (received, input, expected) => {
    expect(typesCompatible(received, input)).toBe(expected);
  });
});
