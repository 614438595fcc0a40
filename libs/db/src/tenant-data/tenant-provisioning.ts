import { Client, type Pool } from 'pg';
import { NotFoundError } from '@fairway/errors';
import type { TenantId } from '@fairway/tenant-context';
import { DbRole } from '../roles';
import { findTenant, setTenantStatus, upsertTenant, type IsolationModel, type TenantRecord } from '../tenants';
import { withTenantId } from '../with-tenant';
import { LOCAL_SERVER, databaseNameFor, databaseOf, databaseUrl, locationOf, quoteIdent, schemaNameFor, type TenantDbServers } from './tenant-location';
import { migrateTenantStore, tenantMigrationNames, TENANT_MIGRATIONS_DIR, type MigratableTenant } from './tenant-migrations';
import { shredTenantData, type ShreddingReport } from './tenant-shredding';

/** How the control plane reaches PostgreSQL to provision tenants: as the owner role. */
export interface ProvisioningDeps {
  /** A pool on the catalog database as the owner. */
  ownerPool: Pool;
  /** Its URL: tenant databases on the 'local' server are created and migrated through it. */
  ownerUrl: string;
  /** Other servers for tenant databases: name -> owner URL. */
  servers?: TenantDbServers;
  /** The tenant migrations folder (default TENANT_MIGRATIONS_DIR). */
  migrationsDir?: string;
}

/** A new tenant. */
export interface NewTenant {
  id: TenantId;
  slug?: string;
  displayName?: string;
  plan?: string;
  isolationModel?: IsolationModel;
  /** For the database model: the server to place it on (default 'local'). */
  dbServer?: string;
}

/** How far provisionTenant goes. */
export interface ProvisioningOptions {
  /**
   * Mark the tenant `active` at the end (default true). false leaves it `provisioning`, which no
   * router serves, for a caller that fills it first (a restore from a backup) and activates it
   * itself; a pooled tenant is then written as `provisioning` too.
   */
  activate?: boolean;
}

/**
 * Onboards a tenant without a redeploy: writes its catalog entry as `provisioning`, creates and
 * migrates its schema or database (nothing for pooled), then marks it `active`. Idempotent: a
 * tenant that already exists is returned as it is, and one left in `provisioning` by a crash is
 * finished (every step is IF NOT EXISTS or resumable).
 */
export async function provisionTenant(deps: ProvisioningDeps, tenant: NewTenant, options: ProvisioningOptions = {}): Promise<TenantRecord> {
  const model = tenant.isolationModel ?? 'pooled';
  const activate = options.activate ?? true;
  const catalogDatabase = databaseOf(deps.ownerUrl);
  const entry = await upsertTenant(deps.ownerPool, {
    id: tenant.id,
    ...(tenant.slug ? { slug: tenant.slug } : {}),
    ...(tenant.displayName ? { displayName: tenant.displayName } : {}),
    ...(tenant.plan ? { plan: tenant.plan } : {}),
    status: model === 'pooled' && activate ? 'active' : 'provisioning',
    isolationModel: model,
    ...(model === 'schema' ? { schemaName: schemaNameFor(tenant.id) } : {}),
    ...(model === 'database' ? { dbServer: tenant.dbServer ?? LOCAL_SERVER, dbName: databaseNameFor(catalogDatabase, tenant.id) } : {}),
  });
  if (entry.status !== 'provisioning') return entry;
  if (!activate && model === 'pooled') return entry;

  const location = locationOf(entry);
  const dir = deps.migrationsDir ?? TENANT_MIGRATIONS_DIR;
  const names = tenantMigrationNames(dir);
  if (location.model === 'schema') {
    const client = await deps.ownerPool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(location.schema)} AUTHORIZATION ${DbRole.owner}`);
      await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(location.schema)} TO ${DbRole.app}`);
      await migrateTenantStore(client, { id: entry.id, location }, { dir, names, target: names.length - 1 });
    } finally {
      client.release();
    }
  } else if (location.model === 'database') {
    await createTenantDatabase(deps, location.server, location.database);
    const client = new Client({ connectionString: databaseUrl(deps.ownerUrl, location.server, location.database, deps.servers) });
    await client.connect();
    try {
      await client.query(`GRANT USAGE ON SCHEMA public TO ${DbRole.app}`);
      await migrateTenantStore(client, { id: entry.id, location } as MigratableTenant, { dir, names, target: names.length - 1 });
    } finally {
      await client.end();
    }
  }
  if (location.model !== 'pooled') {
    await deps.ownerPool.query(
      `INSERT INTO tenant_migrations (tenant_id, version, status, target) VALUES ($1, $2, 'done', $2)
       ON CONFLICT (tenant_id) DO UPDATE SET version = $2, status = 'done', target = $2, error = NULL, updated_at = now()`,
      [entry.id, names[names.length - 1] ?? '0'],
    );
  }
  if (!activate) return entry;
  return (await setTenantStatus(deps.ownerPool, entry.id, 'active')) ?? entry;
}

