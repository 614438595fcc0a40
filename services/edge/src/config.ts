import { z } from 'zod';
import { commonConfigSchema, duration, loadConfig, port } from '@fairway/config';

/** The development signing secret; refused when NODE_ENV=production. */
export const DEV_JWT_SECRET = 'fairway-development-secret-change-me-0123456789';

const schema = commonConfigSchema
  .extend({
    EDGE_PORT: port().default(8080),
    EDGE_HOST: z.string().default('127.0.0.1'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256 wants 256 bits)').default(DEV_JWT_SECRET),
    JWT_ISSUER: z.string().min(1).default('fairway-dev'),
    JWT_AUDIENCE: z.string().min(1).default('fairway-api'),
    EDGE_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)?$/).default('64kb'),
    EDGE_PUBLISH_TIMEOUT: duration().default('5s'),
    EDGE_REQUEST_TIMEOUT: duration().default('15s'),
    TENANT_CACHE_TTL: duration().default('2s'),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.JWT_SECRET !== DEV_JWT_SECRET, {
    path: ['JWT_SECRET'],
    message: 'the development secret cannot be used in production; set JWT_SECRET',
  });

/** The edge's configuration, read once from the environment. */
export type EdgeConfig = z.output<typeof schema>;

export function loadEdgeConfig(env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  return loadConfig(schema, env);
}
