import { z } from 'zod';
import { commonConfigSchema, duration, list, loadConfig, port } from '@fairway/config';
import { transportSecurityFromEnv, type TransportSecurity } from '@fairway/grpc';
import { parseTiers } from './policy';
import { parseWorkerPools } from './worker-pool';

const schema = commonConfigSchema.extend({
  DATABASE_URL: z.string().url().default('postgres://fairway_scheduler:fairway_scheduler@127.0.0.1:5432/fairway'),
  SCHEDULER_GROUP_ID: z.string().min(1).optional(),
  REPLICA_ID: z.string().min(1).default(`scheduler-${process.pid}`),
  SCHEDULER_POLICY: z.enum(['fair', 'fifo']).default('fair'),
  /**
   * Capacity tiers: one per job class, with fixed slots or a share of the workers' advertised
   * capacity, and `>tier` to lend idle slots.
   */
  SCHEDULER_TIERS: z.string().default('interactive:25%,standard:50%>interactive,heavy:25%'),
  SCHEDULER_WINDOW: z.coerce.number().int().min(1).max(100_000).default(64),
  /**
   * The most jobs a tier claims ahead of its free worker slots, per slot (0 = none). How many it
   * does claim follows the claim's latency against the jobs' run time (ClaimAhead).
   */
  SCHEDULER_CLAIM_AHEAD: z.coerce.number().min(0).max(4).default(1),
  SCHEDULER_ADMIN_PORT: port().default(7071),
  SCHEDULER_ADMIN_HOST: z.string().default('127.0.0.1'),
  SCHEDULER_INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  WORKER_ADDRESSES: list().default('127.0.0.1:7061'),
  WORKER_POOLS: z.string().optional(),
  /** Streams per worker address: at least the number of workers behind one DNS name. */
  WORKER_STREAMS: z.coerce.number().int().min(1).max(256).default(1),
  JOB_TIMEOUT: duration().default('60s'),
  LEASE_MARGIN: duration().default('10s'),
  RETRY_BASE_DELAY: duration().default('500ms'),
  RETRY_MAX_DELAY: duration().default('30s'),
  MAINTENANCE_INTERVAL: duration().default('2s'),
  /** How long job events wait for more before a send to <prefix>.job-events. */
  JOB_EVENTS_LINGER: duration().default('20ms'),
  HEALTH_CHECK_INTERVAL: duration().default('2s'),
});

/** The scheduler's configuration, read once from the environment and compiled. */
export type SchedulerConfig = z.output<typeof schema> & {
  tiers: ReturnType<typeof parseTiers>;
  workerPools: Record<string, string[]>;
  security: TransportSecurity;
};

export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  const config = loadConfig(schema, env);
  if (config.WORKER_ADDRESSES.length === 0) {
    throw new Error('WORKER_ADDRESSES must name at least one worker (host:port, comma-separated)');
  }
  const tiers = parseTiers(config.SCHEDULER_TIERS);
  return { ...config, tiers, workerPools: parseWorkerPools(config.WORKER_POOLS, config.WORKER_ADDRESSES), security: transportSecurityFromEnv(env) };
}
