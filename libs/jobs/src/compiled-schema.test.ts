import fc from 'fast-check';
import { z } from 'zod';
import { compileSchema, type CompiledSchema } from './compiled-schema';
import { JOB_CLASSES, jobTypes } from './job-types';

/** The compiled schema answers exactly as zod: same verdict, same value, same issues. */
function expectSameAsZod(compiled: CompiledSchema<z.ZodTypeAny>, input: unknown): void {
  const ours = compiled.safeParse(input);
  const zods = compiled.schema.safeParse(input);
  expect(ours.success).toBe(zods.success);
  if (ours.success && zods.success) expect(ours.data).toStrictEqual(zods.data);
  if (!ours.success && !zods.success) expect(ours.error.issues).toEqual(zods.error.issues);
}

/** Values of every JSON and non-JSON kind zod tells apart. */
const oddValue = fc.oneof(
  fc.constantFrom(undefined, null, NaN, Infinity, -Infinity, -0, 0, 1.5, '', true, false, [], {}, new Date(0), new Map(), new Set()),
  fc.constant({ then: () => undefined, catch: () => undefined }),
  fc.constant(Object.create(null) as object),
  fc.constant(JSON.parse('{"__proto__": 1}') as object),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.jsonValue(),
);

/** Anything, with some probability of each of `valid`'s keys being replaced, removed or joined by another. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 3,
      arbitrary: fc.tuple(valid, fc.nat(), oddValue, fc.constantFrom('replace', 'remove', 'undefined', 'extra')).map(([object, pick, value, how]) => {
        const out = { ...object };
        const keys = Object.keys(out);
        const key = keys.length === 0 || how === 'extra' ? `extra${pick % 3}` : (keys[pick % keys.length] as string);
        if (how === 'remove') delete out[key];
        else out[key] = how === 'undefined' ? undefined : value;
        return out;
      }),
    },
    { weight: 1, arbitrary: oddValue },
  );
}

describe('compileSchema', () => {
  it.each([
    ['a strict object with an unknown key', z.object({ a: z.number() }).strict(), { a: 1, b: 2 }],
    ['a stripping object with an unknown key', z.object({ a: z.number() }), { a: 1, b: 2 }],
    ['an optional key present as undefined', z.object({ a: z.number().optional() }).strict(), { a: undefined }],
    ['an optional key absent', z.object({ a: z.number().optional() }).strict(), {}],
    ['a default filled in', z.object({ a: z.number().default(7) }).strict(), {}],
    ['a default that its own schema refuses', z.object({ a: z.number().min(10).default(7) }).strict(), {}],
    ['NaN for a number', z.number(), NaN],
    ['Infinity for an int', z.number().int(), Infinity],
    ['Infinity for a plain number', z.number(), Infinity],
    ['-0 for an int', z.number().int().min(0), -0],
    ['an exclusive bound met', z.number().gt(1).lt(3), 1],
    ['an exclusive bound passed', z.number().gt(1).lt(3), 2],
    ['a value outside an enum', z.enum(['a', 'b']), 'c'],
    ['a record with an own __proto__ key', z.record(z.unknown()), JSON.parse('{"__proto__": {"x": 1}, "y": 2}')],
    ['a record of numbers with a string', z.record(z.number()), { a: 1, b: 'x' }],
    ['an object with then and catch functions', z.record(z.unknown()), { then: () => undefined, catch: () => undefined }],
    ['an object without a prototype', z.record(z.unknown()), Object.assign(Object.create(null) as object, { a: 1 })],
    ['an array for an object', z.object({}).strict(), []],
    ['a date for an object', z.object({}), new Date(0)],
    ['an uppercase uuid', z.string().uuid(), '123E4567-E89B-12D3-A456-426614174000'],
    ['a uuid without dashes', z.string().uuid(), '123e4567e89b12d3a456426614174000'],
    ['a datetime with an offset', z.string().datetime(), '2026-11-26T10:00:00+01:00'],
    ['a datetime with an offset allowed', z.string().datetime({ offset: true }), '2026-11-26T10:00:00+01:00'],
    ['a datetime of 29 February in a leap year', z.string().datetime(), '2024-02-29T00:00:00.5Z'],
    ['a datetime of 29 February in another year', z.string().datetime(), '2026-02-29T00:00:00Z'],
    ['a datetime with fixed precision', z.string().datetime({ precision: 3 }), '2026-11-26T10:00:00.12Z'],
    ['a local datetime', z.string().datetime({ local: true }), '2026-11-26T10:00'],
  ])('answers as zod for %s', (_name, schema, input) => {
    expectSameAsZod(compileSchema(schema as z.ZodTypeAny), input);
  });

  it.each([
    ['a refinement', z.number().refine((n) => n % 2 === 0)],
    ['a transform', z.string().trim()],
    ['coercion', z.coerce.number()],
    ['a format it does not reproduce', z.string().email()],
    ['a passthrough object', z.object({ a: z.number() }).passthrough()],
    ['an array', z.array(z.number())],
    ['a shape key every object inherits', z.object({ toString: z.unknown() })],
  ])('leaves %s to zod, never deciding', (_name, schema) => {
    const compiled = compileSchema(schema as z.ZodTypeAny);
    expect(compiled.complete).toBe(false);
    for (const input of [2, ' a@b.co ', '4', { a: 1 }, [1], {}]) {
      expect(compiled.accepts(input)).toBe(false);
      expectSameAsZod(compiled, input);
    }
  });

  it('compiles every job type completely, so valid params never reach zod', () => {
    for (const definition of Object.values(jobTypes)) expect(compileSchema(definition.params).complete).toBe(true);
  });

  it('accepts as zod does any datetime-like string', () => {
    const compiled = [
      z.string().datetime(),
      z.string().datetime({ offset: true }),
      z.string().datetime({ precision: 3 }),
      z.string().datetime({ local: true, precision: 0 }),
    ].map((s) => compileSchema(s));
    const digits = (n: number, max: number) => fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, '0'));
    const datetime = fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc
        .tuple(
          digits(4, 9999),
          digits(2, 13),
          digits(2, 32),
          digits(2, 25),
          digits(2, 61),
          fc.option(digits(2, 61)),
          fc.option(fc.stringMatching(/^\d{0,9}$/)),
          fc.constantFrom('Z', 'z', '', '+01:00', '-0130', '+1'),
        )
        .map(([y, mo, d, h, mi, s, frac, zone]) => `${y}-${mo}-${d}T${h}:${mi}${s === null ? '' : `:${s}`}${frac === null ? '' : `.${frac}`}${zone}`),
      fc.string(),
    );
    fc.assert(
      fc.property(datetime, (value) => compiled.forEach((c) => expectSameAsZod(c, value))),
      { numRuns: 2_000 },
    );
  });

  it('accepts as zod does any uuid-like string', () => {
    const compiled = compileSchema(z.string().uuid());
    const uuidLike = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.tuple(fc.uuid(), fc.nat(35), fc.constantFrom('g', '-', 'A', '0', '', ' ', '00')).map(([u, at, c]) => u.slice(0, at) + c + u.slice(at + 1)),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF-g'), minLength: 34, maxLength: 38 }),
    );
    fc.assert(
      fc.property(uuidLike, (value) => expectSameAsZod(compiled, value)),
      { numRuns: 2_000 },
    );
  });

  it("answers as zod for any input near each job type's params", () => {
    const anyNumber = fc.oneof(fc.integer({ min: -20, max: 700_000 }), fc.double(), fc.constantFrom(600_000, 600_001, 10, 11, 9, -1));
    const near: Record<keyof typeof jobTypes, fc.Arbitrary<Record<string, unknown>>> = {
      synthetic: fc.record(
        { ms: anyNumber, class: fc.oneof(fc.constantFrom(...JOB_CLASSES), fc.string()), failAttempts: fc.oneof(fc.integer({ min: 0, max: 10 }), anyNumber) },
        { requiredKeys: ['ms'] },
      ),
      export: fc.record({ batchSize: fc.oneof(fc.integer({ min: 10, max: 10_000 }), anyNumber) }, { requiredKeys: [] }),
      report: fc.record({ extra: fc.jsonValue() }, { requiredKeys: [] }),
    };
    for (const [type, arbitrary] of Object.entries(near)) {
      const compiled = compileSchema(jobTypes[type as keyof typeof jobTypes].params);
      fc.assert(
        fc.property(mutated(arbitrary), (input) => expectSameAsZod(compiled, input)),
        { numRuns: 1_000 },
      );
    }
  });

  it('decides every valid params object itself, without zod', () => {
    const compiled = compileSchema(jobTypes.synthetic.params);
    const valid = fc.record(
      { ms: fc.integer({ min: 0, max: 600_000 }), class: fc.constantFrom(...JOB_CLASSES), failAttempts: fc.integer({ min: 0, max: 10 }) },
      { requiredKeys: ['ms'] },
    );
    fc.assert(fc.property(valid, (params) => expect(compiled.accepts(params)).toBe(true)));
  });
});
