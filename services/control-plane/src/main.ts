import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { commonConfigSchema, loadConfig, port } from '@fairway/config';
import { createPool, findTenant, listTenants, setTenantStatus, upsertTenant, type TenantRecord } from '@fairway/db';
import { NotFoundError, ValidationError } from '@fairway/errors';
import {
  addHealthService,
  bindServer,
  loadTenantCatalogProto,
  shutdownServer,
  unaryHandler,
  type TenantCatalogHandlers,
  type TenantMessage,
} from '@fairway/grpc';
import { parseTenantId } from '@fairway/tenant-context';
import { createLogger, startTelemetry } from '@fairway/telemetry';

const configSchema = commonConfigSchema.extend({
  DATABASE_URL: z.string().url().default('postgres://fairway_owner:fairway_owner@127.0.0.1:5432/fairway'),
  CONTROL_PLANE_PORT: port().default(7051),
  CONTROL_PLANE_HOST: z.string().default('127.0.0.1'),
});

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
  startTelemetry('fairway-control-plane');
  const config = loadConfig(configSchema);
  const log = createLogger('control-plane', config.LOG_LEVEL);
  // The catalog's writer connects as the owner role: it provisions tenants.
  const pool = createPool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_MAX, applicationName: 'fairway-control-plane' });

  const handlers: TenantCatalogHandlers = {
    GetTenant: unaryHandler(async (req) => {
      const tenant = await findTenant(pool, requireTenantId(req.id));
      if (!tenant) throw new NotFoundError('tenant', req.id);
      return toMessage(tenant);
    }),
    ListTenants: unaryHandler(async () => ({ tenants: (await listTenants(pool)).map(toMessage) })),
    CreateTenant: unaryHandler(async (req) => {
      const id = requireTenantId(req.id);
      const tenant = await upsertTenant(pool, {
        id,
        slug: req.slug || id,
        displayName: req.displayName || id,
        plan: req.plan || 'standard',
      });
      log.info({ tenant: id }, 'tenant created');
      return toMessage(tenant);
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

  const server = new grpc.Server();
  server.addService(loadTenantCatalogProto().fairway.tenancy.v1.TenantCatalog.service, handlers);
  addHealthService(server);
  const boundPort = await bindServer(server, `${config.CONTROL_PLANE_HOST}:${config.CONTROL_PLANE_PORT}`);
  log.info({ port: boundPort, address: `${config.CONTROL_PLANE_HOST}:${boundPort}` }, 'ready');

  const stop = async () => {
    await shutdownServer(server, config.SHUTDOWN_TIMEOUT);
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  console.error(`control plane failed to start: ${(err as Error).message}`);
  process.exit(1);
});
