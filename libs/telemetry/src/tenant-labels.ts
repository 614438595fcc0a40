import { Counter, type Gauge, type Registry } from 'prom-client';
import { isTenantId } from '@fairway/tenant-context';

/** The label value every tenant past the bound is folded into. */
export const OTHER_TENANT_LABEL = '_other';

/** The label value of a sample with no tenant (a request refused before one was known). */
export const NO_TENANT_LABEL = '_none';

/** The label value of something that is not a tenant id at all (an unverified claim, say). */
export const INVALID_TENANT_LABEL = '_invalid';

/** Distinct tenant label values one registry keeps before folding, unless configured. */
export const DEFAULT_TENANT_LABEL_LIMIT = 1_000;

/** The environment variable that sets the bound (read once, by {@link tenantLabelLimitFromEnv}). */
export const TENANT_LABEL_LIMIT_ENV = 'METRICS_TENANT_LABEL_LIMIT';

/** Name of the counter of samples whose tenant was folded into `_other`. */
export const FOLDED_COUNTER_NAME = 'fairway_metrics_tenant_labels_folded_total';

/**
 * The bound in `env[METRICS_TENANT_LABEL_LIMIT]`, or the default. A value that is not an integer
 * >= 1 throws with the variable named, so a typo stops the process at start-up instead of silently
 * running unbounded.
 */
export function tenantLabelLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[TENANT_LABEL_LIMIT_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_TENANT_LABEL_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`${TENANT_LABEL_LIMIT_ENV} must be an integer >= 1 (got '${raw}')`);
  }
  return limit;
}

/** Options of a {@link TenantLabeller}. */
export interface TenantLabellerOptions {
  /** Distinct tenant values kept before folding into `_other`; default 1,000. */
  limit?: number;
  /** Where the folded-samples counter is registered; none when omitted (unit tests). */
  registry?: Registry;
}

/**
 * Turns tenant ids into metric label values with a bound on how many distinct values exist.
 *
 * The first `limit` tenants seen keep their own label value for the life of the process; every
 * later tenant is reported as `tenant="_other"` and counted in
 * `fairway_metrics_tenant_labels_folded_total`. Admitted values are never evicted: an evicted
 * tenant's series would stop and restart under `_other`, which reads as a drop to zero on every
 * dashboard. A restart starts over, which is when Prometheus starts new series anyway.
 *
 * Values that are not tenant ids (a header an unauthenticated caller made up) become `_invalid`
 * and do not use a slot, so a flood of garbage cannot push real tenants into `_other`.
 */
export class TenantLabeller {
  /** The bound in force. */
  readonly limit: number;
  private readonly admitted = new Set<string>();
  private readonly folded?: Counter;

  constructor(options: TenantLabellerOptions = {}) {
    const limit = options.limit ?? DEFAULT_TENANT_LABEL_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`tenant label limit must be an integer >= 1 (got ${limit})`);
    this.limit = limit;
    if (options.registry) {
      const existing = options.registry.getSingleMetric(FOLDED_COUNTER_NAME);
      this.folded =
        (existing as Counter | undefined) ??
        new Counter({
          name: FOLDED_COUNTER_NAME,
          help: `Samples whose tenant label was folded into "${OTHER_TENANT_LABEL}" because more than ${limit} distinct tenants were seen (${TENANT_LABEL_LIMIT_ENV})`,
          registers: [options.registry],
        });
    }
  }

  /** The label value for `tenantId`: itself while within the bound, else `_other`. */
  label(tenantId: string | undefined | null): string {
    if (tenantId === undefined || tenantId === null || tenantId === '') return NO_TENANT_LABEL;
    if (this.admitted.has(tenantId)) return tenantId;
    if (!isTenantId(tenantId)) return INVALID_TENANT_LABEL;
    if (this.admitted.size < this.limit) {
      this.admitted.add(tenantId);
      return tenantId;
    }
    this.folded?.inc();
    return OTHER_TENANT_LABEL;
  }

  /** Whether `tenantId` has a label value of its own. */
  has(tenantId: string): boolean {
    return this.admitted.has(tenantId);
  }

  /** How many tenants have a label value of their own. */
  get size(): number {
    return this.admitted.size;
  }
}

const labellers = new WeakMap<Registry, TenantLabeller>();

/**
 * The one labeller of `registry` (made on first use with `options`). Every metric of a registry
 * shares it, so a tenant is either named or folded in all of them alike and the dashboards'
 * joins (in-flight vs quota, say) line up.
 */
export function tenantLabeller(registry: Registry, options: Omit<TenantLabellerOptions, 'registry'> = {}): TenantLabeller {
  let labeller = labellers.get(registry);
  if (!labeller) {
    labeller = new TenantLabeller({ ...options, registry });
    labellers.set(registry, labeller);
  }
  return labeller;
}

/**
 * Sets a per-tenant gauge from a full snapshot: resets it, then sets one series per label value,
 * summing the tenants that fold into `_other` (a gauge set tenant by tenant would let the last
 * folded tenant overwrite the others). Tenants missing from the snapshot disappear, as they should
 * for a queue that drained.
 */
export function setTenantGauge(
  gauge: Gauge,
  labeller: TenantLabeller,
  values: Iterable<readonly [tenantId: string, value: number]>,
  extraLabels: Record<string, string> = {},
): void {
  const sums = new Map<string, number>();
  for (const [tenantId, value] of values) {
    const label = labeller.label(tenantId);
    sums.set(label, (sums.get(label) ?? 0) + value);
  }
  gauge.reset();
  for (const [tenant, value] of sums) gauge.set({ ...extraLabels, tenant }, value);
}
