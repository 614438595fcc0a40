/**
 * @fairway/quota: a tenant's scheduling quota, defined once.
 *
 * The limits and their rules are one zod schema ({@link quotaLimitsSchema}), held to the
 * SchedulerAdmin proto's messages by a test and by the types; the defaults are
 * {@link QUOTA_DEFAULTS}. The admin API validates request bodies with {@link parseQuotaPatch},
 * tenantctl derives its flags from the schema, the scheduler's admin service and store use
 * {@link patchFromMessage} and {@link applyQuotaPatch}, and the scheduler hands the core
 * {@link toCoreQuota} and the metrics {@link quotaMetricValues}.
 *
 * A tenant's database time limits (statement, lock, idle in transaction; per plan and tenant, for
 * interactive requests and heavy jobs) are the other contract here: {@link queryTimeoutLimitsSchema}
 * and {@link parseQueryTimeoutsPatch}, used by the admin API and tenantctl alike.
 *
 * @packageDocumentation
 */
export {
  quotaLimitsSchema,
  quotaPatchSchema,
  tenantQuotaSchema,
  QUOTA_DEFAULTS,
  QUOTA_FIELDS,
  parseQuotaPatch,
  applyQuotaPatch,
  limitsOf,
  defaultQuota,
  type QuotaField,
  type QuotaLimits,
  type QuotaPatch,
  type TenantQuota,
} from './quota';
export {
  QUERY_WORKLOADS,
  QUERY_TIMEOUT_FIELDS,
  queryTimeoutLimitsSchema,
  queryTimeoutsSchema,
  queryTimeoutsPatchSchema,
  parseQueryTimeoutsPatch,
  planNameSchema,
  type QueryWorkload,
  type QueryTimeoutField,
  type QueryTimeoutLimits,
  type QueryTimeouts,
  type QueryTimeoutsPatch,
} from './query-timeouts';
export { quotaToMessage, quotaFromMessage, patchToMessage, patchFromMessage } from './proto';
export { toCoreQuota } from './core';
export { quotaMetricValues } from './metrics';
