import { z } from 'zod';
import { isTenantId } from '@fairway/tenant-context';

/** The most jobs a what-if simulates in one request: the simulation holds each in memory (~1 KB a job, both runs together). */
export const WHAT_IF_MAX_JOBS = 200_000;
/** `1h`, `30m` (back from `until`) or an ISO 8601 instant. */
const instantOrAgo = z.string().min(1).max(64);
const tenantList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .pipe(z.array(z.string().refine(isTenantId, 'not a tenant id')).max(1_000));

/** The window of a trace, as a query (GET /trace) or a body (POST /what-if) gives it. */
export const traceWindowSchema = z
  .object({
    since: instantOrAgo.describe('start of the window: a duration back from `until` (1h, 30m) or an ISO 8601 instant'),
    until: z.string().datetime({ offset: true }).optional().describe('end of the window, ISO 8601 (default: now)'),
    tenant: tenantList.optional().describe('only these tenants (repeat the parameter); every tenant when absent'),
  })
  .strict();

/** The tiers to simulate instead of the recorded ones: `{"standard": {"slots": 4, "lendTo": ["interactive"]}}`. */
const tiersSchema = z.record(
  z.string().min(1).max(63),
  z.object({ slots: z.number().int().min(1).max(100_000), lendTo: z.array(z.string()).optional() }).strict(),
);

/** The JSON body of POST /what-if: a window of the jobs table and the proposed changes. */
export const whatIfBodySchema = z
  .object({
    since: instantOrAgo,
    until: z.string().datetime({ offset: true }).optional(),
    tenant: tenantList.optional(),
    changes: z.unknown().optional().describe('tenant id -> quota change, as PUT /tenants/{id}/quota takes it'),
    tiers: tiersSchema.optional().describe('capacity to simulate instead of the recorded tiers'),
  })
  .strict();
