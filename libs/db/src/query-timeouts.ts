import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool } from 'pg';
import { QueryTimeoutError, type QueryTimeoutKind } from '@fairway/errors';

/**
 * The kinds of tenant work with separate query time limits (the rules and the admin contract are
 * @fairway/quota's): `interactive` for API requests, `heavy` for jobs.
 */
export type QueryWorkload = 'interactive' | 'heavy';

/** A tenant's query time limits for one workload, in ms; `null` is "not set" (the session's value stays). */
export interface QueryTimeoutLimits {
  statementTimeoutMs: number | null;
  lockTimeoutMs: number | null;
  idleInTransactionTimeoutMs: number | null;
}

/** Where a set of limits is stored: a plan (`*` is the default plan) or one tenant. */
export type QueryTimeoutScope = 'plan' | 'tenant';

/** The limits stored for a plan or a tenant, per workload (null: inherited). */
export interface StoredQueryTimeouts {
  scope: QueryTimeoutScope;
  name: string;
  interactive: QueryTimeoutLimits;
  heavy: QueryTimeoutLimits;
  /** ISO 8601 of the last change, '' if never set. */
  updatedAt: string;
  updatedBy: string;
}

/** A change: per workload, a number sets a limit, null puts it back to inheriting. */
export type QueryTimeoutsChange = Partial<Record<QueryWorkload, Partial<QueryTimeoutLimits>>>;

/** One cancelled tenant transaction, as {@link onQueryTimeout} listeners see it. */
export interface QueryTimeoutEvent {
  tenantId: string;
  kind: QueryTimeoutKind;
  workload: QueryWorkload;
}

const workloads = new AsyncLocalStorage<QueryWorkload>();

/**
 * Runs `fn` with every tenant transaction it opens (withTenantId, TenantDataRouter.withTenant)
 * under `workload`'s limits unless a call names its own. The worker runs each job in `heavy`;
 * everything else is `interactive`. A scope rather than a parameter: a job's transactions open in
 * libraries (records, job results) that need not know who called them.
 */
export function withQueryWorkload<T>(workload: QueryWorkload, fn: () => T): T {
  return workloads.run(workload, fn);
}

/** The workload of the current scope ({@link withQueryWorkload}), `interactive` outside one. */
export function currentQueryWorkload(): QueryWorkload {
  return workloads.getStore() ?? 'interactive';
}

const listeners = new Set<(event: QueryTimeoutEvent) => void>();

/**
 * Calls `listener` for every tenant transaction a query time limit ended (the services count them
 * per tenant in `fairway_query_timeouts_total`). Returns the function that stops it.
 */
