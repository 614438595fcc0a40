import { Client, type Pool } from 'pg';
import { NotFoundError, UpstreamUnavailableError } from '@fairway/errors';
import { currentTenant, requireTenant, type TenantContext, type TenantId } from '@fairway/tenant-context';
import { createPool } from '../pool';
import type { TenantStatus } from '../tenants';
import { currentQueryWorkload, limitsFromRow, type LimitsRow, type QueryTimeoutLimits, type QueryWorkload } from '../query-timeouts';
import type { ReadReplica } from '../read-replica';
import { serverUnreachable } from '../server-unreachable';
import { tenantTransaction, type TenantScopeOptions, type TenantTx } from '../with-tenant';
import { ConnectionBudget, type ConnectionBudgetStats } from './connection-budget';
import { databaseUrl, quoteIdent, type TenantDbServers, type TenantLocation, type TenantRoute } from './tenant-location';

/** The channel the catalog's trigger notifies on every change to a tenant's entry. */
export const TENANT_CATALOG_CHANNEL = 'fairway_tenant_catalog';

/**
 * The SQLSTATE of a write refused because the tenant's records are moving to another isolation
 * model (libs/tenant-move): raised by the move's fence on the old store, during the fence and after
 * the catalog switch (a router that has not seen the switch yet). The router answers it as a
 * retriable UpstreamUnavailableError (503 with Retry-After): the retry reaches the new store.
 */
export const TENANT_MOVING_SQLSTATE = 'FW503';

/** Options of a TenantDataRouter. */
export interface TenantDataRouterOptions {
  /** A pool on the catalog database as the application role: pooled and schema tenants, catalog reads. */
  catalogPool: Pool;
  /** The URL of that pool: tenant databases on the 'local' server are reached by replacing its database. */
  catalogUrl: string;
  /** Other servers that hold tenant databases: name -> URL with the same role's credentials. */
  servers?: TenantDbServers;
  /** The most connections all tenant-database pools together may hold (default 40). */
  maxConnections?: number;
  /** The most connections one tenant database's pool may hold (default 2). */
  perDatabaseMax?: number;
  /** A tenant-database pool unused for this long is closed (default 30 s). */
  idleMs?: number;
  /** How long a caller waits for a connection of the budget (default 10 s). */
  acquireTimeoutMs?: number;
  /** A cached route is re-read after this long even without a notification (default 60 s). */
  cacheTtlMs?: number;
  /** Listen for catalog changes (default true). Without it, routes expire only by TTL. */
  listen?: boolean;
  applicationName?: string;
  onError?: (err: Error) => void;
  /**
   * The hot standby of the catalog's server, for reads that ask for it ({@link TenantDataOptions.replica}):
   * pooled and schema tenants read through its pool, database tenants on the `local` server through
   * a pool on their database there (in the same connection budget).
   */
  replica?: ReadReplica;
}

/** Options of one tenant data transaction. */
export interface TenantDataOptions extends TenantScopeOptions {
  /**
   * A read-only transaction that tolerates staleness: it runs on the replica while the replica's
   * lag is at most `maxLagMs` (default the replica's), else, or with the replica down, on the
   * primary (counted as a fallback). Without a replica configured, always the primary.
   */
  replica?: boolean;
  maxLagMs?: number;
}

/** Statuses whose data may be read and written. Suspension is enforced by the edge and the scheduler. */
const SERVING: ReadonlySet<TenantStatus> = new Set(['active', 'suspended']);

/** A tenant's query time limits per workload, read with its route and cached with it. */
type TenantQueryTimeouts = Readonly<Record<QueryWorkload, QueryTimeoutLimits>>;

interface LoadedRoute {
  route: TenantRoute;
  timeouts: TenantQueryTimeouts;
}

interface CachedRoute extends LoadedRoute {
  expiresAt: number;
}

interface RouteRow {
  id: string;
  status: TenantStatus;
  isolation_model: 'pooled' | 'schema' | 'database';
  schema_name: string | null;
  db_server: string | null;
  db_name: string | null;
  interactive: LimitsRow | null;
  heavy: LimitsRow | null;
}

