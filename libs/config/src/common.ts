import { z } from 'zod';
import { duration, port } from './env';

/**
 * The settings every Fairway service shares. Services extend this schema with their own.
 * Defaults match what `npm run up` starts on one machine.
 */
export const commonConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  FAIRWAY_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'only letters, digits, dot, dash and underscore')
    .default('fairway'),
  DATABASE_URL: z.string().url().default('postgres://fairway_app:fairway_app@127.0.0.1:5432/fairway'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  METRICS_PORT: port().optional(),
  SHUTDOWN_TIMEOUT: duration().default('10s'),
});

/** The compiled common configuration. */
export type CommonConfig = z.output<typeof commonConfigSchema>;

/**
 * The read replica, for the services that read from it (edge, worker): a hot standby of the
 * catalog's server, as the same role, and the staleness a read accepts before it falls back to the
 * primary. Unset URL: every read runs on the primary.
 */
export const readReplicaConfigSchema = z.object({
  DATABASE_REPLICA_URL: z.string().url().optional(),
  REPLICA_MAX_LAG: duration().default('5s'),
});
