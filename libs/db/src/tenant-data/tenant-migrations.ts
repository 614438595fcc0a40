import fs from 'node:fs';
import path from 'node:path';
import { Client, type ClientBase, type Pool } from 'pg';
import { runner } from 'node-pg-migrate';
import { createPool } from '../pool';
import { DbRole } from '../roles';
import { databaseUrl, locationOf, quoteIdent, type TenantDbServers, type TenantLocation } from './tenant-location';

/** The folder of the tenant migrations: applied to each schema and database tenant. */
export const TENANT_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations', 'tenant');

/** The table each tenant schema or database keeps its applied migrations in. */
const TENANT_MIGRATIONS_TABLE = 'pgmigrations';

/** The version of a tenant with no tenant migration applied. */
export const NO_VERSION = '0';

/** The tenant migrations in `dir`, in order (file names without extension). */
export function tenantMigrationNames(dir: string = TENANT_MIGRATIONS_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d+_.+\.(sql|js|ts)$/.test(file))
    .map((file) => file.replace(/\.(sql|js|ts)$/, ''))
    .sort((a, b) => Number(a.split('_')[0]) - Number(b.split('_')[0]) || a.localeCompare(b));
}

/**
 * The index in `names` of version `to` (a full migration name, its numeric prefix, or '0' for
 * none); the last migration when `to` is undefined. -1 means "no migration applied".
 */
export function targetIndex(names: readonly string[], to: string | undefined): number {
  if (to === undefined) return names.length - 1;
  if (to === NO_VERSION) return -1;
  const index = names.findIndex((name) => name === to || name.split('_')[0] === to);
  if (index < 0) throw new RangeError(`no tenant migration '${to}': known versions are ${NO_VERSION}, ${names.join(', ')}`);
  return index;
}

/** A tenant whose data has its own schema or database, as the migration runner sees it. */
export interface MigratableTenant {
  id: string;
  location: Exclude<TenantLocation, { model: 'pooled' }>;
}

/** What migrating one tenant did (or, in a dry run, would do). */
export interface TenantMigrationStep {
  tenantId: string;
  from: string;
  to: string;
  direction: 'up' | 'down' | 'none';
  migrations: string[];
}

