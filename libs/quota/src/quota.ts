import { z } from 'zod';
import { ValidationError } from '@fairway/errors';

/**
 * The limits of a tenant's quota, one line each: the rule a value must meet, and `.nullable()` when
 * the limit can be unset (no limit). This object is the quota's field list for every hop: the admin
 * API body, tenantctl's flags, the SchedulerAdmin messages (held to it by contract.test.ts), the
 * scheduler's store and the fair core's adapter all derive theirs from it.
 */
export const quotaLimitsSchema = z
  .object({
    weight: z.number().positive().max(1_000_000).describe('share of the scheduler while every tenant is busy'),
    rate: z
      .number()
      .positive()
      .max(1_000_000_000)
      .nullable()
      .describe('token bucket refill, tokens a second: jobs, or cost units with rateBasis cost (unset: unlimited)'),
    burst: z.number().min(1).max(1_000_000_000).nullable().describe('token bucket size (unset: one second of rate)'),
    maxInFlight: z.number().int().min(1).max(1_000_000).nullable().describe('jobs running at once, over all job classes (unset: unlimited)'),
    rateBasis: z.enum(['jobs', 'cost']).describe("what a rate token pays for: one job, or one unit of the job's estimated cost"),
    maxInFlightByClass: z
      .record(z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a job class: lowercase letters, digits, - and _'), z.number().int().min(1).max(1_000_000))
      .refine((caps) => Object.keys(caps).length >= 1 && Object.keys(caps).length <= 64, 'name 1 to 64 job classes')
      .nullable()
      .describe('jobs running at once per job class, e.g. heavy=2,interactive=8 (unset: no per-class caps)'),
  })
  .strict();

/** A tenant's limits; `null` is "not limited" (or, for burst, "one second of rate"). */
export type QuotaLimits = z.infer<typeof quotaLimitsSchema>;

/** The name of one limit, as the admin API, tenantctl's `--clear` and SetTenantQuota's `clear` spell it. */
export type QuotaField = keyof QuotaLimits;

/** Every limit, in the order operators see them. */
export const QUOTA_FIELDS: readonly QuotaField[] = Object.freeze(Object.keys(quotaLimitsSchema.shape) as QuotaField[]);

/**
 * The quota of a tenant nobody gave one: the ONE place the defaults live. Clearing a field puts
 * its default back.
 */
export const QUOTA_DEFAULTS: Readonly<QuotaLimits> = Object.freeze({
  weight: 1,
  rate: null,
  burst: null,
  maxInFlight: null,
  rateBasis: 'jobs',
  maxInFlightByClass: null,
});

/** A tenant's quota as the admin API returns it and SchedulerAdmin carries it. */
export const tenantQuotaSchema = quotaLimitsSchema
  .extend({
    tenantId: z.string().min(1),
    /** ISO 8601, or '' for a tenant still on the defaults. */
    updatedAt: z.string(),
    updatedBy: z.string(),
  })
  .strict();

/** A tenant's quota and who changed it last. */
export type TenantQuota = z.infer<typeof tenantQuotaSchema>;

type Settable<S extends z.ZodRawShape> = { [K in keyof S]: z.ZodOptional<S[K] extends z.ZodNullable<infer T> ? T : S[K]> };

function settable<S extends z.ZodRawShape>(shape: S): Settable<S> {
  return Object.fromEntries(
    Object.entries(shape).map(([field, schema]) => [field, (schema instanceof z.ZodNullable ? (schema.unwrap() as z.ZodTypeAny) : schema).optional()]),
  ) as Settable<S>;
}

/**
 * A change to a quota: the fields given are set, the fields named in `clear` go back to
 * {@link QUOTA_DEFAULTS}, the rest keep their value.
 */
export const quotaPatchSchema = z
  .object({
    ...settable(quotaLimitsSchema.shape),
    clear: z
      .array(z.enum(QUOTA_FIELDS as [QuotaField, ...QuotaField[]]))
      .max(QUOTA_FIELDS.length)
      .default([]),
  })
  .strict()
  .superRefine((patch, ctx) => {
    const set = QUOTA_FIELDS.filter((f) => patch[f] !== undefined);
    if (set.length === 0 && patch.clear.length === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `set at least one of ${QUOTA_FIELDS.join(', ')}, or clear one` });
    }
    for (const field of set) {
      if (patch.clear.includes(field)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['clear'], message: `'${field}' is both set and cleared` });
    }
  });

/** A validated change to a quota. */
export type QuotaPatch = z.output<typeof quotaPatchSchema>;

/**
 * Validates `value` as a {@link QuotaPatch}, or throws a ValidationError (problem+json 400,
 * gRPC INVALID_ARGUMENT) that names every bad field.
 */
export function parseQuotaPatch(value: unknown, what = 'the quota'): QuotaPatch {
  const parsed = quotaPatchSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  throw new ValidationError(`${what} is not valid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
}

/** `current` with `patch` applied (a quota nobody set starts from {@link QUOTA_DEFAULTS}). */
export function applyQuotaPatch(current: QuotaLimits | undefined, patch: QuotaPatch): QuotaLimits {
  const next: Record<string, unknown> = { ...(current ?? QUOTA_DEFAULTS) };
  for (const field of QUOTA_FIELDS) {
    if (patch.clear.includes(field)) next[field] = QUOTA_DEFAULTS[field];
    else if (patch[field] !== undefined) next[field] = patch[field];
  }
  return next as QuotaLimits;
}

/** The limits of a quota, without who changed it when. */
export function limitsOf(quota: QuotaLimits): QuotaLimits {
  return Object.fromEntries(QUOTA_FIELDS.map((f) => [f, quota[f]])) as QuotaLimits;
}

/** The quota of a tenant still on the defaults. */
export function defaultQuota(tenantId: string): TenantQuota {
  return { tenantId, ...QUOTA_DEFAULTS, updatedAt: '', updatedBy: '' };
}
