import type { TenantQuotaPatch } from '@fairway/fair-scheduler';
import { limitsOf, type QuotaField, type QuotaLimits } from './quota';

// Every field of the schema is one the core knows, under the same name, or this does not compile.
const fieldsKnownToCore: [Exclude<QuotaField, keyof TenantQuotaPatch>] extends [never] ? true : never = true;
void fieldsKnownToCore;

/**
 * The fair core's patch for a tenant's limits: every field given (the schema's names are the
 * core's), so the result does not depend on what the core held before. The core checks its own
 * invariants again (INVALID_QUOTA): it is also driven by the simulator and the benchmarks, which
 * do not go through this schema.
 */
export function toCoreQuota(limits: QuotaLimits): TenantQuotaPatch {
  const patch: TenantQuotaPatch = {
    ...limitsOf(limits),
    // A burst without a rate limits nothing; the core would size a bucket nobody draws from.
    burst: limits.rate === null ? null : limits.burst,
  };
  return patch;
}