async function appliedMigrations(client: ClientBase, location: MigratableTenant['location']): Promise<string[]> {
  const schema = location.model === 'schema' ? location.schema : 'public';
  const exists = await client.query('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema, TENANT_MIGRATIONS_TABLE]);
  if (!exists.rowCount) return [];
  const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${quoteIdent(schema)}.${TENANT_MIGRATIONS_TABLE} ORDER BY run_on, id`);
  return rows.map((row) => row.name);
}

/**
 * Brings one tenant's schema or database to the migration at `target` (an index into `names`, -1
 * for none) with node-pg-migrate, up or down, all steps in one transaction: a crash leaves the
 * tenant at its old version or its new one, never between. `client` is connected to the tenant's
 * database (the catalog database for a schema tenant) as the owner or a superuser.
 *
 * node-pg-migrate's own lock is one advisory lock per database, which would serialise a thousand
 * schemas of one database; we take a lock per tenant instead (noLock + our own).
 */
export async function migrateTenantStore(
  client: ClientBase,
  tenant: MigratableTenant,
  options: { dir?: string; names?: readonly string[]; target: number; dryRun?: boolean },
): Promise<TenantMigrationStep> {
  const dir = options.dir ?? TENANT_MIGRATIONS_DIR;
  const names = options.names ?? tenantMigrationNames(dir);
  await client.query(`SET ROLE ${DbRole.owner}`);
  const lock = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtextextended('fairway-tenant-migrations:' || $1, 0)) AS locked", [
    tenant.id,
  ]);
  if (!lock.rows[0]?.locked) {
    await client.query('RESET ROLE');
    throw new Error(`tenant '${tenant.id}' is being migrated by another runner`);
  }
  try {
    const applied = await appliedMigrations(client, tenant.location);
    const from = applied[applied.length - 1] ?? NO_VERSION;
    const to = names[options.target] ?? NO_VERSION;
    const wanted = options.target + 1;
    const direction = applied.length < wanted ? 'up' : applied.length > wanted ? 'down' : 'none';
    const migrations = direction === 'up' ? names.slice(applied.length, wanted) : direction === 'down' ? applied.slice(wanted).reverse() : [];
    if (direction !== 'none' && !options.dryRun) {
      const schema = tenant.location.model === 'schema' ? tenant.location.schema : 'public';
      await runner({
        dbClient: client as Client,
        dir,
        schema,
        createSchema: tenant.location.model === 'schema',
        migrationsSchema: schema,
        migrationsTable: TENANT_MIGRATIONS_TABLE,
        direction,
        count: migrations.length,
        checkOrder: true,
        noLock: true,
        singleTransaction: true,
        log: () => undefined,
      });
    }
    return { tenantId: tenant.id, from, to: options.dryRun ? from : to, direction, migrations };
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtextextended('fairway-tenant-migrations:' || $1, 0))", [tenant.id]).catch(() => undefined);
    await client.query('RESET search_path').catch(() => undefined);
    await client.query('RESET ROLE').catch(() => undefined);
  }
}

/** Options of migrateTenants(). */
export interface MigrateTenantsOptions {
  /** The catalog database as the owner (or a superuser): schemas live here, the catalog is read here. */
  ownerUrl: string;
  /** Servers other than the catalog's that hold tenant databases: name -> owner URL. */
  servers?: TenantDbServers;
  /** The migrations folder (default TENANT_MIGRATIONS_DIR). */
  dir?: string;
  /** The version to reach: a migration name, its numeric prefix, or '0'; default the latest. Lower than a tenant's version rolls it back. */
  to?: string;
  /** These tenants go first; if any of them fails, the rest of the fleet is left alone. */
  canary?: readonly string[];
  /** Only these tenants (default every schema and database tenant that is active or suspended). */
  tenants?: readonly string[];
  /** How many tenants are migrated at once; also the most connections the run holds (default 4). */
  concurrency?: number;
  /** Work out and report what would run, change nothing. */
  dryRun?: boolean;
  /** Stops scheduling further tenants (those in flight finish); the next run resumes. */
  signal?: AbortSignal;
}

/** One progress event of migrateTenants(). */
export interface TenantMigrationProgress {
  phase: 'canary' | 'fleet';
  tenantId: string;
  status: 'done' | 'skipped' | 'failed' | 'planned';
  step?: TenantMigrationStep;
  error?: string;
  /** Tenants finished so far (done, skipped, failed or planned), and the total of this run. */
  completed: number;
  total: number;
}

/** What a migrateTenants() run did. */
export interface MigrateTenantsResult {
  target: string;
  total: number;
  migrated: number;
  skipped: number;
  failed: Array<{ tenantId: string; error: string }>;
  plan: TenantMigrationStep[];
  /** True when canaries failed, so the fleet was not touched. */
  haltedAfterCanary: boolean;
  /** True when the signal stopped the run before every tenant was tried. */
  aborted: boolean;
}

interface TenantRow {
  id: string;
  isolation_model: 'schema' | 'database';
  schema_name: string | null;
  db_server: string | null;
  db_name: string | null;
  state_version: string | null;
  state_status: string | null;
  state_target: string | null;
}

/**
 * Applies the tenant migrations to every schema and database tenant, `concurrency` at a time (the
 * run never holds more connections than that, plus one for bookkeeping), canaries first.
 *
 * Each tenant's version is recorded in `tenant_migrations` (running, then done or failed). A run
 * that crashed or was stopped resumes where it was: tenants already `done` at the target are
 * skipped, and a tenant caught mid-way is consistent (its steps ran in one transaction) and is
 * simply migrated again. `to` lower than a tenant's version rolls it back.
 */
export async function migrateTenants(
  options: MigrateTenantsOptions,
  onProgress: (event: TenantMigrationProgress) => void = () => undefined,
): Promise<MigrateTenantsResult> {
  const dir = options.dir ?? TENANT_MIGRATIONS_DIR;
  const names = tenantMigrationNames(dir);
  const target = targetIndex(names, options.to);
  const targetName = names[target] ?? NO_VERSION;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const books = createPool({ connectionString: options.ownerUrl, max: 1, applicationName: 'fairway-tenant-migrations' });
  const schemaPool = createPool({ connectionString: options.ownerUrl, max: concurrency, applicationName: 'fairway-tenant-migrations' });
  const result: MigrateTenantsResult = {
    target: targetName,
    total: 0,
    migrated: 0,
    skipped: 0,
    failed: [],
    plan: [],
    haltedAfterCanary: false,
    aborted: false,
  };
  try {
    const { rows } = await books.query<TenantRow>(
      `SELECT t.id, t.isolation_model, t.schema_name, t.db_server, t.db_name,
              m.version AS state_version, m.status AS state_status, m.target AS state_target
         FROM tenants t LEFT JOIN tenant_migrations m ON m.tenant_id = t.id
        WHERE t.isolation_model IN ('schema', 'database') AND t.status IN ('active', 'suspended')
          AND ($1::text[] IS NULL OR t.id = ANY($1::text[]))
        ORDER BY t.id`,
      [options.tenants ? [...options.tenants] : null],
    );
    const canary = new Set(options.canary ?? []);
    const phases: Array<['canary' | 'fleet', TenantRow[]]> = [
      ['canary', rows.filter((row) => canary.has(row.id))],
      ['fleet', rows.filter((row) => !canary.has(row.id))],
    ];
    result.total = rows.length;
    let completed = 0;
    for (const [phase, tenants] of phases) {
      if (tenants.length === 0) continue;
      const failedBefore = result.failed.length;
      const queue = [...tenants];
      const runOne = async (row: TenantRow): Promise<void> => {
        const tenant: MigratableTenant = {
          id: row.id,
          location: locationOf({
            isolationModel: row.isolation_model,
            schemaName: row.schema_name ?? undefined,
            dbServer: row.db_server ?? undefined,
            dbName: row.db_name ?? undefined,
          }) as MigratableTenant['location'],
        };
        if (!options.dryRun && row.state_status === 'done' && row.state_version === targetName && row.state_target === targetName) {
          result.skipped += 1;
          onProgress({ phase, tenantId: row.id, status: 'skipped', completed: ++completed, total: result.total });
          return;
        }
        try {
          if (!options.dryRun) {
            await books.query(
              `INSERT INTO tenant_migrations (tenant_id, version, status, target) VALUES ($1, $2, 'running', $3)
               ON CONFLICT (tenant_id) DO UPDATE SET status = 'running', target = $3, error = NULL, updated_at = now()`,
              [row.id, row.state_version ?? NO_VERSION, targetName],
            );
          }
          const step = await withTenantClient(tenant, options, schemaPool, (client) =>
            migrateTenantStore(client, tenant, { dir, names, target, dryRun: options.dryRun ?? false }),
          );
          if (options.dryRun) {
            result.plan.push(step);
            onProgress({ phase, tenantId: row.id, status: 'planned', step, completed: ++completed, total: result.total });
            return;
          }
          await books.query(`UPDATE tenant_migrations SET version = $2, status = 'done', updated_at = now() WHERE tenant_id = $1`, [row.id, step.to]);
          result.migrated += 1;
          onProgress({ phase, tenantId: row.id, status: 'done', step, completed: ++completed, total: result.total });
        } catch (err) {
          const message = (err as Error).message;
          result.failed.push({ tenantId: row.id, error: message });
          if (!options.dryRun) {
            await books
              .query(`UPDATE tenant_migrations SET status = 'failed', error = $2, updated_at = now() WHERE tenant_id = $1`, [row.id, message])
              .catch(() => undefined);
          }
          onProgress({ phase, tenantId: row.id, status: 'failed', error: message, completed: ++completed, total: result.total });
        }
      };
      const lanes = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let row = queue.shift(); row; row = queue.shift()) {
          if (options.signal?.aborted) {
            result.aborted = true;
            return;
          }
          await runOne(row);
        }
      });
      await Promise.all(lanes);
      if (result.aborted) break;
      if (phase === 'canary' && result.failed.length > failedBefore) {
        result.haltedAfterCanary = true;
        break;
      }
    }
    return result;
  } finally {
    await Promise.all([books.end(), schemaPool.end()]);
  }
}

/** Runs `fn` with a connection to the tenant's database as the owner: the shared pool for schemas, a client of its own for a database. */
async function withTenantClient<T>(
  tenant: MigratableTenant,
  options: MigrateTenantsOptions,
  schemaPool: Pool,
  fn: (client: ClientBase) => Promise<T>,
): Promise<T> {
  if (tenant.location.model === 'schema') {
    const client = await schemaPool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }
  const client = new Client({
    connectionString: databaseUrl(options.ownerUrl, tenant.location.server, tenant.location.database, options.servers),
    application_name: 'fairway-tenant-migrations',
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
