import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import type { Producer } from 'kafkajs';
import { TokenVerifier } from '@fairway/auth';
import { TenantDataRouter } from '@fairway/db';
import { createTestTenant, dropTestTenants, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { createIdempotentProducer, GroupCommitPublisher } from '@fairway/kafka';
import { deleteTopics, testKafka, uniqueTopics } from '@fairway/kafka/testing';
import { createLogger } from '@fairway/telemetry';
import { TenantCache } from '@fairway/tenant-cache';
import type { TenantId } from '@fairway/tenant-context';
import { AdmissionController } from './admission';
import { PgApiKeyLookup, type ApiKeyLookup } from './api-keys';
import { createEdgeApp, type EdgeDeps } from './app';
import type { FailedAuthLimiter } from './failed-auth-limiter';
import { RedisIdempotencyStore } from './idempotency';
import { TenantDirectory } from './tenant-directory';
import { TenantLimits } from './tenant-limits';

const SECRET = new TextEncoder().encode('edge-testing-secret-0123456789-0123456789');
const ISSUER = 'fairway-edge-test';
const AUDIENCE = 'fairway-api';

/** What a test may change of the edge it starts. */
export interface TestEdgeOptions {
  /** Wraps the real PostgreSQL API key lookup (to count the lookups that reach it, say). */
  apiKeys?: (store: ApiKeyLookup) => ApiKeyLookup;
  /** Throttles clients that fail authentication (else the app's default limiter). */
  failedAuth?: FailedAuthLimiter;
  /** How long the tenant directory caches a tenant (default 50 ms, so status changes show at once). */
  tenantCacheTtlMs?: number;
  /** Express's 'trust proxy' (see EdgeDeps). */
  trustProxy?: EdgeDeps['trustProxy'];
  /** Mount /v1/records (over a real TenantDataRouter). */
  records?: boolean;
  /** Read catalog entries, records and final job status through the tenant cache (Redis, a prefix of this edge's). */
  cache?: boolean;
}

/**
 * One edge app on an in-process HTTP server, wired to the real Kafka broker (a unique topic),
 * PostgreSQL and Redis, with tenants made for the test and bearer tokens for them. `close()`
 * removes what it created.
 */
export class TestEdge {
  readonly pools = testPools();
  readonly kafka = testKafka('edge-testing');
  private readonly redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
  private readonly prefix = `fairway:edge-testing:${randomUUID().slice(0, 8)}:`;
  private readonly tenants: TenantId[] = [];
  private producer: Producer | undefined;
  private data: TenantDataRouter | undefined;
  private server: Server | undefined;
  /** The tenant cache, when started with `cache: true`. */
  cache: TenantCache | undefined;
  topics: Awaited<ReturnType<typeof uniqueTopics>> | undefined;
  /** http://127.0.0.1:<port> */
  url = '';
  port = 0;

  /** Starts the edge. */
  async start(options: TestEdgeOptions = {}): Promise<this> {
    this.topics = await uniqueTopics(this.kafka, 'fw-edge-testing');
    this.producer = createIdempotentProducer(this.kafka);
    await this.producer.connect();
    if (options.records) {
      this.data = new TenantDataRouter({ catalogPool: this.pools.app, catalogUrl: testDatabaseUrls().app, maxConnections: 8, perDatabaseMax: 2 });
    }
    const store = new PgApiKeyLookup(this.pools.app, { cacheTtlMs: 50, touchIntervalMs: 60_000 });
    if (options.cache) {
      this.cache = new TenantCache(this.redis, { prefix: `${this.prefix}cache:`, ttlMs: 60_000, maxKeysPerTenant: 100, maxBytesPerTenant: 256 * 1024 });
    }
    const deps: EdgeDeps = {
      publisher: new GroupCommitPublisher({ producer: this.producer, topic: this.topics.commands }),
      pool: this.pools.app,
      log: createLogger('edge-testing', 'silent'),
      bodyLimit: '64kb',
      idempotency: new RedisIdempotencyStore(this.redis, this.pools.app, { ttlMs: 60_000, keyPrefix: this.prefix }),
      ...(this.data ? { data: this.data } : {}),
      ...(this.cache ? { cache: this.cache } : {}),
      ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
      auth: {
        tokens: new TokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, cacheTtlMs: 5_000 }),
        tenants: new TenantDirectory(this.pools.app, options.tenantCacheTtlMs ?? 50, this.cache),
        apiKeys: options.apiKeys ? options.apiKeys(store) : store,
        admission: new AdmissionController({ redis: this.redis, keyPrefix: this.prefix, leaseMs: 15_000 }),
        limits: new TenantLimits({ standard: { rate: 100_000, burst: 100_000, maxInFlight: 1_000 } }, {}),
        ...(options.failedAuth ? { failedAuth: options.failedAuth } : {}),
      },
    };
    const app = createEdgeApp(deps);
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server?.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /** A new active tenant and a bearer credential for it. */
  async tenant(): Promise<{ id: TenantId; authorization: string }> {
    const id = await createTestTenant(this.pools.owner, 'edgt');
    this.tenants.push(id);
    const token = await new SignJWT({ tenant_id: id, sub: `user@${id}` })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .sign(SECRET);
    return { id, authorization: `Bearer ${token}` };
  }

  /** Stops the server and removes the tenants, topics and Redis keys it made. */
  async close(): Promise<void> {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    this.cache?.close();
    await this.data?.close();
    await this.producer?.disconnect();
    if (this.topics) await deleteTopics(this.kafka, this.topics).catch(() => undefined);
    await dropTestTenants(this.pools.owner, this.tenants);
    const keys = await this.redis.keys(`${this.prefix}*`);
    if (keys.length > 0) await this.redis.del(...keys);
    this.redis.disconnect();
    await this.pools.end();
  }
}

