import type { Pool, PoolClient } from 'pg';
import { requireTenant, type TenantId } from '@fairway/tenant-context';
import {
  asQueryTimeout,
  currentQueryWorkload,
  limitsFromRow,
  queryTimeoutKind,
  type LimitsRow,
  type QueryTimeoutLimits,
  type QueryWorkload,
} from './query-timeouts';

/** A client inside a transaction that belongs to one tenant. */
export type TenantTx = Pick<PoolClient, 'query'> & { readonly tenantId: TenantId };

/**
 * Runs `fn` in a transaction on a connection of `pool`: COMMIT when it resolves, ROLLBACK when it
 * throws, the connection released either way. Every transaction in Fairway goes through here.
 * `repeatableRead`: one snapshot for the whole transaction (a consistent read of many statements).
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, options: { repeatableRead?: boolean } = {}): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(options.repeatableRead ? 'BEGIN ISOLATION LEVEL REPEATABLE READ' : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A TenantTx over `client` for `tenantId`. */
export function tenantTx(client: PoolClient, tenantId: TenantId): TenantTx {
  return Object.assign(Object.create(null) as object, { tenantId, query: client.query.bind(client) }) as TenantTx;
}

/** Options of a tenant transaction. */
export interface TenantScopeOptions {
  /** Whose limits apply: default the scope's ({@link withQueryWorkload}), else `interactive`. */
  workload?: QueryWorkload;
}

/**
 * How a tenant transaction enters the tenant's scope: one statement on `client` that sets
 * app.tenant_id (and whatever else the place needs) and the tenant's query time limits, all
 * transaction-local, and says which limits it set.
 */
export type EnterTenantScope = (client: PoolClient) => Promise<QueryTimeoutLimits | undefined>;

/**
 * THE way a tenant transaction opens, for every isolation model: BEGIN, `enter` (tenant and
 * limits, SET LOCAL), `fn`, COMMIT. A statement a limit cancelled surfaces as QueryTimeoutError
 * (QUERY_TIMEOUT) and is reported to {@link onQueryTimeout}'s listeners.
 *
 * While the connection is checked out it has an error listener: an idle-in-transaction timeout
 * ends the session with a FATAL that arrives with no query running, which pg emits as an 'error'
 * event and which, unheard, would crash the process. The broken connection is destroyed, not pooled.
 */
export async function tenantTransaction<T>(
  pool: Pool,
  tenantId: TenantId | string,
  workload: QueryWorkload,
  enter: EnterTenantScope,
  fn: (tx: TenantTx) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let sessionError: Error | undefined;
  const onError = (err: Error) => {
    sessionError ??= err;
  };
  client.on('error', onError);
  let limits: QueryTimeoutLimits | undefined;
  try {
    await client.query('BEGIN');
    limits = await enter(client);
    const result = await fn(tenantTx(client, tenantId as TenantId));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (!sessionError) await client.query('ROLLBACK').catch(() => undefined);
    throw asQueryTimeout(sessionError && queryTimeoutKind(sessionError) ? sessionError : err, tenantId, workload, limits);
  } finally {
    client.removeListener('error', onError);
    client.release(sessionError);
  }
}

/** Enters `tenantId`'s scope on the catalog database: fairway_enter_tenant() reads its limits there. */
function enterOnCatalog(tenantId: string, workload: QueryWorkload): EnterTenantScope {
  return async (client) => {
    // SET LOCAL, not SET, inside the function (set_config(..., true)): a session-level setting on a
    // pooled connection would leak this tenant and its limits to whoever borrows it next.
    const { rows } = await client.query<LimitsRow>('SELECT * FROM fairway_enter_tenant($1, $2)', [tenantId, workload]);
    return limitsFromRow(rows[0]);
  };
}

/**
 * Runs `fn` in a transaction on the catalog database whose row-level security is set to
 * `tenantId`, under the tenant's query time limits for the workload.
 *
 * The tenant is passed explicitly rather than read from AsyncLocalStorage inside the pg callback:
 * pg's pool callbacks are a known place where async context is lost.
 */
export function withTenantId<T>(pool: Pool, tenantId: TenantId, fn: (tx: TenantTx) => Promise<T>, options: TenantScopeOptions = {}): Promise<T> {
  const workload = options.workload ?? currentQueryWorkload();
  return tenantTransaction(pool, tenantId, workload, enterOnCatalog(tenantId, workload), fn);
}

/** Runs `fn` in a transaction for the tenant of the current context; throws outside a tenant scope. */
export function withTenant<T>(pool: Pool, fn: (tx: TenantTx) => Promise<T>, options: TenantScopeOptions = {}): Promise<T> {
  return withTenantId(pool, requireTenant('a tenant database transaction').tenantId, fn, options);
}
