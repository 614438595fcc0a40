import { z } from 'zod';
import { commonConfigSchema, duration, hostPort, loadConfig, namedUrls, port } from '@fairway/config';
import { loadJwtSettings, OPERATOR_TOKENS, weakDatabaseUrlReason, type JwtSettings } from '@fairway/auth';
import { loadLocalKeyProvider, type KeyProvider } from '@fairway/crypto';
import { DbRole, roleUrl } from '@fairway/db';
import { ConfigInvalidError } from '@fairway/errors';
import { loadBackupKeyring, type BackupKeyring } from '@fairway/tenant-backup';
import { DEFAULT_MOVE_MAX_DUTY, DEFAULT_MOVE_ROWS_PER_SECOND } from '@fairway/tenant-move';
import { transportSecurityFromEnv, type TransportSecurity } from '@fairway/grpc';
import { checkTenantCacheConfig, tenantCacheConfigShape } from '@fairway/tenant-cache';

const schema = commonConfigSchema.extend({
  /** The catalog as the owner role: provisioning, API keys, data keys, the audit trail. */
  DATABASE_URL: z.string().url().default('postgres://fairway_owner:fairway_owner@127.0.0.1:5432/fairway'),
  /** The catalog as the application role (re-encryption of tenants' values under RLS); derived from DATABASE_URL when unset. */
  APP_DATABASE_URL: z.string().url().optional(),
  /** gRPC: TenantCatalog (tenantctl) and KeyService (edge, workers). */
  CONTROL_PLANE_PORT: port().default(7051),
  CONTROL_PLANE_HOST: z.string().default('127.0.0.1'),
  /** The operators' admin API (HTTP). Never exposed publicly: see docs/security.md. */
  ADMIN_PORT: port().default(8081),
  ADMIN_HOST: z.string().default('127.0.0.1'),
  ADMIN_REQUEST_TIMEOUT: duration().default('60s'),
  /**
   * The operator console (HTML, under /console) on a port of its own, beside the admin API and with
   * the same operator tokens; unset: no console. `npm run up` serves it on 8082.
   */
  CONSOLE_PORT: port().optional(),
  CONSOLE_HOST: z.string().default('127.0.0.1'),
  /** The Prometheus whose last hour the console charts (its HTTP API, e.g. http://127.0.0.1:9090). */
  PROMETHEUS_URL: z.string().url().optional(),
  /** The scheduler's SchedulerAdmin (quotas, stats), called by the admin API. */
  SCHEDULER_ADMIN_ADDRESS: hostPort().default('127.0.0.1:7071'),
  /** How long a verified operator token is remembered (bounded by its exp). */
  TOKEN_CACHE_TTL: duration().default('30s'),
  /** Servers other than the catalog's for tenant databases: JSON {"name": "postgres://fairway_owner:...@host/postgres"}. */
  TENANT_DB_SERVERS: namedUrls('postgres://fairway_owner:pass@host:5432/postgres'),
  /** The same servers as the application role; derived from TENANT_DB_SERVERS when unset. */
  APP_TENANT_DB_SERVERS: namedUrls('postgres://fairway_app:pass@host:5432/postgres'),
  /**
   * Signed checkpoints of every audit chain head, appended to a file the operator keeps outside
   * the database (docs/security.md): the Ed25519 private key (PEM, or its base64), made with
   * `node scripts/audit-checkpoint-key.cjs <dir>`, and the file. Both or neither.
   */
  AUDIT_CHECKPOINT_KEY: z.string().min(1).optional(),
  AUDIT_CHECKPOINT_FILE: z.string().min(1).optional(),
  AUDIT_CHECKPOINT_INTERVAL: duration().default('1m'),
  /** How long finished jobs (succeeded, failed, dead, cancelled) are kept with their effects and results; 168h is 7 days. */
  JOB_RETENTION: duration().default('168h'),
  /** How often the retention runs (each run deletes in batches of 500, at most 20 batches). */
  JOB_RETENTION_INTERVAL: duration().default('1m'),
  /**
   * Live moves between isolation models: how long the old copy is kept after a verified switch
   * (a router that missed the switch's notification keeps the old route up to its TTL, 60 s, and
   * the old copy refuses its writes meanwhile), and when a move whose runner stopped beating is
   * taken over by another replica.
   */
  TENANT_MOVE_GRACE: duration().default('5m'),
  TENANT_MOVE_STALE_AFTER: duration().default('30s'),
  /** Rows a second a move's copy, verification and removal go at most (0: unpaced), so that the other tenants keep their latency. */
  TENANT_MOVE_ROWS_PER_SECOND: z.coerce.number().int().min(0).default(DEFAULT_MOVE_ROWS_PER_SECOND),
  /** The share of the wall clock a paced move's bulk work takes at most, in (0, 1]: less leaves the other tenants more of the CPU, for a longer move. */
  TENANT_MOVE_MAX_DUTY: z.coerce.number().gt(0).max(1).default(DEFAULT_MOVE_MAX_DUTY),
  /** The Redis of the edge's tenant cache: the control plane invalidates and purges it (REDIS_CACHE_*, the edge's values). */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  ...tenantCacheConfigShape,
});

