import type { Pool, PoolClient } from 'pg';
import { requireTenant, type TenantId } from '@fairway/tenant-context';

/** A client inside a transaction that belongs to one tenant. */
export type TenantTx = Pick<PoolClient, 'query'> & { readonly tenantId: TenantId };

/**
 * Runs `fn` in a transaction on a connection of `pool`: COMMIT when it resolves, ROLLBACK when it
 * throws, the connection released either way. Every transaction in Fairway goes through here.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
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

/**
 * Runs `fn` in a transaction whose row-level security is set to `tenantId`.
 *
 * The tenant is passed explicitly rather than read from AsyncLocalStorage inside the pg callback:
 * pg's pool callbacks are a known place where async context is lost.
 */
export function withTenantId<T>(pool: Pool, tenantId: TenantId, fn: (tx: TenantTx) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    // set_config(..., true) is SET LOCAL: it ends with the transaction. A session-level SET on a
    // pooled connection would leak this tenant to whoever borrows the connection next.
    await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
    return fn(tenantTx(client, tenantId));
  });
}

/** Runs `fn` in a transaction for the tenant of the current context; throws outside a tenant scope. */
export function withTenant<T>(pool: Pool, fn: (tx: TenantTx) => Promise<T>): Promise<T> {
  return withTenantId(pool, requireTenant('a tenant database transaction').tenantId, fn);
}
