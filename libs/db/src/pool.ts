import { Pool, type PoolConfig } from 'pg';

/** Options for a Fairway connection pool. */
export interface PoolOptions {
  connectionString: string;
  max?: number;
  /** Shown in pg_stat_activity, so operators can tell the services' connections apart. */
  applicationName: string;
  statementTimeoutMs?: number;
  onError?: (err: Error) => void;
}

/**
 * A pg Pool with the settings every service wants. An idle client's error (the server restarted,
 * the network dropped) is reported instead of crashing the process.
 */
export function createPool(options: PoolOptions): Pool {
  const config: PoolConfig = {
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
  };
  const pool = new Pool(config);
  pool.on('error', (err) => options.onError?.(err));
  return pool;
}
