import { Gauge, type Registry } from 'prom-client';
import { tenantLabeller, type TenantLabeller } from './tenant-labels';

/** Name of the per-tenant quota gauge (like Grafana Mimir's overrides exporter). */
export const TENANT_QUOTA_METRIC = 'fairway_tenant_quota';

/**
 * One tenant's effective quota, keyed by its `quota` label (@fairway/quota's quotaMetricValues
 * makes it from the quota's fields); a missing value is not exported (unlimited or inherited).
 */
export type ExportedTenantQuota = Readonly<Record<string, number | undefined>>;

/**
 * Exports the effective quota of every tenant as `fairway_tenant_quota{tenant, quota}` so that a
 * dashboard or alert can put usage next to its limit ("in-flight vs quota", "pinned at quota").
 *
 * The whole table is replaced on each {@link TenantQuotaExporter.replaceAll}: the owner of the
 * quotas (the scheduler) calls it when it loads or reloads them, and a deleted tenant's series
 * disappears. Tenants folded into `_other` by the labeller are summed, which keeps sums meaningful
 * (the total max_in_flight of the folded tenants against their total in-flight).
 */
export class TenantQuotaExporter {
  private readonly gauge: Gauge;
  private readonly quotas = new Map<string, ExportedTenantQuota>();

  constructor(
    registry: Registry,
    private readonly labeller: TenantLabeller = tenantLabeller(registry),
  ) {
    this.gauge =
      (registry.getSingleMetric(TENANT_QUOTA_METRIC) as Gauge | undefined) ??
      new Gauge({
        name: TENANT_QUOTA_METRIC,
        help: 'Effective quota of a tenant, one series per limit: quota is the field in snake_case (weight, rate, max_in_flight...), <field>:<key> for per-key limits, <field>:<value> = 1 for choices (docs/operations.md)',
        labelNames: ['tenant', 'quota'],
        registers: [registry],
      });
  }

  /** Sets or replaces one tenant's quota. */
  set(tenantId: string, quota: ExportedTenantQuota): void {
    this.quotas.set(tenantId, quota);
    this.render();
  }

  /** Removes one tenant (deleted or offboarded). */
  remove(tenantId: string): void {
    if (this.quotas.delete(tenantId)) this.render();
  }

  /** Replaces the whole table. */
  replaceAll(quotas: Iterable<readonly [tenantId: string, quota: ExportedTenantQuota]>): void {
    this.quotas.clear();
    for (const [tenantId, quota] of quotas) this.quotas.set(tenantId, quota);
    this.render();
  }

  private render(): void {
    const sums = new Map<string, number>();
    for (const [tenantId, quota] of this.quotas) {
      const tenant = this.labeller.label(tenantId);
      for (const [label, value] of Object.entries(quota)) {
        if (value === undefined || !Number.isFinite(value)) continue;
        const key = `${tenant}\u0000${label}`;
        sums.set(key, (sums.get(key) ?? 0) + value);
      }
    }
    this.gauge.reset();
    for (const [key, value] of sums) {
      const [tenant, quota] = key.split('\u0000') as [string, string];
      this.gauge.set({ tenant, quota }, value);
    }
  }
}
