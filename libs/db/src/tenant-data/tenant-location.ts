import { createHash } from 'node:crypto';
import { ConfigInvalidError } from '@fairway/errors';
import type { IsolationModel, TenantRecord, TenantStatus } from '../tenants';

/** Where one tenant's data lives, as the catalog says. */
export type TenantLocation =
  | { readonly model: 'pooled' }
  | { readonly model: 'schema'; readonly schema: string }
  | { readonly model: 'database'; readonly server: string; readonly database: string };

/** A tenant's route: its status and where its data lives. */
export interface TenantRoute {
  readonly tenantId: string;
  readonly status: TenantStatus;
  readonly location: TenantLocation;
}

/** The server name meaning "the server the catalog database is on". */
export const LOCAL_SERVER = 'local';

/** Named PostgreSQL servers other than the catalog's: server name -> connection URL (any database). */
export type TenantDbServers = Readonly<Record<string, string>>;

const MAX_IDENTIFIER = 63; // PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated.

function identifier(prefix: string, tenantId: string): string {
  // Tenant ids are [a-z0-9-]: mapping '-' to '_' is one-to-one and yields a plain identifier.
  const name = `${prefix}${tenantId.replace(/-/g, '_')}`;
  if (name.length <= MAX_IDENTIFIER) return name;
  // Truncation could make two tenants collide: keep a digest of the whole id instead.
  const digest = createHash('sha256').update(tenantId).digest('hex').slice(0, 10);
  return `${name.slice(0, MAX_IDENTIFIER - digest.length - 1)}_${digest}`;
}

/** The schema of a `schema` tenant: `tenant_<id with dashes as underscores>`. */
export function schemaNameFor(tenantId: string): string {
  return identifier('tenant_', tenantId);
}

/**
 * The database of a `database` tenant: `<catalog database>_t_<id>`, so two Fairway installations
 * on one server (say the dev stack and the test suite) never share a tenant database.
 */
export function databaseNameFor(catalogDatabase: string, tenantId: string): string {
  return identifier(`${catalogDatabase.replace(/[^a-z0-9_]/g, '_')}_t_`, tenantId);
}

/** The location a catalog entry describes. */
export function locationOf(tenant: Pick<TenantRecord, 'isolationModel' | 'schemaName' | 'dbServer' | 'dbName'>): TenantLocation {
  const model: IsolationModel = tenant.isolationModel;
  if (model === 'schema' && tenant.schemaName) return { model, schema: tenant.schemaName };
  if (model === 'database' && tenant.dbName) return { model, server: tenant.dbServer ?? LOCAL_SERVER, database: tenant.dbName };
  return { model: 'pooled' };
}

/**
 * The URL of `database` on `server`: for 'local', `baseUrl` (the catalog database's URL) with its
 * database replaced; else the URL `servers` names, with its database replaced. Credentials come
 * from the URL used, never from the catalog.
 */
export function databaseUrl(baseUrl: string, server: string, database: string, servers: TenantDbServers = {}): string {
  const base = server === LOCAL_SERVER ? baseUrl : servers[server];
  if (!base) {
    throw new ConfigInvalidError(`tenant database server '${server}' is not configured: add it to TENANT_DB_SERVERS as {"${server}": "postgres://..."}`);
  }
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** The database name of a connection URL. */
export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** `name` quoted as an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
