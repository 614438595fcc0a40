import { z } from 'zod';
import { commonConfigSchema, duration, flag, loadConfig, port } from '@fairway/config';
import { DEFAULT_PLAN_LIMITS, requestLimitsSchema } from './tenant-limits';
import { transportSecurityFromEnv, type TransportSecurity } from '@fairway/grpc';
import { loadLocalKeyProvider, type KeyProvider } from '@fairway/crypto';

/** The development signing secret; refused when NODE_ENV=production. */
export const DEV_JWT_SECRET = 'fairway-development-secret-change-me-0123456789';

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

const hostPort = () => z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port');

const schema = commonConfigSchema
  .extend({
    EDGE_PORT: port().default(8080),
    EDGE_HOST: z.string().default('127.0.0.1'),
    EDGE_ADMIN_PORT: port().default(8081),
    EDGE_ADMIN_HOST: z.string().default('127.0.0.1'),
    /** The owner-role URL the admin API issues keys and writes the audit trail with; derived from DATABASE_URL when unset. */
    EDGE_ADMIN_DATABASE_URL: z.string().url().optional(),
    CONTROL_PLANE_ADDRESS: hostPort().default('127.0.0.1:7051'),
    SCHEDULER_ADMIN_ADDRESS: hostPort().default('127.0.0.1:7071'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256 wants 256 bits)').default(DEV_JWT_SECRET),
    JWT_ISSUER: z.string().min(1).default('fairway-dev'),
    JWT_AUDIENCE: z.string().min(1).default('fairway-api'),
    /** RS256/ES256 keys: a JWKS URL (https://.../.well-known/jwks.json) or a JWKS file. */
    JWT_JWKS_URL: z.string().url().optional(),
    JWT_JWKS_FILE: z.string().min(1).optional(),
    /** How long a verified token is remembered (bounded by its exp); 0 verifies every request. */
    TOKEN_CACHE_TTL: duration().default('30s'),
    /** `<slug>.<EDGE_BASE_DOMAIN>` resolves a tenant by subdomain; unset disables it. */
    EDGE_BASE_DOMAIN: z.string().regex(/^[a-z0-9.-]+$/, 'a lowercase domain name').optional(),
    EDGE_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)?$/).default('64kb'),
    EDGE_PUBLISH_TIMEOUT: duration().default('5s'),
    /** Run the Kafka producer on a thread of its own (slower on our 2-core benchmark machine; see docs/benchmarks.md). */
    EDGE_KAFKA_THREAD: flag().default(false),
    EDGE_REQUEST_TIMEOUT: duration().default('15s'),
    TENANT_CACHE_TTL: duration().default('2s'),
    API_KEY_TOUCH_INTERVAL: duration().default('60s'),
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    EDGE_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]*$/).default('fairway:edge:'),
    IDEMPOTENCY_TTL: duration().default('24h'),
    /** Request limits per plan, e.g. {"standard":{"rate":50,"burst":100,"maxInFlight":20}}. */
    EDGE_PLAN_LIMITS: jsonOf(z.record(requestLimitsSchema)).default(JSON.stringify(DEFAULT_PLAN_LIMITS)),
    /** Per-tenant overrides of any of rate, burst, maxInFlight, e.g. {"acme":{"rate":200}}. */
    EDGE_TENANT_LIMITS: jsonOf(z.record(requestLimitsSchema.partial())).default('{}'),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.JWT_SECRET !== DEV_JWT_SECRET, {
    path: ['JWT_SECRET'],
    message: 'the development secret cannot be used in production; set JWT_SECRET',
  })
  .refine((c) => !(c.JWT_JWKS_URL && c.JWT_JWKS_FILE), { path: ['JWT_JWKS_FILE'], message: 'set JWT_JWKS_URL or JWT_JWKS_FILE, not both' });

/** The edge's configuration, read once from the environment. */
export type EdgeConfig = z.output<typeof schema> & { security: TransportSecurity; keys: KeyProvider };

/** Reads and validates the edge's configuration; a bad value throws naming the variable. */
export function loadEdgeConfig(env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  return { ...loadConfig(schema, env), security: transportSecurityFromEnv(env), keys: loadLocalKeyProvider({ env }) };
}
