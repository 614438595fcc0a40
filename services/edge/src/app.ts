import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { HttpRequestError } from '@fairway/errors';
import type { GroupCommitPublisher } from '@fairway/kafka';
import type { Logger } from '@fairway/telemetry';
import { authenticate, type AuthOptions } from './authenticate';
import { jobsRouter } from './jobs-routes';
import { problemMiddleware, requireJson } from './problem-middleware';
import { traceRequests } from './trace-middleware';

/** What the edge app is wired to. */
export interface EdgeDeps {
  publisher: GroupCommitPublisher;
  pool: Pool;
  auth: AuthOptions;
  log: Logger;
  bodyLimit: string;
  onRefusal?: (reason: string, tenant?: string) => void;
  onAccepted?: (tenant: string) => void;
  isReady?: () => boolean;
}

/** The public HTTP API as an Express app (no listening socket, so tests and benchmarks can mount it). */
export function createEdgeApp(deps: EdgeDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = deps.isReady?.() ?? true;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
  });

  app.use(
    '/v1',
    traceRequests,
    requireJson,
    express.json({ limit: deps.bodyLimit, strict: true, type: 'application/json' }),
    authenticate(deps.auth, deps.onRefusal),
  );
  app.use('/v1/jobs', jobsRouter({ publisher: deps.publisher, pool: deps.pool, ...(deps.onAccepted ? { onAccepted: deps.onAccepted } : {}) }));

  app.use((req, _res, next) => {
    next(new HttpRequestError('ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use(problemMiddleware(deps.log));
  return app;
}
