import express, { Router, type Express } from 'express';
import { HttpRequestError } from '@fairway/errors';
import { problemMiddleware } from '@fairway/http';
import { apiKeysRoutes } from './admin/api-keys-routes';
import { backupRoutes } from './admin/backup-routes';
import { auditRoutes } from './admin/audit-routes';
import { dataKeysRoutes } from './admin/data-keys-routes';
import type { AdminDeps } from './admin/deps';
import { movesRoutes } from './admin/moves-routes';
import { requireOperator } from './admin/operator-auth';
import { queryTimeoutsRoutes } from './admin/query-timeouts-routes';
import { schedulerRoutes } from './admin/scheduler-routes';
import { tenantsRoutes } from './admin/tenants-routes';
import { whatIfRoutes } from './admin/what-if-routes';

export type { AdminDeps } from './admin/deps';

/**
 * The operators' admin API, served by the control plane on its own port (ADMIN_PORT), never by the
 * public edge. One router per resource, each in src/admin/: tenants, API keys, data keys and
 * re-encryption, the scheduler's quotas, stats and explanations, query time limits, what-if on recorded traffic, and the audit trail.
 */
export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  const v1 = Router();
  v1.use(requireOperator(deps), express.json({ limit: '64kb', strict: true }));
  v1.use(
    tenantsRoutes(deps),
    apiKeysRoutes(deps),
    dataKeysRoutes(deps),
    schedulerRoutes(deps),
    queryTimeoutsRoutes(deps),
    whatIfRoutes(deps),
    auditRoutes(deps),
    movesRoutes(deps),
  );

  // Backup, restore, export-then-delete: the archive streams as the body, never through express.json.
  v1.use(backupRoutes(deps));

  app.use('/admin/v1', v1);
  app.use((req, _res, next) => {
    next(new HttpRequestError('ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use(problemMiddleware(deps.log));
  return app;
}
