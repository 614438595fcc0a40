import { FairSchedulerError } from '../errors';
import type { TenantQuota, TenantQuotaPatch } from '../types';

/** The quota every tenant gets unless told otherwise: weight 1, no rate limit, no caps. */
export const BASE_QUOTA: TenantQuota = Object.freeze({ weight: 1, rateBasis: 'jobs' as const });

function invalid(field: string, rule: string, got: unknown): FairSchedulerError {
  return new FairSchedulerError('INVALID_QUOTA', `quota.${field} must be ${rule} (got ${typeof got === 'string' ? `'${got}'` : String(got)})`);
}

function positiveFinite(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(field, 'a finite number > 0', value);
  }
  return value;
}

function countAtLeastOne(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalid(field, 'an integer >= 1', value);
  }
  return value;
}

/**
 * Applies `patch` on top of `base` and validates the result. Returns a frozen object so that
 * tenants sharing the defaults can share one instance (it is part of the idle-tenant memory budget).
 */
export function applyQuotaPatch(base: TenantQuota, patch: TenantQuotaPatch | Partial<TenantQuota>): TenantQuota {
  const next: {
    weight: number;
    rate?: number | undefined;
    burst?: number | undefined;
    rateBasis: 'jobs' | 'cost';
    maxInFlight?: number | undefined;
    maxInFlightByClass?: Readonly<Record<string, number>> | undefined;
  } = { ...base };
  if (patch.weight !== undefined) next.weight = positiveFinite('weight', patch.weight);
  if ('rate' in patch && patch.rate !== undefined) {
    next.rate = patch.rate === null ? undefined : positiveFinite('rate', patch.rate);
  }
  if ('burst' in patch && patch.burst !== undefined) {
    next.burst = patch.burst === null ? undefined : positiveFinite('burst', patch.burst);
  }
  if (patch.rateBasis !== undefined) {
    if (patch.rateBasis !== 'jobs' && patch.rateBasis !== 'cost') {
      throw invalid('rateBasis', "'jobs' or 'cost'", patch.rateBasis);
    }
    next.rateBasis = patch.rateBasis;
  }
  if ('maxInFlight' in patch && patch.maxInFlight !== undefined) {
    next.maxInFlight = patch.maxInFlight === null ? undefined : countAtLeastOne('maxInFlight', patch.maxInFlight);
  }
  if ('maxInFlightByClass' in patch && patch.maxInFlightByClass !== undefined) {
    if (patch.maxInFlightByClass === null) {
      next.maxInFlightByClass = undefined;
    } else {
      const byClass: Record<string, number> = {};
      for (const [jobClass, cap] of Object.entries(patch.maxInFlightByClass)) {
        byClass[jobClass] = countAtLeastOne(`maxInFlightByClass.${jobClass}`, cap);
      }
      next.maxInFlightByClass = Object.freeze(byClass);
    }
  }
  for (const key of Object.keys(next) as Array<keyof typeof next>) {
    if (next[key] === undefined) delete next[key];
  }
  return Object.freeze(next);
}

/** Bucket size actually used: the configured burst, else one second of refill (at least 1 token). */
export function effectiveBurst(quota: TenantQuota): number {
  return quota.burst ?? Math.max(1, quota.rate ?? 1);
}