/** The control plane's configuration, read once from the environment. */
export type ControlPlaneConfig = z.output<typeof schema> & {
  /** APP_DATABASE_URL, or DATABASE_URL with the application role. */
  appDatabaseUrl: string;
  appTenantDbServers: Record<string, string>;
  security: TransportSecurity;
  /** The key-encryption key: only the control plane holds it. */
  keys: KeyProvider;
  /** How operator tokens are verified (OPERATOR_JWT_*). */
  operatorTokens: JwtSettings;
  /**
   * The operator's backup keys (FAIRWAY_BACKUP_KEY_<ID>, FAIRWAY_BACKUP_KEY_CURRENT): tenant backups
   * are sealed for them. Outside production a development key; in production unset means no backups.
   */
  backupKeys: BackupKeyring | undefined;
};

/** Reads and validates the control plane's configuration; a bad value throws naming the variable. */
export function loadControlPlaneConfig(env: NodeJS.ProcessEnv = process.env): ControlPlaneConfig {
  const config = loadConfig(schema, env);
  if (config.NODE_ENV === 'production') {
    for (const [name, value] of [
      ['DATABASE_URL', config.DATABASE_URL],
      ['APP_DATABASE_URL', config.APP_DATABASE_URL],
    ] as const) {
      const weak = value === undefined ? undefined : weakDatabaseUrlReason(name, value);
      if (weak) throw new ConfigInvalidError(weak);
    }
    if (config.APP_DATABASE_URL === undefined)
      throw new ConfigInvalidError('APP_DATABASE_URL is required in production: the application role has its own password');
  }
  if (config.JOB_RETENTION < 60_000) throw new ConfigInvalidError(`JOB_RETENTION must be at least 1m (got ${config.JOB_RETENTION} ms)`);
  if (config.JOB_RETENTION_INTERVAL < 1_000)
    throw new ConfigInvalidError(`JOB_RETENTION_INTERVAL must be at least 1s (got ${config.JOB_RETENTION_INTERVAL} ms)`);
  // A client polls its job after the 202; production keeps it at least an hour so it finds it.
  if (config.NODE_ENV === 'production' && config.JOB_RETENTION < 3_600_000) {
    throw new ConfigInvalidError(
      `JOB_RETENTION must be at least 1h in production: clients read their jobs' outcome after the 202 (got ${config.JOB_RETENTION} ms)`,
    );
  }
  // Below the routers' route TTL (60 s), a router that missed the switch could still route to the
  // old copy after it was removed, where its write would no longer be refused.
  if (config.NODE_ENV === 'production' && config.TENANT_MOVE_GRACE < 60_000) {
    throw new ConfigInvalidError(`TENANT_MOVE_GRACE must be at least 1m in production: routers keep a route up to 60 s (got ${config.TENANT_MOVE_GRACE} ms)`);
  }
  if (config.TENANT_MOVE_STALE_AFTER < 15_000) {
    throw new ConfigInvalidError(
      `TENANT_MOVE_STALE_AFTER must be at least 15s: a runner beats every 5 s, and a live one must never look stale (got ${config.TENANT_MOVE_STALE_AFTER} ms)`,
    );
  }
  if ((config.AUDIT_CHECKPOINT_KEY === undefined) !== (config.AUDIT_CHECKPOINT_FILE === undefined)) {
    throw new ConfigInvalidError('set AUDIT_CHECKPOINT_KEY and AUDIT_CHECKPOINT_FILE together (or neither): checkpoints need a key to sign and a file to keep');
  }
  checkTenantCacheConfig(config);
  const appTenantDbServers =
    Object.keys(config.APP_TENANT_DB_SERVERS).length > 0
      ? config.APP_TENANT_DB_SERVERS
      : Object.fromEntries(Object.entries(config.TENANT_DB_SERVERS).map(([name, url]) => [name, roleUrl(url, DbRole.app)]));
  return {
    ...config,
    appDatabaseUrl: config.APP_DATABASE_URL ?? roleUrl(config.DATABASE_URL, DbRole.app),
    appTenantDbServers,
    security: transportSecurityFromEnv(env),
    keys: loadLocalKeyProvider({ env }),
    operatorTokens: loadJwtSettings(env, OPERATOR_TOKENS),
    backupKeys: loadBackupKeyring(env),
  };
}
