import { z } from 'zod';
import { UnknownJobTypeError, ValidationError } from '@fairway/errors';
import { compileSchema, type CompiledSchema } from './compiled-schema';

/** Capacity tiers: heavy work never takes the slots of the others. */
export const JOB_CLASSES = ['interactive', 'standard', 'heavy'] as const;
export type JobClass = (typeof JOB_CLASSES)[number];

/** One job type: its parameters, its capacity class and its cost estimate in ms of work. */
export interface JobTypeDefinition<P extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly params: P;
  readonly jobClass: (params: z.output<P>) => JobClass;
  readonly estimateMs: (params: z.output<P>) => number;
  readonly description: string;
}

/** The job types the platform runs. */
export const jobTypes = {
  synthetic: {
    description: 'Takes `ms` milliseconds and does nothing else; for load and fairness tests.',
    params: z
      .object({
        ms: z.number().int().min(0).max(600_000),
        class: z.enum(JOB_CLASSES).optional(),
        /** Fails this many attempts with a retriable error before succeeding (tests of retries). */
        failAttempts: z.number().int().min(0).max(10).optional(),
      })
      .strict(),
    jobClass: (params: { class?: JobClass | undefined }) => params.class ?? 'standard',
    estimateMs: (params: { ms: number }) => Math.max(1, params.ms),
  },
  export: {
    description:
      "Streams every record of the tenant to CSV (a server-side cursor, never the whole table in memory); the CSV is the job's result at GET /v1/jobs/{id}/result.",
    params: z
      .object({
        /** Rows fetched from the cursor at a time. */
        batchSize: z.number().int().min(10).max(10_000).optional(),
      })
      .strict(),
    jobClass: () => 'heavy' as const,
    estimateMs: () => 5_000,
  },
  report: {
    description: "Aggregates the tenant's records: count, sum and average of amount, and the same per tag, as JSON.",
    params: z.object({}).strict(),
    jobClass: () => 'standard' as const,
    estimateMs: () => 200,
  },
} satisfies Record<string, JobTypeDefinition>;

export type JobType = keyof typeof jobTypes;

/** The known job type names. */
export const JOB_TYPE_NAMES = Object.keys(jobTypes) as JobType[];

/** Each type's params schema with its compiled check: every command ingested is validated here. */
const compiledParams = new Map<string, CompiledSchema<z.ZodTypeAny>>(
  Object.entries(jobTypes).map(([name, definition]) => [name, compileSchema(definition.params)]),
);

/** A validated job: its type, parameters, class and estimate. */
export interface ValidatedJob {
  type: JobType;
  params: Record<string, unknown>;
  jobClass: JobClass;
  estimateMs: number;
}

/**
 * Validates a job type and its parameters. Throws UnknownJobTypeError or ValidationError, each
 * naming what is wrong.
 */
export function validateJob(type: string, params: unknown): ValidatedJob {
  if (!Object.prototype.hasOwnProperty.call(jobTypes, type)) throw new UnknownJobTypeError(type, JOB_TYPE_NAMES);
  // Widened to the common shape: each type checks its own params before its functions see them.
  const definition: JobTypeDefinition = jobTypes[type as JobType];
  const parsed = (compiledParams.get(type) as CompiledSchema<z.ZodTypeAny>).safeParse(params ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: ['params', ...issue.path].join('.'),
      message: issue.message,
    }));
    throw new ValidationError(`params for job type '${type}' are not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return {
    type: type as JobType,
    params: parsed.data,
    jobClass: definition.jobClass(parsed.data),
    estimateMs: definition.estimateMs(parsed.data),
  };
}

/**
 * The cost estimate (ms) of a job whose params were validated when it was accepted: the
 * dispatcher calls this for every job it queues, so it skips a second schema parse. An unknown
 * type (a job type retired since) estimates 1 ms.
 */
export function estimateOf(type: string, params: Record<string, unknown>): number {
  if (!Object.prototype.hasOwnProperty.call(jobTypes, type)) return 1;
  const estimate = (jobTypes[type as JobType].estimateMs as (p: Record<string, unknown>) => number)(params);
  return Number.isFinite(estimate) && estimate > 0 ? estimate : 1;
}
