import { unstorableJson, unstorableText, unstorableTimestamp } from './storable';

describe('what PostgreSQL cannot store', () => {
  it.each([
    ['plain text', 'hello', undefined],
    ['an empty string', '', undefined],
    ['a surrogate pair (an emoji)', '\ud83d\ude00', undefined],
    ['a NUL character', 'a\u0000b', 'a NUL character'],
    ['a lone high surrogate', 'a\ud800', 'a lone UTF-16 surrogate'],
    ['a lone low surrogate', '\udc00b', 'a lone UTF-16 surrogate'],
  ])('text: %s', (_name, value, expected) => {
    expect(unstorableText(value)).toBe(expected);
  });

  it.each([
    ['numbers, booleans and null', { a: 1, b: true, c: null }, undefined],
    ['a NUL in a nested value', { a: [{ b: 'x\u0000' }] }, 'a NUL character'],
    ['a NUL in a key', { ['k\u0000']: 1 }, 'a NUL character'],
    ['a lone surrogate in an array', ['ok', '\ud800'], 'a lone UTF-16 surrogate'],
  ])('json: %s', (_name, value, expected) => {
    expect(unstorableJson(value)).toBe(expected);
  });

  it.each([
    ['year 0001', '0001-01-01T00:00:00Z', undefined],
    ['year 9999', '9999-12-31T23:59:59.999Z', undefined],
    ['today', new Date().toISOString(), undefined],
    ['year 0000', '0000-01-01T00:00:00Z', 'year 0000'],
  ])('timestamp: %s', (_name, value, expected) => {
    expect(unstorableTimestamp(value)).toBe(expected);
  });
});
