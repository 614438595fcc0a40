import { Counter, type Registry } from 'prom-client';
import { tenantLabeller } from './tenant-labels';

/** Name of the counter of tenant transactions a query time limit ended. */
export const QUERY_TIMEOUTS_METRIC = 'fairway_query_timeouts_total';

/** Name of the counter of reads that wanted the replica and ran on the primary. */
export const REPLICA_FALLBACKS_METRIC = 'fairway_replica_fallbacks_total';

/** One cancelled tenant transaction (libs/db's onQueryTimeout event, structurally). */
export interface QueryTimeoutSample {
  tenantId: string;
  kind: string;
  workload: string;
}

/**
 * A listener for libs/db's `onQueryTimeout` that counts `fairway_query_timeouts_total{tenant, kind,
 * workload}`: `kind` is statement, lock or idle_in_transaction, `workload` interactive or heavy,
 * `tenant` bounded by the registry's labeller (tenants past the bound fold into `_other`).
 */
export function queryTimeoutCounter(registry: Registry): (sample: QueryTimeoutSample) => void {
  const labeller = tenantLabeller(registry);
  const counter =
    (registry.getSingleMetric(QUERY_TIMEOUTS_METRIC) as Counter | undefined) ??
    new Counter({
      name: QUERY_TIMEOUTS_METRIC,
      help: "Tenant transactions PostgreSQL ended at one of the tenant's query time limits (QUERY_TIMEOUT), by kind (statement, lock, idle_in_transaction) and workload (interactive, heavy)",
      labelNames: ['tenant', 'kind', 'workload'],
      registers: [registry],
    });
  return (sample) => counter.inc({ tenant: labeller.label(sample.tenantId), kind: sample.kind, workload: sample.workload });
}
