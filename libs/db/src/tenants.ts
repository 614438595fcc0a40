import type { Pool, PoolClient } from 'pg';
import type { TenantId } from '@fairway/tenant-context';

/** A tenant's lifecycle state. */
export type TenantStatus = 'provisioning' | 'active' | 'suspended' | 'offboarding' | 'deleted';

/** Where and how a tenant's data is isolated. */
export type IsolationModel = 'pooled' | 'schema' | 'database';

/** A tenant as the catalog holds it. */
export interface TenantRecord {
  id: TenantId;
  slug: string;
  displayName: string;
  status: TenantStatus;
  isolationModel: IsolationModel;
  plan: string;
  createdAt: Date;
  /** The tenant's schema (isolation model `schema`), else undefined. */
  schemaName?: string | undefined;
  /** The server of the tenant's database (model `database`): 'local' or a name in TENANT_DB_SERVERS. */
  dbServer?: string | undefined;
  /** The tenant's database (model `database`), else undefined. */
  dbName?: string | undefined;
}

interface TenantRow {
  id: string;
  slug: string;
  display_name: string;
  status: TenantStatus;
  isolation_model: IsolationModel;
  plan: string;
  created_at: Date;
  schema_name: string | null;
  db_server: string | null;
  db_name: string | null;
}

function toTenant(row: TenantRow): TenantRecord {
  return {
    id: row.id as TenantId,
    slug: row.slug,
    displayName: row.display_name,
    status: row.status,
    isolationModel: row.isolation_model,
    plan: row.plan,
    createdAt: row.created_at,
    schemaName: row.schema_name ?? undefined,
    dbServer: row.db_server ?? undefined,
    dbName: row.db_name ?? undefined,
  };
}

const COLUMNS = 'id, slug, display_name, status, isolation_model, plan, created_at, schema_name, db_server, db_name';

/** The tenant with `id`, or undefined. */
export async function findTenant(pool: Pool, id: string): Promise<TenantRecord | undefined> {
  const { rows } = await pool.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
  return rows[0] && toTenant(rows[0]);
}

/** Every tenant, ordered by id. */
export async function listTenants(pool: Pool): Promise<TenantRecord[]> {
  const { rows } = await pool.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants ORDER BY id`);
  return rows.map(toTenant);
}

/** The largest page {@link listTenantsPage} returns. */
export const MAX_TENANT_PAGE = 1000;

/** A page of the catalog and the cursor of the next one. */
export interface TenantPage {
  tenants: TenantRecord[];
  /** The id to pass as `after` for the next page; undefined on the last page. */
  nextAfter: TenantId | undefined;
}

/**
 * At most `limit` tenants (1 to {@link MAX_TENANT_PAGE}) whose id sorts after `after`, ordered by id:
 * a keyset page. It reads `limit + 1` rows of the primary key's index, so a page costs the same at
 * the first tenant and at the 50,000th, and a tenant created or deleted between two pages neither
 * shifts nor repeats the others (an OFFSET would).
 */
export async function listTenantsPage(pool: Pool | PoolClient, page: { after?: string | undefined; limit: number }): Promise<TenantPage> {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_TENANT_PAGE) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_TENANT_PAGE} (got ${page.limit})`);
  }
  const { rows } = await pool.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants WHERE $1::text IS NULL OR id > $1 ORDER BY id LIMIT $2`, [
    page.after ?? null,
    page.limit + 1,
  ]);
  const more = rows.length > page.limit;
  const tenants = (more ? rows.slice(0, page.limit) : rows).map(toTenant);
  return { tenants, nextAfter: more ? tenants[tenants.length - 1]?.id : undefined };
}

/**
 * Inserts a tenant, or returns the existing one with the same id (idempotent onboarding). The
 * location columns must match the isolation model (a CHECK constraint says so); provisionTenant()
 * fills them in.
 */
export async function upsertTenant(
  pool: Pool,
  tenant: {
    id: TenantId;
    slug?: string;
    displayName?: string;
    plan?: string;
    status?: TenantStatus;
    isolationModel?: IsolationModel;
    schemaName?: string;
    dbServer?: string;
    dbName?: string;
  },
): Promise<TenantRecord> {
  const { rows } = await pool.query<TenantRow>(
    `INSERT INTO tenants (id, slug, display_name, plan, status, isolation_model, schema_name, db_server, db_name)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET updated_at = tenants.updated_at
     RETURNING ${COLUMNS}`,
    [
      tenant.id,
      tenant.slug ?? tenant.id,
      tenant.displayName ?? tenant.id,
      tenant.plan ?? 'standard',
      tenant.status ?? 'active',
      tenant.isolationModel ?? 'pooled',
      tenant.schemaName ?? null,
      tenant.dbServer ?? null,
      tenant.dbName ?? null,
    ],
  );
  return toTenant(rows[0] as TenantRow);
}

/**
 * Changes a tenant's status; returns the updated tenant, or undefined if it does not exist. Pass a
 * client inside an open transaction to change it together with its audit entry.
 */
export async function setTenantStatus(pool: Pool | Pick<PoolClient, 'query'>, id: string, status: TenantStatus): Promise<TenantRecord | undefined> {
  const { rows } = await pool.query<TenantRow>(`UPDATE tenants SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, status]);
  return rows[0] && toTenant(rows[0]);
}