/**
 * The one data-access entry point for tenant data. `withTenant(tenant, tx => ...)` looks the tenant
 * up in the catalog (cached), and runs `fn` in a transaction on the right place:
 *
 * - pooled: the catalog database, `app.tenant_id` set locally, row-level security filters rows;
 * - schema: the catalog database, `search_path` set locally to the tenant's schema (and
 *   `app.tenant_id` too, so a shared table reached by mistake is still filtered);
 * - database: a pool on the tenant's own database, opened on demand under a global connection
 *   budget and closed when idle.
 *
 * Domain code writes the same SQL for all three and never learns which model it runs on.
 * The cache is invalidated by LISTEN on {@link TENANT_CATALOG_CHANNEL} (a trigger on `tenants`
 * notifies every change), with a TTL as a safety net for notifications missed while disconnected.
 */
export class TenantDataRouter {
  private readonly cache = new Map<string, CachedRoute>();
  private readonly loading = new Map<string, Promise<LoadedRoute>>();
  private readonly budget: ConnectionBudget;
  private readonly cacheTtlMs: number;
  private listener: Client | undefined;
  private listenRetry: NodeJS.Timeout | undefined;
  private closed = false;
  private lookups = 0;
  // Bumped by every invalidation: a catalog read that started before a notification must not
  // cache what it read, since the row may have changed after it was read.
  private generation = 0;

  constructor(private readonly options: TenantDataRouterOptions) {
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.budget = new ConnectionBudget({
      maxConnections: options.maxConnections ?? 40,
      perPoolMax: options.perDatabaseMax ?? 2,
      idleMs: options.idleMs ?? 30_000,
      acquireTimeoutMs: options.acquireTimeoutMs ?? 10_000,
      createPool: (url, max) =>
        createPool({
          connectionString: url,
          max,
          applicationName: options.applicationName ?? 'fairway-tenant-data',
          ...(options.onError ? { onError: options.onError } : {}),
        }),
    });
  }