/**
 * Creates the tenant database `database` on `server` if absent, owned by the owner role, with
 * CONNECT for the application role only. Idempotent. Used by onboarding and by live moves.
 */
export async function createTenantDatabase(deps: ProvisioningDeps, server: string, database: string): Promise<void> {
  // CREATE DATABASE cannot run inside a transaction; a plain client on the server's catalog (or
  // any) database runs it in autocommit.
  const client = new Client({ connectionString: server === LOCAL_SERVER ? deps.ownerUrl : databaseUrl(deps.ownerUrl, server, 'postgres', deps.servers) });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!exists.rowCount) {
      await client.query(`CREATE DATABASE ${quoteIdent(database)} OWNER ${DbRole.owner}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created by a concurrent CreateTenant
      });
    }
    // Only the application role (and the owner) may connect: not every login on the server.
    await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${quoteIdent(database)} FROM PUBLIC`);
    await client.query(`GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${DbRole.app}`);
  } finally {
    await client.end();
  }
}

/** What offboarding removed. */
export interface OffboardingReport {
  tenant: TenantRecord;
  model: IsolationModel;
  pooledRecordsDeleted: number;
  artifactsDeleted: number;
  droppedSchema?: string;
  droppedDatabase?: string;
  /** What crypto-shredding cleared in the catalog's tables (jobs, effects, keys' hashes, ...). */
  shredded?: ShreddingReport;
}

/**
 * Offboards a tenant: marks it `offboarding` (every router drops its route on the notification, so
 * no new transaction starts), shreds what its jobs left in plaintext (shredTenantData), deletes its
 * pooled rows, drops its schema or database, and marks it `deleted`. The catalog row stays, as
 * the record that the tenant existed and is gone; an audit entry is the caller's to write (see the
 * control plane). Idempotent.
 */
export async function deprovisionTenant(deps: ProvisioningDeps, tenantId: TenantId): Promise<OffboardingReport> {
  const existing = await findTenant(deps.ownerPool, tenantId);
  if (!existing) throw new NotFoundError('tenant', tenantId);
  const location = locationOf(existing);
  const report: OffboardingReport = { tenant: existing, model: existing.isolationModel, pooledRecordsDeleted: 0, artifactsDeleted: 0 };
  if (existing.status === 'deleted') {
    // A tenant deleted before shredding existed still had its plaintext: a repeated call removes it.
    report.shredded = await shredTenantData(deps.ownerPool, tenantId);
    return report;
  }
  await setTenantStatus(deps.ownerPool, tenantId, 'offboarding');
  // First, so its barrier also covers the deletions below: from here no write for the tenant lands.
  report.shredded = await shredTenantData(deps.ownerPool, tenantId);

  // The owner reaches one tenant's pooled rows only inside that tenant's transaction (its policy).
  const deleted = await withTenantId(deps.ownerPool, tenantId, async (tx) => {
    const records = (await tx.query('DELETE FROM records')).rowCount ?? 0;
    // The chunk rows of stored results (migration 610) go with their artifacts.
    await tx.query('DELETE FROM job_result_chunks');
    return { records, artifacts: (await tx.query('DELETE FROM job_artifacts')).rowCount ?? 0 };
  });
  report.pooledRecordsDeleted = deleted.records;
  report.artifactsDeleted = deleted.artifacts;

  if (location.model === 'schema') {
    await deps.ownerPool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(location.schema)} CASCADE`);
    report.droppedSchema = location.schema;
  } else if (location.model === 'database') {
    const client = new Client({
      connectionString: location.server === LOCAL_SERVER ? deps.ownerUrl : databaseUrl(deps.ownerUrl, location.server, 'postgres', deps.servers),
    });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [location.database]);
      if (exists.rowCount) {
        // No new sessions, then end the remaining ones (routers close their idle pools on the
        // notification; FORCE ends any still open).
        await client.query(`REVOKE CONNECT ON DATABASE ${quoteIdent(location.database)} FROM ${DbRole.app}`);
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(location.database)} WITH (FORCE)`);
      }
    } finally {
      await client.end();
    }
    report.droppedDatabase = location.database;
  }
  await deps.ownerPool.query('DELETE FROM tenant_migrations WHERE tenant_id = $1', [tenantId]);
  report.tenant = (await setTenantStatus(deps.ownerPool, tenantId, 'deleted')) ?? existing;
  return report;
}
