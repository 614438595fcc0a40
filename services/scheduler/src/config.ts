import { z } from 'zod';
import { commonConfigSchema, duration, list, loadConfig } from '@fairway/config';

const schema = commonConfigSchema.extend({
  DATABASE_URL: z.string().url().default('postgres://fairway_scheduler:fairway_scheduler@127.0.0.1:5432/fairway'),
  SCHEDULER_GROUP_ID: z.string().min(1).optional(),
  SCHEDULER_SLOTS: z.coerce.number().int().min(1).max(10_000).default(8),
  WORKER_ADDRESSES: list().default('127.0.0.1:7061'),
  JOB_TIMEOUT: duration().default('60s'),
  LEASE_MARGIN: duration().default('10s'),
  RETRY_BASE_DELAY: duration().default('500ms'),
  RETRY_MAX_DELAY: duration().default('30s'),
  MAINTENANCE_INTERVAL: duration().default('1s'),
});

/** The scheduler's configuration, read once from the environment. */
export type SchedulerConfig = z.output<typeof schema>;

export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  const config = loadConfig(schema, env);
  if (config.WORKER_ADDRESSES.length === 0) {
    throw new Error('WORKER_ADDRESSES must name at least one worker (host:port, comma-separated)');
  }
  return config;
}
