import { z } from 'zod';
import { commonConfigSchema, duration, flag, hostPort, loadConfig, namedUrls, port, readReplicaConfigSchema } from '@fairway/config';
import { DEFAULT_PLAN_LIMITS, requestLimitsSchema } from './tenant-limits';
import { transportSecurityFromEnv, type TransportSecurity } from '@fairway/grpc';
import { loadJwtSettings, TENANT_TOKENS, weakDatabaseUrlReason, type JwtSettings } from '@fairway/auth';
import { keyEncryptionKeyVariables } from '@fairway/crypto';
import { ConfigInvalidError } from '@fairway/errors';
import { checkTenantCacheConfig, tenantCacheConfigShape } from '@fairway/tenant-cache';

/** A JSON object in an environment variable, validated with `schema`. */
const jsonOf = <S extends z.ZodTypeAny>(schema: S) =>
  z.string().transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be JSON' });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      return z.NEVER;
    }
    return parsed.data as z.output<S>;
  });

const schema = commonConfigSchema.extend({
  EDGE_PORT: port().default(8080),
  EDGE_HOST: z.string().default('127.0.0.1'),
  /** The control plane's KeyService: the edge holds no key-encryption key and asks there for tenants' data keys. */
  KEY_SERVICE_ADDRESS: hostPort().default('127.0.0.1:7051'),
  /** Servers other than the catalog's for tenant databases, as the application role: JSON {"name": "postgres://fairway_app:...@host/postgres"}. */
  TENANT_DB_SERVERS: namedUrls('postgres://fairway_app:pass@host:5432/postgres'),
  /**
   * Express's 'trust proxy': the proxies in front of the edge (a hop count, or addresses/subnets,
   * comma-separated). Unset, the client address is the socket's: behind an ingress every client
   * would share the ingress's address, and so one failed-authentication budget.
   */
  EDGE_TRUST_PROXY: z
    .string()
    .min(1)
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : v.split(',').map((s) => s.trim())))
    .optional(),
  /** Failed authentications are written to the audit trail as one entry per reason per interval. */
  AUTH_FAILURE_AUDIT_INTERVAL: duration().default('1m'),
  /** How long a verified token is remembered (bounded by its exp); 0 verifies every request. */
  TOKEN_CACHE_TTL: duration().default('30s'),
  /** `<slug>.<EDGE_BASE_DOMAIN>` resolves a tenant by subdomain; unset disables it. */
  EDGE_BASE_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+$/, 'a lowercase domain name')
    .optional(),
  EDGE_BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)?$/)
    .default('64kb'),
  EDGE_PUBLISH_TIMEOUT: duration().default('5s'),
  /** Run the Kafka producer on a thread of its own (slower on our 2-core benchmark machine; see docs/benchmarks.md). */
  EDGE_KAFKA_THREAD: flag().default(false),
  EDGE_REQUEST_TIMEOUT: duration().default('15s'),
  TENANT_CACHE_TTL: duration().default('2s'),
  API_KEY_TOUCH_INTERVAL: duration().default('60s'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  EDGE_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]*$/)
    .default('fairway:edge:'),
  IDEMPOTENCY_TTL: duration().default('24h'),
  /** Request limits per plan, e.g. {"standard":{"rate":50,"burst":100,"maxInFlight":20}}. */
  EDGE_PLAN_LIMITS: jsonOf(z.record(requestLimitsSchema)).default(JSON.stringify(DEFAULT_PLAN_LIMITS)),
  /** Per-tenant overrides of any of rate, burst, maxInFlight, e.g. {"acme":{"rate":200}}. */
  EDGE_TENANT_LIMITS: jsonOf(z.record(requestLimitsSchema.partial())).default('{}'),
  /** The tenant cache of hot reads in REDIS_URL (REDIS_CACHE_*; docs/data-isolation.md). */
  ...tenantCacheConfigShape,
  /** The read replica of staleness-tolerant lists (DATABASE_REPLICA_URL, REPLICA_MAX_LAG; docs/data-isolation.md). */
  ...readReplicaConfigSchema.shape,
});

/**
 * Secrets the edge must not be given: the owner role's URL and the key-encryption key belong to the
 * control plane. A deployment that still hands them to the internet-facing process is refused.
 */
const FORBIDDEN_SECRETS = ['EDGE_ADMIN_DATABASE_URL'];

/** The edge's configuration, read once from the environment. */
export type EdgeConfig = z.output<typeof schema> & { security: TransportSecurity; tokens: JwtSettings };

/**
 * Reads and validates the edge's configuration; a bad value throws naming the variable. Tenants'
 * tokens are verified as JWT_* says (HS256 only when enabled; see @fairway/auth). In production the
 * database URL must carry the application role's own password.
 */
export function loadEdgeConfig(env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  const config = loadConfig(schema, env);
  const forbidden = [...FORBIDDEN_SECRETS.filter((name) => env[name] !== undefined && env[name] !== ''), ...keyEncryptionKeyVariables(env)];
  if (forbidden.length > 0) {
    throw new ConfigInvalidError(
      `${forbidden.join(', ')}: the edge no longer holds the admin API, the owner role or the key-encryption key; set them on the control plane (docs/operations.md)`,
    );
  }
  if (config.NODE_ENV === 'production') {
    const weak = weakDatabaseUrlReason('DATABASE_URL', config.DATABASE_URL);
    if (weak) throw new ConfigInvalidError(weak);
    const weakReplica = config.DATABASE_REPLICA_URL && weakDatabaseUrlReason('DATABASE_REPLICA_URL', config.DATABASE_REPLICA_URL);
    if (weakReplica) throw new ConfigInvalidError(weakReplica);
  }
  checkTenantCacheConfig(config, { EDGE_REDIS_PREFIX: config.EDGE_REDIS_PREFIX });
  const tokens = loadJwtSettings(env, TENANT_TOKENS);
  return { ...config, tokens, security: transportSecurityFromEnv(env) };
}
