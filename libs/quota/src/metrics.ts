import type { QuotaLimits } from './quota';

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A tenant's limits as `fairway_tenant_quota{quota}` values, keyed by the `quota` label: the
 * field's name in snake_case (`max_in_flight`). An unset limit is not exported.
 */
export function quotaMetricValues(limits: QuotaLimits): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [field, value] of Object.entries(limits)) {
    if (typeof value === 'number') values[snake(field)] = value;
  }
  return values;
}
