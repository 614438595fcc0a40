import { z } from 'zod';

/** What a compiled check answers when it cannot vouch for an input: the zod schema decides. */
const UNDECIDED: unique symbol = Symbol('undecided');
type Check = (input: unknown) => unknown;

/**
 * A zod schema with a compiled acceptance check in front of it. The check is built once from the
 * schema's own definition (its shape, bounds, enums, formats) and only ever ACCEPTS: an input it
 * accepts gets the value zod would return, and anything else (an invalid input, or a construct the
 * compiler does not know) goes to the zod schema itself, which gives the verdict and its messages.
 * So errors read exactly as before and a schema change can never make the check wrong, only slower.
 *
 * Why: the scheduler validates every command it ingests, and zod's per-call overhead (a context and
 * an issue list per value, the datetime regex rebuilt on every call) was the largest cost of ingest.
 * Equality with zod is checked by property tests (compiled-schema.test.ts) over valid and mutated
 * inputs of every schema it is used for.
 */
export class CompiledSchema<S extends z.ZodTypeAny> {
  private readonly check: Check;
  /** True when every part of the schema compiled: valid inputs never reach zod. */
  readonly complete: boolean;

  constructor(readonly schema: S) {
    const compiled = compile(schema);
    this.check = compiled.check;
    this.complete = compiled.complete;
  }

  /** Whether the compiled check alone accepts `input` (valid inputs should; zod is then skipped). */
  accepts(input: unknown): boolean {
    return this.check(input) !== UNDECIDED;
  }

  /**
   * As zod's `safeParse`, with the same result; valid inputs skip zod when the check accepts them.
   * An accepted input that zod would only have copied (nothing stripped, defaulted or converted) is
   * returned itself rather than copied: parse freshly parsed JSON, or do not mutate the result.
   */
  safeParse(input: unknown): z.SafeParseReturnType<z.input<S>, z.output<S>> {
    const value = this.check(input);
    if (value !== UNDECIDED) return { success: true, data: value as z.output<S> };
    return this.schema.safeParse(input);
  }
}

/** Compiles `schema`'s acceptance check (see {@link CompiledSchema}). */
export function compileSchema<S extends z.ZodTypeAny>(schema: S): CompiledSchema<S> {
  return new CompiledSchema(schema);
}

interface Compiled {
  check: Check;
  complete: boolean;
}

const undecided: Compiled = { check: () => UNDECIDED, complete: false };

/**
 * An object zod parses as an object (ZodParsedType.object) AND whose own enumerable keys are all
 * the keys `for...in` visits: plain objects as JSON.parse makes them. Anything else is left to zod.
 */
function isPlainObject(input: unknown): input is Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) return false;
  // zod reads an object with then() and catch() as a promise.
  return typeof (input as { then?: unknown }).then !== 'function' || typeof (input as { catch?: unknown }).catch !== 'function';
}

function compile(schema: z.ZodTypeAny): Compiled {
  // Refinements, transforms, preprocessors and coercion are all left to zod.
  if ((schema._def as { coerce?: boolean }).coerce === true) return undecided;
  if (schema instanceof z.ZodString) return compileString(schema);
  if (schema instanceof z.ZodNumber) return compileNumber(schema);
  if (schema instanceof z.ZodBoolean) return { check: (input) => (typeof input === 'boolean' ? input : UNDECIDED), complete: true };
  if (schema instanceof z.ZodEnum) {
    const values = new Set<unknown>(schema.options as readonly string[]);
    return { check: (input) => (typeof input === 'string' && values.has(input) ? input : UNDECIDED), complete: true };
  }
  if (schema instanceof z.ZodUnknown || schema instanceof z.ZodAny) return { check: (input) => input, complete: true };
  if (schema instanceof z.ZodOptional) {
    const inner = compile(schema.unwrap() as z.ZodTypeAny);
    return { check: (input) => (input === undefined ? undefined : inner.check(input)), complete: inner.complete };
  }
  if (schema instanceof z.ZodDefault) {
    const inner = compile(schema.removeDefault() as z.ZodTypeAny);
    const defaultValue = (schema._def as { defaultValue: () => unknown }).defaultValue;
    // zod validates the default too: the inner schema parses whatever defaultValue() returns.
    return { check: (input) => inner.check(input === undefined ? defaultValue() : input), complete: inner.complete };
  }
  if (schema instanceof z.ZodObject) return compileObject(schema);
  if (schema instanceof z.ZodRecord) return compileRecord(schema);
  return undecided;
}

function compileString(schema: z.ZodString): Compiled {
  const tests: Array<(value: string) => boolean> = [];
  for (const check of schema._def.checks) {
    switch (check.kind) {
      case 'min':
        tests.push((value) => value.length >= check.value);
        break;
      case 'max':
        tests.push((value) => value.length <= check.value);
        break;
      case 'length':
        tests.push((value) => value.length === check.value);
        break;
      case 'uuid':
        tests.push((value) => UUID.test(value));
        break;
      case 'datetime': {
        const regex = datetimeRegex(check);
        tests.push((value) => regex.test(value));
        break;
      }
      default:
        // Formats and transforms (email, trim, toLowerCase, ...) this compiler does not reproduce.
        return undecided;
    }
  }
  return {
    check: (input) => {
      if (typeof input !== 'string') return UNDECIDED;
      for (const test of tests) if (!test(input)) return UNDECIDED;
      return input;
    },
    complete: true,
  };
}

