import type { TenantQuotaPatch } from '@fairway/fair-scheduler';
import type { QuotaLimits } from './quota';

/**
 * The fair core's patch for a tenant's limits: every field given, so the result does not depend on
 * what the core held before. The core checks its own invariants again (INVALID_QUOTA): it is also
 * driven by the simulator and the benchmarks, which do not go through this schema.
 */
export function toCoreQuota(limits: QuotaLimits): TenantQuotaPatch {
  return {
    weight: limits.weight,
    rate: limits.rate,
    // A burst without a rate limits nothing; the core would size a bucket nobody draws from.
    burst: limits.rate === null ? null : limits.burst,
    maxInFlight: limits.maxInFlight,
  };
}
