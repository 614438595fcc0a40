import { z } from 'zod';
import { commonConfigSchema, duration, hostPort, loadConfig, namedUrls, port, readReplicaConfigSchema } from '@fairway/config';
import { transportSecurityFromEnv, type TransportSecurity } from '@fairway/grpc';
import { weakDatabaseUrlReason } from '@fairway/auth';
import { keyEncryptionKeyVariables } from '@fairway/crypto';
import { ConfigInvalidError } from '@fairway/errors';

const schema = commonConfigSchema
  .extend({
    WORKER_PORT: port().default(7061),
    WORKER_HOST: z.string().default('127.0.0.1'),
    WORKER_ID: z.string().min(1).default(`worker-${process.pid}`),
    /** Jobs this worker runs at once; advertised to the scheduler, which sizes its tiers from it. */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(16),
    /**
     * The statement timeout of every transaction of a job (or what is left until the job's deadline,
     * if sooner): a statement that waits longer is cancelled and the attempt fails, retriable.
     */
    JOB_STATEMENT_TIMEOUT: duration().default('60s'),
    /** Servers other than the catalog's that hold tenant databases: JSON {"name": "postgres://fairway_app:...@host/any"}. */
    TENANT_DB_SERVERS: namedUrls('postgres://fairway_app:pass@host:5432/db'),
    /** The most connections all tenant-database pools of this worker may hold together. */
    TENANT_DB_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1000).default(20),
    /** The control plane's KeyService: workers hold no key-encryption key and ask there for tenants' data keys. */
    KEY_SERVICE_ADDRESS: hostPort().default('127.0.0.1:7051'),
  })
  .merge(readReplicaConfigSchema);

/** The worker's configuration, read once from the environment. */
export type WorkerConfig = z.output<typeof schema> & { security: TransportSecurity };

/**
 * Reads and validates the worker's configuration; a bad value throws naming the variable. A worker
 * given a key-encryption key (FAIRWAY_KEK_*) is refused: the KEK stays on the control plane.
 */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const config = loadConfig(schema, env);
  const kek = keyEncryptionKeyVariables(env);
  if (kek.length > 0)
    throw new ConfigInvalidError(`${kek.join(', ')}: workers hold no key-encryption key; set it on the control plane, and KEY_SERVICE_ADDRESS here`);
  if (config.NODE_ENV === 'production') {
    const weak = weakDatabaseUrlReason('DATABASE_URL', config.DATABASE_URL);
    if (weak) throw new ConfigInvalidError(weak);
    const weakReplica = config.DATABASE_REPLICA_URL && weakDatabaseUrlReason('DATABASE_REPLICA_URL', config.DATABASE_REPLICA_URL);
    if (weakReplica) throw new ConfigInvalidError(weakReplica);
  }
  return { ...config, security: transportSecurityFromEnv(env) };
}
