import { z } from 'zod';

/** One tenant's request limits at the edge. */
export interface RequestLimits {
  /** Sustained requests per second (the token bucket's refill rate). */
  rate: number;
  /** Requests that may arrive at once after a quiet period (the bucket's capacity). */
  burst: number;
  /** Requests in progress at once, across every replica. */
  maxInFlight: number;
}

/** The schema of one limits entry in configuration; fields left out fall back to the plan's. */
export const requestLimitsSchema = z
  .object({
    rate: z.number().positive(),
    burst: z.number().min(1),
    maxInFlight: z.number().int().min(1),
  })
  .strict();

/** Plan defaults when EDGE_PLAN_LIMITS does not name the plan. */
export const DEFAULT_PLAN_LIMITS: Record<string, RequestLimits> = {
  free: { rate: 5, burst: 10, maxInFlight: 4 },
  standard: { rate: 50, burst: 100, maxInFlight: 20 },
  enterprise: { rate: 500, burst: 1_000, maxInFlight: 200 },
};

/**
 * A tenant's limits: its override when it has one, else its plan's, else the standard plan's.
 * Overrides are partial: a tenant may raise only its burst.
 */
export class TenantLimits {
  constructor(
    private readonly plans: Record<string, RequestLimits>,
    private readonly overrides: Record<string, Partial<RequestLimits>>,
  ) {}

  for(tenantId: string, plan: string): RequestLimits {
    const base = this.plans[plan] ?? this.plans['standard'] ?? (DEFAULT_PLAN_LIMITS['standard'] as RequestLimits);
    return { ...base, ...(this.overrides[tenantId] ?? {}) };
  }
}