/** A JSON Schema as OpenAPI 3.1 writes one (JSON Schema 2020-12). */
export type JsonSchema = { [keyword: string]: unknown };

/** The parts of an OpenAPI 3.1 document that {@link responseViolations} reads. */
export interface OpenApiDocumentShape {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }> }>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** One HTTP exchange as a client saw it: the operation it called and what came back. */
export interface ObservedResponse {
  /** Lower-case, as the document's path items key them. */
  method: string;
  /** The path as written in the document (`/v1/jobs/{id}`). */
  path: string;
  status: number;
  contentType: string | null;
  body: string;
}

const FORMATS: Record<string, (value: string) => boolean> = {
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) && !Number.isNaN(Date.parse(v)),
  uri: (v) => URL.canParse(v),
};
/** Keywords that assert nothing about a value. */
const ANNOTATIONS = new Set(['description', 'example', 'examples', 'default', 'title', 'deprecated', 'readOnly', 'writeOnly']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const TYPES: Record<string, (v: unknown) => boolean> = {
  object: isObject,
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
};

/**
 * Where `value` breaks `schema` (empty: it conforms). The subset of JSON Schema 2020-12 that the
 * edge's document uses; a keyword outside it is reported as a violation rather than skipped, so a
 * schema this cannot check fails the test instead of passing it unread.
 */
export function schemaViolations(document: OpenApiDocumentShape, schema: JsonSchema, value: unknown, at = '$'): string[] {
  const out: string[] = [];
  const check = (ok: boolean, problem: () => string) => {
    if (!ok) out.push(`${at}: ${problem()}`);
  };
  for (const [keyword, arg] of Object.entries(schema)) {
    switch (keyword) {
      case '$ref': {
        const name = /^#\/components\/schemas\/(.+)$/.exec(String(arg))?.[1];
        const target = name === undefined ? undefined : document.components?.schemas?.[name];
        if (target) out.push(...schemaViolations(document, target, value, at));
        else out.push(`${at}: $ref ${String(arg)} does not resolve`);
        break;
      }
      case 'type': {
        const types = (Array.isArray(arg) ? arg : [arg]) as string[];
        check(
          types.some((t) => TYPES[t]?.(value) === true),
          () => `${JSON.stringify(value)?.slice(0, 80)} is not ${types.join(' or ')}`,
        );
        break;
      }
      case 'properties':
        if (isObject(value)) {
          for (const [name, sub] of Object.entries(arg as Record<string, JsonSchema>)) {
            if (name in value) out.push(...schemaViolations(document, sub, value[name], `${at}.${name}`));
          }
        }
        break;
      case 'required':
        if (isObject(value)) for (const name of arg as string[]) check(name in value, () => `lacks the required property ${name}`);
        break;
      case 'additionalProperties':
        if (isObject(value)) {
          const declared = Object.keys((schema['properties'] as object | undefined) ?? {});
          for (const [name, v] of Object.entries(value)) {
            if (declared.includes(name)) continue;
            if (arg === false) out.push(`${at}: has the undeclared property ${name}`);
            else if (isObject(arg)) out.push(...schemaViolations(document, arg, v, `${at}.${name}`));
          }
        }
        break;
      case 'items':
        if (Array.isArray(value)) value.forEach((item, i) => out.push(...schemaViolations(document, arg as JsonSchema, item, `${at}[${i}]`)));
        break;
      case 'enum':
        check((arg as unknown[]).includes(value), () => `${JSON.stringify(value)} is not one of ${JSON.stringify(arg)}`);
        break;
      case 'anyOf':
        check(
          (arg as JsonSchema[]).some((sub) => schemaViolations(document, sub, value, at).length === 0),
          () => `${JSON.stringify(value)?.slice(0, 80)} matches no schema of anyOf`,
        );
        break;
      case 'format': {
        const test = FORMATS[String(arg)];
        if (!test) out.push(`${at}: format ${String(arg)} is not checked here`);
        else if (typeof value === 'string') check(test(value), () => `'${value}' is not a ${String(arg)}`);
        break;
      }
      case 'pattern':
        if (typeof value === 'string') check(new RegExp(String(arg), 'u').test(value), () => `'${value}' does not match ${String(arg)}`);
        break;
      case 'minLength':
      case 'maxLength':
        if (typeof value === 'string') {
          const length = [...value].length;
          check(keyword === 'minLength' ? length >= Number(arg) : length <= Number(arg), () => `length ${length} breaks ${keyword} ${String(arg)}`);
        }
        break;
      case 'minItems':
      case 'maxItems':
        if (Array.isArray(value))
          check(
            keyword === 'minItems' ? value.length >= Number(arg) : value.length <= Number(arg),
            () => `${value.length} items break ${keyword} ${String(arg)}`,
          );
        break;
      case 'minimum':
      case 'maximum':
        if (typeof value === 'number')
          check(keyword === 'minimum' ? value >= Number(arg) : value <= Number(arg), () => `${value} breaks ${keyword} ${String(arg)}`);
        break;
      default:
        if (!ANNOTATIONS.has(keyword)) out.push(`${at}: keyword ${keyword} is not checked here`);
    }
  }
  return out;
}

/**
 * Where a response breaks the document (empty: it matches): the operation must be documented, the
 * status too (or a `default`), the media type must be one the status lists (parameters such as
 * `charset` aside), and a JSON body must conform to that media type's schema. A status documented
 * without content must come with an empty body.
 */
export function responseViolations(document: OpenApiDocumentShape, observed: ObservedResponse): string[] {
  const where = `${observed.method.toUpperCase()} ${observed.path} -> ${observed.status}`;
  const operation = document.paths[observed.path]?.[observed.method];
  if (!operation) return [`${where}: the operation is not in the document`];
  const response = operation.responses[String(observed.status)] ?? operation.responses['default'];
  if (!response) return [`${where}: status ${observed.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`];
  if (!response.content) return observed.body === '' ? [] : [`${where}: documented without a body, but one came (${observed.body.slice(0, 80)})`];
  const mediaType = (observed.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const media = response.content[mediaType];
  if (!media) return [`${where}: content type '${observed.contentType}' is not documented (documented: ${Object.keys(response.content).join(', ')})`];
  if (!/^application\/([a-z.+-]+\+)?json$/.test(mediaType)) {
    return media.schema === undefined || schemaViolations(document, media.schema, observed.body).length === 0
      ? []
      : [`${where}: the body is not a ${JSON.stringify(media.schema)}`];
  }
  let value: unknown;
  try {
    value = JSON.parse(observed.body);
  } catch {
    return [`${where}: ${mediaType} that is not JSON: ${observed.body.slice(0, 80)}`];
  }
  return media.schema === undefined ? [] : schemaViolations(document, media.schema, value).map((v) => `${where}: ${v}`);
}