function compileNumber(schema: z.ZodNumber): Compiled {
  const tests: Array<(value: number) => boolean> = [];
  for (const check of schema._def.checks) {
    switch (check.kind) {
      case 'int':
        tests.push((value) => Number.isInteger(value));
        break;
      case 'finite':
        tests.push((value) => Number.isFinite(value));
        break;
      case 'min':
        tests.push(check.inclusive ? (value) => value >= check.value : (value) => value > check.value);
        break;
      case 'max':
        tests.push(check.inclusive ? (value) => value <= check.value : (value) => value < check.value);
        break;
      default:
        return undecided;
    }
  }
  return {
    check: (input) => {
      // zod parses NaN as its own type, never as a number.
      if (typeof input !== 'number' || Number.isNaN(input)) return UNDECIDED;
      for (const test of tests) if (!test(input)) return UNDECIDED;
      return input;
    },
    complete: true,
  };
}

function compileObject(schema: z.AnyZodObject): Compiled {
  const { unknownKeys, catchall } = schema._def as { unknownKeys: 'strict' | 'strip' | 'passthrough'; catchall: z.ZodTypeAny };
  if (!(catchall instanceof z.ZodNever) || unknownKeys === 'passthrough') return undecided;
  const strict = unknownKeys === 'strict';
  const entries = Object.entries(schema.shape as z.ZodRawShape).map(([key, value]) => ({ key, field: compile(value) }));
  // A key every object inherits (`toString`, `__proto__`, ...) is "in" any input: left to zod.
  if (entries.some(({ key }) => key in Object.prototype)) return undecided;
  const keys = new Set(entries.map(({ key }) => key));
  // The fields' values of the input being checked (a check never runs inside itself: no recursion).
  const values = new Array<unknown>(entries.length);
  return {
    check: (input) => {
      if (!isPlainObject(input)) return UNDECIDED;
      let extra = false;
      for (const key in input) {
        if (keys.has(key)) continue;
        if (strict) return UNDECIDED;
        extra = true;
        break;
      }
      let same = !extra;
      for (let i = 0; i < entries.length; i += 1) {
        const raw = input[(entries[i] as (typeof entries)[number]).key];
        const value = (entries[i] as (typeof entries)[number]).field.check(raw);
        if (value === UNDECIDED) return UNDECIDED;
        values[i] = value;
        if (value !== raw) same = false;
      }
      // Nothing stripped, defaulted or converted: zod's output would be a copy equal to the input.
      if (same) return input;
      // The output as zod builds it: the shape's keys in the shape's order, a key kept when the input
      // has it (even as undefined) or its schema gave it a value (a default).
      const out: Record<string, unknown> = {};
      for (let i = 0; i < entries.length; i += 1) {
        const { key } = entries[i] as (typeof entries)[number];
        if (values[i] !== undefined || key in input) out[key] = values[i];
      }
      return out;
    },
    complete: entries.every(({ field }) => field.complete),
  };
}

function compileRecord(schema: z.ZodRecord): Compiled {
  const keyType = schema.keySchema as z.ZodTypeAny;
  if (!(keyType instanceof z.ZodString)) return undecided;
  const key = compile(keyType);
  const value = compile(schema.valueSchema as z.ZodTypeAny);
  const identity = keyType._def.checks.length === 0 && (schema.valueSchema instanceof z.ZodUnknown || schema.valueSchema instanceof z.ZodAny);
  return {
    check: (input) => {
      if (!isPlainObject(input)) return UNDECIDED;
      if (identity) {
        // Nothing to check or convert per entry: the input is the value zod would copy out, unless
        // it has an own `__proto__` entry, which zod's copy drops.
        for (const name in input) if (name === '__proto__') return UNDECIDED;
        return input;
      }
      const out: Record<string, unknown> = {};
      for (const name in input) {
        if (name === '__proto__' || key.check(name) === UNDECIDED) return UNDECIDED;
        const checked = value.check(input[name]);
        if (checked === UNDECIDED) return UNDECIDED;
        out[name] = checked;
      }
      return out;
    },
    complete: key.complete && value.complete,
  };
}

// zod 3's own formats (zod/v3/types.cjs), reproduced: the property tests hold them equal to zod's.
// The uuid regex without zod's `\b`s: between a hex digit and '-' there always is a word boundary.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_SOURCE =
  '((\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-((0[13578]|1[02])-(0[1-9]|[12]\\d|3[01])|(0[469]|11)-(0[1-9]|[12]\\d|30)|(02)-(0[1-9]|1\\d|2[0-8])))';

function datetimeRegex(args: { precision: number | null; offset: boolean; local: boolean }): RegExp {
  let seconds = '[0-5]\\d';
  if (args.precision) seconds = `${seconds}\\.\\d{${args.precision}}`;
  else if (args.precision === null || args.precision === undefined) seconds = `${seconds}(\\.\\d+)?`;
  const time = `([01]\\d|2[0-3]):[0-5]\\d(:${seconds})${args.precision ? '+' : '?'}`;
  const zones = [args.local ? 'Z?' : 'Z'];
  if (args.offset) zones.push('([+-]\\d{2}:?\\d{2})');
  return new RegExp(`^${DATE_SOURCE}T${time}(${zones.join('|')})$`);
}
