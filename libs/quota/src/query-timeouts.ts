import { z } from 'zod';
import { ValidationError } from '@fairway/errors';

/**
 * The two kinds of tenant work with separate database time limits: `interactive` for API requests
 * (a person waits; short limits), `heavy` for jobs (reports, exports; longer limits).
 */
export const QUERY_WORKLOADS = ['interactive', 'heavy'] as const;

/** A kind of tenant work with its own query time limits. */
export type QueryWorkload = (typeof QUERY_WORKLOADS)[number];

/** A day: no tenant statement is meant to run longer, and PostgreSQL's settings are int32 ms. */
const MAX_TIMEOUT_MS = 86_400_000;

const timeoutMs = (what: string) =>
  z.number().int().min(0).max(MAX_TIMEOUT_MS).nullable().describe(`${what}, ms; 0 turns the limit off (unset: the plan's value, then the default plan '*')`);

/**
 * A tenant's (or a plan's) query time limits for one workload, one line each: the PostgreSQL
 * setting each one becomes (SET LOCAL in every tenant transaction, libs/db) and its rule. `null`
 * inherits: a tenant's value from its plan, a plan's from the default plan `*`.
 */
export const queryTimeoutLimitsSchema = z
  .object({
    statementTimeoutMs: timeoutMs('statement_timeout: the longest one statement may run'),
    lockTimeoutMs: timeoutMs('lock_timeout: the longest a statement may wait for a lock'),
    idleInTransactionTimeoutMs: timeoutMs('idle_in_transaction_session_timeout: the longest a transaction may sit idle'),
  })
  .strict();

/** One workload's limits; `null` inherits. */
export type QueryTimeoutLimits = z.infer<typeof queryTimeoutLimitsSchema>;

/** The name of one limit, as the admin API and tenantctl spell it. */
export type QueryTimeoutField = keyof QueryTimeoutLimits;

/** Every limit, in the order operators see them. */
export const QUERY_TIMEOUT_FIELDS: readonly QueryTimeoutField[] = Object.freeze(Object.keys(queryTimeoutLimitsSchema.shape) as QueryTimeoutField[]);

/** The limits of a plan or a tenant, per workload, as the admin API returns them. */
export const queryTimeoutsSchema = z
  .object({
    scope: z.enum(['plan', 'tenant']),
    name: z.string().min(1),
    interactive: queryTimeoutLimitsSchema,
    heavy: queryTimeoutLimitsSchema,
  })
  .strict();

/** The stored limits of one plan or tenant (null: inherited). */
export type QueryTimeouts = z.infer<typeof queryTimeoutsSchema>;

/**
 * A change: per workload, the fields given are set (a number) or go back to inheriting (null);
 * the rest keep their value.
 */
export const queryTimeoutsPatchSchema = z
  .object({
    interactive: queryTimeoutLimitsSchema.partial().optional(),
    heavy: queryTimeoutLimitsSchema.partial().optional(),
  })
  .strict()
  .superRefine((patch, ctx) => {
    const fields = QUERY_WORKLOADS.flatMap((w) => Object.keys(patch[w] ?? {}));
    if (fields.length === 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `set or clear (null) at least one of ${QUERY_TIMEOUT_FIELDS.join(', ')} under interactive or heavy`,
      });
    }
  });

/** A validated change to a plan's or a tenant's query time limits. */
export type QueryTimeoutsPatch = z.output<typeof queryTimeoutsPatchSchema>;

/**
 * Validates `value` as a {@link QueryTimeoutsPatch}, or throws a ValidationError (problem+json 400)
 * that names every bad field.
 */
export function parseQueryTimeoutsPatch(value: unknown, what = 'the query timeouts'): QueryTimeoutsPatch {
  const parsed = queryTimeoutsPatchSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  throw new ValidationError(`${what} are not valid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
}

/** A plan name as the catalog stores it, or `*`, the default plan every other inherits from. */
export const planNameSchema = z.union([z.literal('*'), z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a plan: lowercase letters, digits, - and _')]);
