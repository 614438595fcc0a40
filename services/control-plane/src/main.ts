import '@fairway/telemetry/register';
import { z } from 'zod';
import { commonConfigSchema, loadConfig, namedUrls, port } from '@fairway/config';
import { AuditAction, appendAudit } from '@fairway/audit';
import { createPool, deprovisionTenant, findTenant, listTenants, provisionTenant, setTenantStatus, type TenantRecord } from '@fairway/db';
import { NotFoundError, ValidationError } from '@fairway/errors';
import {
  addHealthService,
  bindServiceServer,
  createServiceServer,
  FAIRWAY_TRUST_POLICIES,
  transportSecurityFromEnv,
  loadTenantCatalogProto,
  shutdownServer,
  unaryHandler,
  type TenantCatalogHandlers,
  type TenantMessage,
} from '@fairway/grpc';
import { parseTenantId } from '@fairway/tenant-context';
import { createLogger, stopTelemetry } from '@fairway/telemetry';
import { destroyTenantKeys } from '@fairway/crypto';

const configSchema = commonConfigSchema.extend({
  DATABASE_URL: z.string().url().default('postgres://fairway_owner:fairway_owner@127.0.0.1:5432/fairway'),
  CONTROL_PLANE_PORT: port().default(7051),
  CONTROL_PLANE_HOST: z.string().default('127.0.0.1'),
  /** Servers other than the catalog's for tenant databases: JSON {"name": "postgres://fairway_owner:...@host/postgres"}. */
  TENANT_DB_SERVERS: namedUrls('postgres://fairway_owner:pass@host:5432/postgres'),
});

const MODELS = ['pooled', 'schema', 'database'] as const;

const STATUSES = ['provisioning', 'active', 'suspended', 'offboarding', 'deleted'] as const;

function toMessage(tenant: TenantRecord): TenantMessage {
  return {
    id: tenant.id,
    slug: tenant.slug,
    displayName: tenant.displayName,
    status: tenant.status,
    isolationModel: tenant.isolationModel,
    plan: tenant.plan,
    createdAt: tenant.createdAt.toISOString(),
  };
}

function requireTenantId(value: string) {
  const id = parseTenantId(value);
  if (!id) throw new ValidationError(`'${value}' is not a tenant id: use 1-63 lowercase letters, digits and dashes`, [{ path: 'id', message: 'invalid tenant id' }]);
  return id;
}

async function main(): Promise<void> {
  const config = loadConfig(configSchema);
  const security = transportSecurityFromEnv(process.env);
  const log = createLogger('control-plane', config.LOG_LEVEL);
  // The catalog's writer connects as the owner role: it provisions tenants.
  const pool = createPool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_MAX, applicationName: 'fairway-control-plane' });
  const provisioning = { ownerPool: pool, ownerUrl: config.DATABASE_URL, servers: config.TENANT_DB_SERVERS };

  const handlers: TenantCatalogHandlers = {
    GetTenant: unaryHandler(async (req) => {
      const tenant = await findTenant(pool, requireTenantId(req.id));
      if (!tenant) throw new NotFoundError('tenant', req.id);
      return toMessage(tenant);
    }),
    ListTenants: unaryHandler(async () => ({ tenants: (await listTenants(pool)).map(toMessage) })),
    CreateTenant: unaryHandler(async (req) => {
      const id = requireTenantId(req.id);
      const model = z.enum(MODELS).safeParse(req.isolationModel || 'pooled');
      if (!model.success) {
        throw new ValidationError(`isolationModel must be one of ${MODELS.join(', ')} (got '${req.isolationModel}')`, [{ path: 'isolationModel', message: 'invalid isolation model' }]);
      }
      const before = await findTenant(pool, id);
      const started = performance.now();
      const tenant = await provisionTenant(provisioning, {
        id,
        slug: req.slug || id,
        displayName: req.displayName || id,
        plan: req.plan || 'standard',
        isolationModel: model.data,
        ...(req.dbServer ? { dbServer: req.dbServer } : {}),
      });
      if (!before) {
        await appendAudit(pool, { chain: id, actor: 'control-plane', action: AuditAction.tenantCreate, target: id, after: toMessage(tenant) });
        log.info({ tenant: id, model: tenant.isolationModel, ms: Math.round(performance.now() - started) }, 'tenant created');
      }
      return toMessage(tenant);
    }),
    DeleteTenant: unaryHandler(async (req) => {
      const id = requireTenantId(req.id);
      const before = await findTenant(pool, id);
      // Crypto-shredding first: once the tenant's data keys are gone, every copy of its encrypted
      // data (dead letters, exports, later backups) is unreadable, even if a drop below fails.
      if (before && before.status !== 'deleted') {
        await destroyTenantKeys(pool, id, { actor: req.actor || 'control-plane', ...(req.reason ? { reason: req.reason } : {}) });
      }
      const report = await deprovisionTenant(provisioning, id);
      // A repeated DeleteTenant changes nothing and records nothing.
      if (before?.status === 'deleted') return toMessage(report.tenant);
      await appendAudit(pool, {
        chain: id,
        actor: req.actor || 'control-plane',
        action: AuditAction.tenantDelete,
        target: id,
        before: { status: before?.status ?? null, isolationModel: report.model },
        after: {
          status: report.tenant.status,
          pooledRecordsDeleted: report.pooledRecordsDeleted,
          artifactsDeleted: report.artifactsDeleted,
          droppedSchema: report.droppedSchema ?? null,
          droppedDatabase: report.droppedDatabase ?? null,
        },
        ...(req.reason ? { reason: req.reason } : {}),
      });
      log.info({ tenant: id, model: report.model }, 'tenant offboarded');
      return toMessage(report.tenant);
    }),
    SetTenantStatus: unaryHandler(async (req) => {
      const status = z.enum(STATUSES).safeParse(req.status);
      if (!status.success) throw new ValidationError(`status must be one of ${STATUSES.join(', ')}`, [{ path: 'status', message: 'invalid status' }]);
      const tenant = await setTenantStatus(pool, requireTenantId(req.id), status.data);
      if (!tenant) throw new NotFoundError('tenant', req.id);
      log.info({ tenant: tenant.id, status: status.data }, 'tenant status changed');
      return toMessage(tenant);
    }),
  };

  const server = createServiceServer(security, FAIRWAY_TRUST_POLICIES['control-plane']);
  server.addService(loadTenantCatalogProto().fairway.tenancy.v1.TenantCatalog.service, handlers);
  addHealthService(server);
  const boundPort = await bindServiceServer(server, `${config.CONTROL_PLANE_HOST}:${config.CONTROL_PLANE_PORT}`, security);
  log.info({ port: boundPort, address: `${config.CONTROL_PLANE_HOST}:${boundPort}` }, 'ready');

  const stop = async () => {
    await shutdownServer(server, config.SHUTDOWN_TIMEOUT);
    await pool.end();
    await stopTelemetry();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  console.error(`control plane failed to start: ${(err as Error).message}`);
  process.exit(1);
});
