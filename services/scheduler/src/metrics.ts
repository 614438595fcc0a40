import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BufferedCounter, TenantQuotaExporter, tenantLabeller } from '@fairway/telemetry';

/**
 * The scheduler's per-tenant metrics (names documented in docs/operations.md). Every tenant label
 * goes through the registry's bounded labeller (`tenant`), so a fleet of many tenants folds into
 * `_other` instead of exploding the series count.
 */
export function schedulerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    tenant: tenantLabeller(registry),
    quotas: new TenantQuotaExporter(registry),
    ingested: new Counter({ name: 'fairway_scheduler_ingested_total', help: 'Commands made durable', labelNames: ['tenant'], registers }),
    deadLettered: new Counter({ name: 'fairway_scheduler_dead_lettered_total', help: 'Commands sent to the dead-letter topic', registers }),
    // Two per job, and one dispatch: counted in a plain map, handed to prom-client at each scrape.
    transitions: new BufferedCounter({
      name: 'fairway_scheduler_job_transitions_total',
      help: 'Job state changes',
      labelNames: ['tenant', 'state'] as const,
      registers,
    }),
    inFlight: new Gauge({ name: 'fairway_scheduler_in_flight', help: 'Jobs running now on this replica', registers }),
    queueDepth: new Gauge({
      name: 'fairway_scheduler_queue_depth',
      help: "Queued jobs in this replica's window of each tenant's queue",
      labelNames: ['tenant'],
      registers,
    }),
    tenantInFlight: new Gauge({
      name: 'fairway_scheduler_tenant_in_flight',
      help: 'Jobs running now, per tenant, on this replica',
      labelNames: ['tenant'],
      registers,
    }),
    wait: new Histogram({
      name: 'fairway_scheduler_wait_seconds',
      help: 'Time from acceptance by the edge to the start of the first attempt',
      labelNames: ['tenant'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    dispatched: new BufferedCounter({
      name: 'fairway_scheduler_dispatched_total',
      help: 'Attempts dispatched to workers',
      labelNames: ['tenant', 'class'] as const,
      registers,
    }),
    throttled: new Counter({
      name: 'fairway_scheduler_throttled_total',
      help: 'Tenants found waiting with queued work, by reason (sampled once per maintenance tick)',
      labelNames: ['tenant', 'reason'],
      registers,
    }),
    ingestLag: new Gauge({
      name: 'fairway_scheduler_ingest_lag',
      help: 'Messages behind the high watermark, per partition',
      labelNames: ['partition'],
      registers,
    }),
    ownedPartitions: new Gauge({ name: 'fairway_scheduler_owned_partitions', help: 'Command partitions this replica dispatches for', registers }),
    workerCapacity: new Gauge({
      name: 'fairway_scheduler_worker_capacity',
      help: 'Job slots the connected workers advertise (over their streams to this replica)',
      registers,
    }),
  };
}

export type SchedulerMetrics = ReturnType<typeof schedulerMetrics>;

/** The throttle reason of an explain() state, or undefined when the tenant is not throttled. */
export function throttleReason(state: string): 'rate' | 'concurrency' | 'tier' | undefined {
  if (state === 'no-tokens') return 'rate';
  if (state === 'at-max-in-flight' || state === 'at-class-max-in-flight') return 'concurrency';
  if (state === 'tier-full') return 'tier';
  return undefined;
}
