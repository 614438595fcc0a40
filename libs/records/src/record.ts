import { z } from 'zod';
import { ValidationError } from '@fairway/errors';

/** One record, as the API returns it. `amount` is a decimal string: money is never a float. */
export interface BusinessRecord {
  id: string;
  title: string;
  body: string;
  amount: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

const amount = z
  .union([z.number().finite(), z.string().regex(/^-?\d{1,16}(\.\d{1,2})?$/, 'a decimal with at most 2 places')])
  .transform((value) => String(value))
  .refine((value) => Math.abs(Number(value)) < 1e16, 'must be below 10^16 in magnitude');
/** PostgreSQL refuses a NUL character in any text value: a 400 here instead of a 500 at the insert. */
const noNul = (schema: z.ZodString) => schema.refine((value) => !value.includes('\u0000'), 'must not contain a NUL character');
const tag = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, 'lowercase letters, digits, dot, dash, underscore; 1-40 characters');

/** The body of POST /v1/records. */
export const recordInputSchema = z
  .object({
    title: noNul(z.string().trim().min(1).max(200)),
    body: noNul(z.string().max(10_000)).default(''),
    amount: amount.default('0'),
    tags: z.array(tag).max(20).default([]),
  })
  .strict();

/** The body of PATCH /v1/records/{id}: any subset of the fields, at least one. */
export const recordPatchSchema = z
  .object({
    title: noNul(z.string().trim().min(1).max(200)).optional(),
    body: noNul(z.string().max(10_000)).optional(),
    amount: amount.optional(),
    tags: z.array(tag).max(20).optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'send at least one of title, body, amount, tags');

/** The query of GET /v1/records. */
export const listQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'an opaque cursor from nextCursor')
      .optional(),
    tag: tag.optional(),
  })
  .strict();

/** A record to create. */
export type RecordInput = z.output<typeof recordInputSchema>;
/** Changes to a record. */
export type RecordPatch = z.output<typeof recordPatchSchema>;
/** Paging and filtering of a list. */
export type ListQuery = z.output<typeof listQuerySchema>;

/** Parses `value` with `schema`, or throws ValidationError naming each bad field under `where`. */
export function parseOrThrow<S extends z.ZodTypeAny>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data as z.output<S>;
  const issues = parsed.error.issues.map((issue) => ({ path: [where, ...issue.path].join('.'), message: issue.message }));
  throw new ValidationError(`${where} is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID (any version). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The opaque cursor after the record `id` (base64url, so clients do not build it themselves). */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** The record id a cursor stands for, or ValidationError. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUuid(id))
    throw new ValidationError('cursor is not valid: pass nextCursor from the previous page unchanged', [{ path: 'query.cursor', message: 'not a cursor' }]);
  return id;
}