export function onQueryTimeout(listener: (event: QueryTimeoutEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** PostgreSQL's codes: query_canceled, lock_not_available, idle_in_transaction_session_timeout. */
const QUERY_CANCELED = '57014';
const LOCK_NOT_AVAILABLE = '55P03';
const IDLE_IN_TRANSACTION_TIMEOUT = '25P03';

/** Which limit `err` says ended the statement, if one did (a cancel request or NOWAIT is not a limit). */
export function queryTimeoutKind(err: unknown): QueryTimeoutKind | undefined {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (code === QUERY_CANCELED && text.includes('statement timeout')) return 'statement';
  if (code === LOCK_NOT_AVAILABLE && text.includes('lock timeout')) return 'lock';
  if (code === IDLE_IN_TRANSACTION_TIMEOUT) return 'idle_in_transaction';
  return undefined;
}

/**
 * `err` as a QueryTimeoutError naming the tenant, the limit and the workload when a query time
 * limit caused it (listeners are told), else `err` itself.
 */
export function asQueryTimeout(err: unknown, tenantId: string, workload: QueryWorkload, limits: QueryTimeoutLimits | undefined): unknown {
  if (err instanceof QueryTimeoutError) return err;
  const kind = queryTimeoutKind(err);
  if (!kind) return err;
  const limitMs = kind === 'statement' ? limits?.statementTimeoutMs : kind === 'lock' ? limits?.lockTimeoutMs : limits?.idleInTransactionTimeoutMs;
  for (const listener of listeners) {
    try {
      listener({ tenantId, kind, workload });
    } catch {
      // A metrics listener's failure must not replace the error the caller gets.
    }
  }
  return new QueryTimeoutError(tenantId, kind, limitMs ?? null, workload, { cause: err });
}

/** A row of fairway_query_timeouts() or fairway_enter_tenant(). */
export interface LimitsRow {
  statement_timeout_ms: number | null;
  lock_timeout_ms: number | null;
  idle_in_transaction_timeout_ms: number | null;
}

/** A row of fairway_query_timeouts()/fairway_enter_tenant() as limits. */
export function limitsFromRow(row: LimitsRow | null | undefined): QueryTimeoutLimits {
  return {
    statementTimeoutMs: row?.statement_timeout_ms ?? null,
    lockTimeoutMs: row?.lock_timeout_ms ?? null,
    idleInTransactionTimeoutMs: row?.idle_in_transaction_timeout_ms ?? null,
  };
}

const COLUMN: Record<keyof QueryTimeoutLimits, keyof LimitsRow> = {
  statementTimeoutMs: 'statement_timeout_ms',
  lockTimeoutMs: 'lock_timeout_ms',
  idleInTransactionTimeoutMs: 'idle_in_transaction_timeout_ms',
};

const NONE: QueryTimeoutLimits = Object.freeze({ statementTimeoutMs: null, lockTimeoutMs: null, idleInTransactionTimeoutMs: null });

interface StoredRow extends LimitsRow {
  workload: QueryWorkload;
  updated_at: Date;
  updated_by: string;
}

/** The limits stored for a plan or a tenant (all null where nothing is stored). */
export async function getQueryTimeouts(pool: Pool, scope: QueryTimeoutScope, name: string): Promise<StoredQueryTimeouts> {
  const { rows } = await pool.query<StoredRow>(
    `SELECT workload, statement_timeout_ms, lock_timeout_ms, idle_in_transaction_timeout_ms, updated_at, updated_by
       FROM query_timeouts WHERE scope = $1 AND name = $2`,
    [scope, name],
  );
  const of = (w: QueryWorkload) => rows.find((r) => r.workload === w);
  const latest = rows.reduce<StoredRow | undefined>((a, r) => (!a || r.updated_at > a.updated_at ? r : a), undefined);
  return {
    scope,
    name,
    interactive: of('interactive') ? limitsFromRow(of('interactive')) : { ...NONE },
    heavy: of('heavy') ? limitsFromRow(of('heavy')) : { ...NONE },
    updatedAt: latest ? latest.updated_at.toISOString() : '',
    updatedBy: latest?.updated_by ?? '',
  };
}

/**
 * Applies `change` to the limits of a plan or a tenant (the owner role writes; validate with
 * @fairway/quota's parseQueryTimeoutsPatch first). The table's trigger notifies every router, so
 * the next transaction of the tenants concerned runs under the new limits.
 */
export async function setQueryTimeouts(
  pool: Pool,
  scope: QueryTimeoutScope,
  name: string,
  change: QueryTimeoutsChange,
  actor: string,
): Promise<StoredQueryTimeouts> {
  for (const workload of ['interactive', 'heavy'] as const) {
    const fields = Object.entries(change[workload] ?? {}) as Array<[keyof QueryTimeoutLimits, number | null]>;
    if (fields.length === 0) continue;
    const columns = fields.map(([field]) => COLUMN[field]);
    const values = fields.map(([, value]) => value);
    await pool.query(
      `INSERT INTO query_timeouts (scope, name, workload, ${columns.join(', ')}, updated_by)
       VALUES ($1, $2, $3, ${columns.map((_c, i) => `$${i + 5}`).join(', ')}, $4)
       ON CONFLICT (scope, name, workload) DO UPDATE SET
         ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [scope, name, workload, actor, ...values],
    );
  }
  return getQueryTimeouts(pool, scope, name);
}
