import { limitsOf, type QuotaLimits } from './quota';

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A tenant's limits as `fairway_tenant_quota{quota}` values, keyed by the `quota` label, derived
 * from the field list: a number under the field's snake_case name (`max_in_flight`), a per-key
 * limit under `<field>:<key>` (`max_in_flight_by_class:heavy`), and a choice as `<field>:<value>`
 * with the value 1 (`rate_basis:cost`), as Prometheus info metrics do. An unset limit is not exported.
 */
export function quotaMetricValues(limits: QuotaLimits): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [field, value] of Object.entries(limitsOf(limits)) as Array<[string, unknown]>) {
    const label = snake(field);
    if (typeof value === 'number') values[label] = value;
    else if (typeof value === 'string') values[`${label}:${value}`] = 1;
    else if (value !== null && typeof value === 'object') {
      for (const [key, n] of Object.entries(value as Record<string, unknown>)) if (typeof n === 'number') values[`${label}:${key}`] = n;
    }
  }
  return values;
}
