import { z } from 'zod';
import { commonConfigSchema, loadConfig, namedUrls, port } from '@fairway/config';
import { transportSecurityFromEnv, type TransportSecurity } from '@fairway/grpc';
import { loadLocalKeyProvider, type KeyProvider } from '@fairway/crypto';

const schema = commonConfigSchema.extend({
  WORKER_PORT: port().default(7061),
  WORKER_HOST: z.string().default('127.0.0.1'),
  WORKER_ID: z.string().min(1).default(`worker-${process.pid}`),
  /** Jobs this worker runs at once; advertised to the scheduler, which sizes its tiers from it. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(16),
  /** Servers other than the catalog's that hold tenant databases: JSON {"name": "postgres://fairway_app:...@host/any"}. */
  TENANT_DB_SERVERS: namedUrls('postgres://fairway_app:pass@host:5432/db'),
  /** The most connections all tenant-database pools of this worker may hold together. */
  TENANT_DB_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1000).default(20),
});

/** The worker's configuration, read once from the environment. */
export type WorkerConfig = z.output<typeof schema> & { security: TransportSecurity; keys: KeyProvider };

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  // keys: the key-encryption keys (FAIRWAY_KEK_*, FAIRWAY_KEK_FILE, or the development key file).
  return { ...loadConfig(schema, env), security: transportSecurityFromEnv(env), keys: loadLocalKeyProvider({ env }) };
}
