/**
 * The keys ListTenantStats can rank tenants by (its request's `sort`), highest first; `tenant`
 * is by id. `tenantctl top --sort` and `GET /admin/v1/stats?sort=` take the same words (#18).
 */
export const TENANT_STATS_SORT_KEYS = ['queued', 'in-flight', 'wait-p99', 'share', 'tenant'] as const;

/** One of {@link TENANT_STATS_SORT_KEYS}. */
export type TenantStatsSortKey = (typeof TENANT_STATS_SORT_KEYS)[number];

/** Whether `value` is one of {@link TENANT_STATS_SORT_KEYS}. */
export function isTenantStatsSortKey(value: string): value is TenantStatsSortKey {
  return (TENANT_STATS_SORT_KEYS as readonly string[]).includes(value);
}