  /** Starts listening for catalog changes. Optional: without it the first withTenant() starts it. */
  async start(): Promise<void> {
    if (this.options.listen === false || this.listener || this.closed) return;
    const client = new Client({
      connectionString: this.options.catalogUrl,
      application_name: `${this.options.applicationName ?? 'fairway-tenant-data'}:catalog-listener`,
    });
    client.on('notification', (msg) => {
      if (msg.channel === TENANT_CATALOG_CHANNEL && msg.payload) void this.invalidate(msg.payload);
    });
    client.on('error', (err) => this.listenerLost(client, err));
    client.on('end', () => this.listenerLost(client));
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${TENANT_CATALOG_CHANNEL}`);
    } catch (err) {
      this.listenerLost(client, err as Error);
      throw err;
    }
  }

  /**
   * Runs `fn` in a transaction on the data of `tenant` (an id or a TenantContext; the current
   * context when omitted). Throws NotFoundError for an unknown, offboarded or deleted tenant.
   * The transaction runs under the tenant's query time limits for the workload (the option, else
   * the scope's, see withQueryWorkload), read from the catalog with the route.
   */
  async withTenant<T>(tenant: TenantId | TenantContext | undefined, fn: (tx: TenantTx) => Promise<T>, options: TenantDataOptions = {}): Promise<T> {
    const tenantId = tenant === undefined ? requireTenant('tenant data access').tenantId : typeof tenant === 'string' ? tenant : tenant.tenantId;
    const workload = options.workload ?? currentQueryWorkload();
    const { route, timeouts } = await this.loaded(tenantId);
    const location = route.location;
    const limits = timeouts[workload];
    const replica = this.options.replica;
    if (options.replica && replica) {
      const onReplica = await this.onReplica(replica, tenantId, workload, location, limits, fn, options.maxLagMs);
      if (onReplica.ran) return onReplica.result;
    }
    if (location.model === 'database') {
      const url = databaseUrl(this.options.catalogUrl, location.server, location.database, this.options.servers);
      return this.budget.use(`${location.server}/${location.database}`, url, (pool) => transaction(pool, tenantId, workload, location, limits, fn));
    }
    return transaction(this.options.catalogPool, tenantId, workload, location, limits, fn);
  }

  /**
   * Runs `fn` on the replica if the replica may serve it; `ran: false` sends it to the primary (the
   * replica lags, is down, or has no copy of the tenant's database server). A replica that fails
   * to connect before `fn` started is a fallback too; an error of `fn` itself is the caller's.
   */
  private async onReplica<T>(
    replica: ReadReplica,
    tenantId: string,
    workload: QueryWorkload,
    location: TenantLocation,
    limits: QueryTimeoutLimits,
    fn: (tx: TenantTx) => Promise<T>,
    maxLagMs: number | undefined,
  ): Promise<{ ran: true; result: T } | { ran: false }> {
    if (location.model === 'database' && location.server !== 'local') {
      replica.fallback('unavailable');
      return { ran: false };
    }
    const target = await replica.choose(maxLagMs);
    if (target.on === 'primary') return { ran: false };
    let started = false;
    const run = (tx: TenantTx) => {
      started = true;
      return fn(tx);
    };
    try {
      if (location.model === 'database') {
        const url = databaseUrl(replica.replicaUrl, 'local', location.database);
        return {
          ran: true,
          result: await this.budget.use(`replica:${location.database}`, url, (pool) => transaction(pool, tenantId, workload, location, limits, run)),
        };
      }
      return { ran: true, result: await transaction(target.pool, tenantId, workload, location, limits, run) };
    } catch (err) {
      if (started || !serverUnreachable(err)) throw err;
      replica.markUnavailable();
      replica.fallback('unavailable');
      return { ran: false };
    }
  }

  /** Like withTenant() for the tenant of the current context (currentTenant()). */
  withCurrentTenant<T>(fn: (tx: TenantTx) => Promise<T>, options: TenantDataOptions = {}): Promise<T> {
    return this.withTenant(currentTenant(), fn, options);
  }

  /** The tenant's query time limits per workload, as its transactions apply them now. */
  async queryTimeouts(tenantId: string): Promise<TenantQueryTimeouts> {
    return (await this.loaded(tenantId)).timeouts;
  }

  /** The tenant's route, from the cache or the catalog. */
  async route(tenantId: string): Promise<TenantRoute> {
    return (await this.loaded(tenantId)).route;
  }

  private async loaded(tenantId: string): Promise<LoadedRoute> {
    if (this.options.listen !== false && !this.listener && !this.closed) {
      await this.start().catch((err: Error) => this.options.onError?.(err));
    }
    const cached = this.cache.get(tenantId);
    let loaded: LoadedRoute;
    if (cached && cached.expiresAt > Date.now()) {
      loaded = cached;
    } else {
      let loading = this.loading.get(tenantId);
      if (!loading) {
        loading = this.load(tenantId).finally(() => this.loading.delete(tenantId));
        this.loading.set(tenantId, loading);
      }
      loaded = await loading;
    }
    const route = loaded.route;
    if (route.status === 'provisioning') {
      throw new UpstreamUnavailableError('tenant-provisioning', `tenant '${tenantId}' is still being provisioned; retry shortly`, 1);
    }
    if (!SERVING.has(route.status)) throw new NotFoundError('tenant', tenantId);
    return loaded;
  }

  /**
   * Forgets the cached route of `tenantId` and closes its database pool once idle; `*` (a plan's
   * query time limits changed) forgets every cached route and keeps the pools.
   */
  async invalidate(tenantId: string): Promise<void> {
    this.generation += 1;
    if (tenantId === '*') {
      this.cache.clear();
      return;
    }
    const cached = this.cache.get(tenantId);
    this.cache.delete(tenantId);
    const location = cached?.route.location;
    if (location?.model === 'database') await this.budget.evict(`${location.server}/${location.database}`).catch(() => undefined);
  }

  /** Catalog reads so far (cache misses), and the connection budget's state. */
  stats(): { catalogLookups: number; cachedRoutes: number; listening: boolean; budget: ConnectionBudgetStats } {
    return { catalogLookups: this.lookups, cachedRoutes: this.cache.size, listening: this.listener !== undefined, budget: this.budget.stats() };
  }

  /** Stops listening and closes every tenant-database pool (not the catalog pool, which the caller owns). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.listenRetry);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.budget.end();
  }

  private async load(tenantId: string): Promise<LoadedRoute> {
    this.lookups += 1;
    const generation = this.generation;
    const { rows } = await this.options.catalogPool.query<RouteRow>(
      `SELECT id, status, isolation_model, schema_name, db_server, db_name,
              (SELECT row_to_json(q) FROM fairway_query_timeouts(id, 'interactive') AS q) AS interactive,
              (SELECT row_to_json(q) FROM fairway_query_timeouts(id, 'heavy') AS q) AS heavy
         FROM tenants WHERE id = $1`,
      [tenantId],
    );
    const row = rows[0];
    if (!row) throw new NotFoundError('tenant', tenantId);
    const location: TenantLocation =
      row.isolation_model === 'schema' && row.schema_name
        ? { model: 'schema', schema: row.schema_name }
        : row.isolation_model === 'database' && row.db_name
          ? { model: 'database', server: row.db_server ?? 'local', database: row.db_name }
          : { model: 'pooled' };
    const loaded: LoadedRoute = {
      route: { tenantId, status: row.status, location },
      timeouts: { interactive: limitsFromRow(row.interactive), heavy: limitsFromRow(row.heavy) },
    };
    if (generation === this.generation) this.cache.set(tenantId, { ...loaded, expiresAt: Date.now() + this.cacheTtlMs });
    return loaded;
  }

  private listenerLost(client: Client, err?: Error): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    if (err) this.options.onError?.(err);
    // Notifications sent while we were away are lost: every cached route may be stale.
    this.generation += 1;
    this.cache.clear();
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.listenRetry = setTimeout(() => void this.start().catch(() => undefined), 1_000);
    this.listenRetry.unref();
  }
}

function transaction<T>(
  pool: Pool,
  tenantId: TenantId | string,
  workload: QueryWorkload,
  location: TenantLocation,
  limits: QueryTimeoutLimits,
  fn: (tx: TenantTx) => Promise<T>,
): Promise<T> {
  const moving = (err: unknown): never => {
    if ((err as { code?: unknown } | null)?.code !== TENANT_MOVING_SQLSTATE) throw err;
    throw new UpstreamUnavailableError('tenant-moving', `the records of tenant '${tenantId}' are moving to another isolation model; retry shortly`, 1, {
      cause: err,
    });
  };
  return tenantTransaction(
    pool,
    tenantId,
    workload,
    async (client) => {
      // Every setting is transaction-local (set_config's third argument): the connection goes back
      // to a shared pool, and the next borrower must not inherit this tenant's scope or its limits.
      // The limits come with the cached route (a tenant database has no catalog to read them from);
      // one not set keeps the session's value.
      await client.query(
        `SELECT set_config('app.tenant_id', $1, true),
              set_config('search_path', coalesce($2, current_setting('search_path')), true),
              set_config('statement_timeout', coalesce($3::text, current_setting('statement_timeout')), true),
              set_config('lock_timeout', coalesce($4::text, current_setting('lock_timeout')), true),
              set_config('idle_in_transaction_session_timeout', coalesce($5::text, current_setting('idle_in_transaction_session_timeout')), true)`,
        [
          tenantId,
          location.model === 'schema' ? quoteIdent(location.schema) : null,
          limits.statementTimeoutMs,
          limits.lockTimeoutMs,
          limits.idleInTransactionTimeoutMs,
        ],
      );
      return limits;
    },
    fn,
  ).catch(moving);
}
