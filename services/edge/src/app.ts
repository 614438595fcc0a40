import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { HttpRequestError } from '@fairway/errors';
import { RecordsRepository, recordsRouter, type FieldCipher } from '@fairway/records';
import type { ReadReplica, TenantDataRouter } from '@fairway/db';
import type { Publisher } from '@fairway/kafka';
import type { TenantCache } from '@fairway/tenant-cache';
import type { Logger } from '@fairway/telemetry';
import { openApiDocument } from './api-schemas';
import { authenticate, type AuthOptions } from './authenticate';
import { FailedAuthLimiter } from './failed-auth-limiter';
import type { IdempotencyStore } from './idempotency';
import { createJobHandler, jobsRouter } from './jobs-routes';
import { isJsonRequest, problemMiddleware, requireJson } from './problem-middleware';
import { classifyRequestErrors } from './request-errors';
import { traceRequests } from './trace-middleware';
import { UnknownApiKeyCache } from './unknown-api-keys';

/** What the edge app is wired to. */
export interface EdgeDeps {
  publisher: Publisher;
  pool: Pool;
  auth: Omit<AuthOptions, 'log'>;
  idempotency: IdempotencyStore;
  /** Tenant data in whichever isolation model each tenant lives (pooled, schema, database). */
  data?: TenantDataRouter;
  /** Seals records' sensitive fields with each tenant's key, and opens stored job results. */
  cipher?: FieldCipher;
  /** The tenant cache of hot reads (final job status, record lookups); none: every read goes to PostgreSQL. */
  cache?: TenantCache;
  /** The read replica of staleness-tolerant lists (GET /v1/jobs); none: every read on `pool`. */
  reads?: ReadReplica;
  log: Logger;
  bodyLimit: string;
  onAccepted?: (tenant: string) => void;
  isReady?: () => boolean;
  /**
   * Express's 'trust proxy' (hops, addresses or subnets of the proxies in front of the edge). The
   * failed-authentication limiter keys on the client address: behind an ingress or load balancer,
   * unset, every client has the proxy's address and shares one budget.
   */
  trustProxy?: boolean | number | string | string[];
}

/** The public HTTP API as an Express app (no listening socket, so tests and benchmarks can mount it). */
export function createEdgeApp(deps: EdgeDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  const openapi = JSON.stringify(openApiDocument());

  // Authentication and admission come before the body is parsed: a request that is refused, or over
  // its tenant's limits, costs no JSON parsing.
  // Unknown API key prefixes are remembered, and a client address that keeps failing authentication
  // is refused before any lookup: neither costs a query per request.
  const auth = authenticate({
    ...deps.auth,
    apiKeys: new UnknownApiKeyCache(deps.auth.apiKeys),
    failedAuth: deps.auth.failedAuth ?? new FailedAuthLimiter(),
    log: deps.log,
  });
  const v1 = [traceRequests, auth, requireJson, express.json({ limit: deps.bodyLimit, strict: true, type: isJsonRequest })];
  const jobs = {
    publisher: deps.publisher,
    pool: deps.pool,
    idempotency: deps.idempotency,
    ...(deps.cipher ? { cipher: deps.cipher } : {}),
    ...(deps.cache ? { cache: deps.cache } : {}),
    ...(deps.reads ? { reads: deps.reads } : {}),
    ...(deps.onAccepted ? { onAccepted: deps.onAccepted } : {}),
  };
  // The hot path, POST /v1/jobs, is the first route and one route with its whole chain: the router
  // matches it at once instead of walking a layer per middleware and then a sub-router (bench:edge).
  app.post('/v1/jobs', ...v1, createJobHandler(jobs));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = deps.isReady?.() ?? true;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openapi);
  });

  app.use('/v1', ...v1);
  app.use('/v1/jobs', jobsRouter(jobs));

  if (deps.data) app.use('/v1/records', recordsRouter({ repository: new RecordsRepository(deps.data, deps.cipher, deps.cache) }));

  app.use((req, _res, next) => {
    next(new HttpRequestError('ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use(classifyRequestErrors);
  app.use(problemMiddleware(deps.log));
  return app;
}
