import { Counter, Gauge, type Registry } from 'prom-client';
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

/** Name of the gauge of the read replica's last measured lag. */
export const REPLICA_LAG_METRIC = 'fairway_replica_lag_seconds';

/**
 * Listeners for libs/db's ReadReplica (`onFallback`, `onLag`): `fairway_replica_fallbacks_total{reason}`
 * counts reads that wanted the replica and ran on the primary (reason `lag` or `unavailable`), and
 * `fairway_replica_lag_seconds` is the last probe's lag (-1 while the replica does not answer).
 */
export function replicaMetrics(registry: Registry): { onFallback: (reason: string) => void; onLag: (lagMs: number | null) => void } {
  const fallbacks =
    (registry.getSingleMetric(REPLICA_FALLBACKS_METRIC) as Counter | undefined) ??
    new Counter({
      name: REPLICA_FALLBACKS_METRIC,
      help: 'Staleness-tolerant reads (report jobs, list endpoints) that ran on the primary instead of the read replica, by reason (lag: above REPLICA_MAX_LAG; unavailable: the replica did not answer)',
      labelNames: ['reason'],
      registers: [registry],
    });
  const lag =
    (registry.getSingleMetric(REPLICA_LAG_METRIC) as Gauge | undefined) ??
    new Gauge({ name: REPLICA_LAG_METRIC, help: "The read replica's replay lag at the last probe, seconds (-1: it did not answer)", registers: [registry] });
  for (const reason of ['lag', 'unavailable']) fallbacks.inc({ reason }, 0);
  return {
    onFallback: (reason) => fallbacks.inc({ reason }),
    onLag: (lagMs) => lag.set(lagMs === null ? -1 : lagMs / 1000),
  };
}
