import { UnknownJobTypeError, ValidationError } from '@fairway/errors';
import { estimateOf, validateJob } from './index';

describe('validateJob', () => {
  it('accepts a synthetic job and defaults it to the standard class', () => {
    expect(validateJob('synthetic', { ms: 50 })).toEqual({
      type: 'synthetic',
      params: { ms: 50 },
      jobClass: 'standard',
      estimateMs: 50,
    });
  });

  it('honours an explicit class', () => {
    expect(validateJob('synthetic', { ms: 5, class: 'heavy' }).jobClass).toBe('heavy');
  });

  it.each([
    ['negative duration', { ms: -1 }],
    ['fractional duration', { ms: 1.5 }],
    ['string duration', { ms: '50' }],
    ['unknown field', { ms: 1, sql: 'drop' }],
    ['unknown class', { ms: 1, class: 'vip' }],
    ['missing ms', {}],
  ])('refuses %s with the field named', (_name, params) => {
    expect(() => validateJob('synthetic', params)).toThrow(ValidationError);
    try {
      validateJob('synthetic', params);
    } catch (err) {
      expect((err as ValidationError).issues[0]?.path).toMatch(/^params/);
    }
  });

  it('runs exports in the heavy class and reports in the standard class, whatever the params say', () => {
    expect(validateJob('export', {}).jobClass).toBe('heavy');
    expect(validateJob('export', { batchSize: 100 }).params).toEqual({ batchSize: 100 });
    expect(validateJob('report', {}).jobClass).toBe('standard');
  });

  it.each([
    ['export', { batchSize: 5 }],
    ['export', { class: 'interactive' }],
    ['report', { tag: 'x' }],
  ])('refuses bad %s params %j', (type, params) => {
    expect(() => validateJob(type, params)).toThrow(ValidationError);
  });

  it.each(['nope', '__proto__', 'constructor', 'toString'])('refuses the unknown job type %s', (type) => {
    expect(() => validateJob(type, { ms: 1 })).toThrow(UnknownJobTypeError);
  });
});

describe('estimateOf', () => {
  it('gives the same estimate as validation, without parsing again', () => {
    expect(estimateOf('synthetic', { ms: 250 })).toBe(validateJob('synthetic', { ms: 250 }).estimateMs);
    expect(estimateOf('export', {})).toBe(validateJob('export', {}).estimateMs);
  });

  it('estimates 1 ms for a type it does not know', () => {
    expect(estimateOf('retired-type', {})).toBe(1);
  });
});
