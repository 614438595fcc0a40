import { z } from 'zod';
import { ConfigInvalidError } from '@fairway/errors';
import { parseDuration } from './duration';

/** A zod type for durations such as `'5s'`, compiled to milliseconds. */
export const duration = () =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
      return z.NEVER;
    }
  });

/** A zod type for a comma-separated list. */
export const list = () =>
  z.string().transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

/** A zod type for a `host:port` address (gRPC targets). */
export const hostPort = () => z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port');

/** A zod type for a TCP port. */
export const port = () => z.coerce.number().int().min(0).max(65_535);

/** A zod type for booleans written as true/false/1/0. */
export const flag = () => z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((value) => value === true || value === 'true' || value === '1');

/**
 * Reads and validates a service's configuration from the environment, once, at start-up.
 * A bad value throws ConfigInvalidError naming the variable and what it should be.
 */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data as z.output<S>;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.');
    const got = env[variable];
    return `${variable}: ${issue.message}${got === undefined ? ' (not set)' : ` (got '${got}')`}`;
  });
  throw new ConfigInvalidError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

/**
 * A zod type for a JSON object of named connection URLs, e.g. TENANT_DB_SERVERS:
 * `{"eu-1": "postgres://user:pass@host:5432/postgres"}`.
 */
export const namedUrls = (example = 'postgres://user:pass@host:5432/postgres') =>
  z
    .string()
    .default('{}')
    .transform((raw, ctx) => {
      try {
        return z.record(z.string().url()).parse(JSON.parse(raw));
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be JSON: {"server-name": "${example}"}` });
        return z.NEVER;
      }
    });
