import { createHash, randomUUID } from 'node:crypto';
import { Client, type Pool, type PoolClient } from 'pg';
import { appendAudit } from '@fairway/audit';
import {
  createTenantDatabase,
  databaseNameFor,
  databaseOf,
  DbRole,
  findTenant,
  inTransaction,
  LOCAL_SERVER,
  locationOf,
  migrateTenantStore,
  schemaNameFor,
  tenantMigrationNames,
  TENANT_MIGRATIONS_DIR,
  type IsolationModel,
  type MigratableTenant,
  type TenantDbServers,
  type TenantLocation,
} from '@fairway/db';
import { NotFoundError, ValidationError } from '@fairway/errors';
import {
  deleteRowsExcept,
  dropTriggers,
  ensureMoveObjects,
  ident,
  inStore,
  installTriggers,
  readBatch,
  readRows,
  CHUNK_DIGEST,
  DIGEST_COLUMNS,
  StorePools,
  storeOf,
  upsertRows,
  walFlushed,
  lastRecordId,
  type MoveStore,
} from './move-store';
import { BulkPace, type BulkPaceReport } from './bulk-pace';
import { NeighbourWaits, type NeighbourWaitsOptions } from './neighbour-waits';
import { TenantMoveConflictError } from './errors';

/** The audit action of every step of a move (after: the move's id and phase). */
export const MOVE_AUDIT_ACTION = 'tenant.move';

/** The phases of a move, in order; `rollback` replaces the rest after a failure. */
export const MOVE_PHASES = ['prepare', 'capture', 'copy', 'catch-up', 'fence', 'verify', 'grace', 'cleanup', 'finished'] as const;
export type MovePhase = (typeof MOVE_PHASES)[number] | 'rollback';
export type MoveState = 'running' | 'done' | 'failed' | 'rolled-back';

/** How the move engine reaches PostgreSQL: as the owner role, like provisioning. */
export interface TenantMoveDeps {
  /** A pool on the catalog database as the owner (at least 3 connections: a catch-up holds two). */
  ownerPool: Pool;
  ownerUrl: string;
  /** Other servers for tenant databases: name -> owner URL. */
  servers?: TenantDbServers;
  migrationsDir?: string;
}

/** What an operator asks for. */
export interface StartMoveOptions {
  to: IsolationModel;
  /** For `database`: the server ('local' by default). */
  dbServer?: string;
  /** How long the old copy is kept after a verified switch (for a rollback by hand and stale routers). */
  graceMs: number;
  actor: string;
  reason?: string;
}

/**
 * The bulk pace a control plane moves tenants at unless TENANT_MOVE_ROWS_PER_SECOND says otherwise:
 * 1,000,000 records in under a minute of copy, while the servers' other tenants keep their latency
 * (bench:move measures both, docs/benchmarks.md).
 */
export const DEFAULT_MOVE_ROWS_PER_SECOND = 20_000;

/** The share of the wall clock a paced move's bulk work takes at most unless TENANT_MOVE_MAX_DUTY says otherwise. */
export const DEFAULT_MOVE_MAX_DUTY = 0.5;

/** How a runner runs (tests and the bench make it small or stop it). */
export interface RunMoveOptions {
  /** Rows per bulk batch at most (default 5,000; the batch itself when unpaced). */
  batchRows?: number;
  /**
   * Paces the bulk work - the copy, the verification's reads and the removal of a pooled copy - to
   * at most this many rows a second, in short batches that back off while the server is busy
   * ({@link BulkPace}), so that the tenants sharing the servers keep their latency (default 0: as
   * fast as the servers go, in batches of `batchRows`). The catch-up and the fence are never paced.
   */
  rowsPerSecond?: number;
  /**
   * The highest share of the wall clock the paced bulk work may take, in (0, 1] (default
   * {@link DEFAULT_MOVE_MAX_DUTY}): after a batch of d ms the runner waits at least
   * d * (1 - maxDuty) / maxDuty ms ({@link BulkPace}). Only with `rowsPerSecond`.
   */
  maxDuty?: number;
  /**
   * Polls the server for how many of the other tenants' sessions wait on WAL or on their client
   * ({@link neighbourWaitProbe}); with it the pace also backs off while they wait more than in the
   * polls taken before the first bulk phase ({@link NeighbourWaits}). Only with `rowsPerSecond`.
   */
  neighbourWaits?: { probe: () => Promise<number>; options?: NeighbourWaitsOptions };
  /**
   * The copy's batches, their cursor saves and the removal of a pooled copy commit without waiting
   * for the WAL flush (`SET LOCAL synchronous_commit = off`), so that the other tenants' commits on
   * the same server do not queue behind the move's flushes. A crash of a server can undo the last
   * of those commits; the move stays whole because a resumed copy starts from what its target
   * really holds (never past it, whatever the saved cursor says), the copy's end waits for the
   * target's WAL flush before the move records the catch-up, and a removal is repeated until its
   * own synchronous end. The catch-up, the fence, the switch and every phase change stay
   * synchronous (docs/data-isolation.md, "The bulk pace"). Default true: in bench:move it made
   * moves about a quarter shorter at no measurable cost to the other tenants' latency (it did not lower it
   * either); false commits everything synchronously.
   */
  asyncBulkCommit?: boolean;
  /** Told how the pace went at the end of each bulk phase (copy, verify, cleanup). */
  onPace?: (phase: MovePhase, pace: BulkPaceReport) => void;
  /** The fence is entered once a catch-up pass applied at most this many changes (default 500). */
  fenceBacklog?: number;
  /** Catch-up passes before the fence at most (default 20): a writer faster than the copy fails the move. */
  maxCatchUpPasses?: number;
  /**
   * Stops the runner at its next step with everything left as it is, exactly as a crash would (the
   * row stays `running`; another runner takes it over once its heartbeat is stale). Also how a
   * control plane that shuts down hands its moves over.
   */
  signal?: AbortSignal;
  /**
   * Awaited, with the phase, before each batch of the bulk work (the copy, the verification, the
   * removal of a pooled copy) and before the catch-up's first pass: while it is pending the move
   * does nothing (no statement in flight, no transaction open; the heartbeat goes on), so a control
   * plane can pause a move, and bench:move --paired pauses it in alternate windows to compare the
   * other tenants' latency with and without the move's work under the same load of the machine.
   * Never awaited from the catch-up's first pass to the switch: a pause there would only grow the
   * backlog the fence drains. An aborted `signal` ends the wait (and the run).
   */
  hold?: (phase: MovePhase) => Promise<void> | void;
  /** Told each phase as it begins (after its row is written). */
  onPhase?: (phase: MovePhase, status: TenantMoveStatus) => void | Promise<void>;
  /**
   * How often the runner beats its heartbeat on its own, whatever it is doing (default 5 s). A move
   * is taken over once its heartbeat is older than the sweeper's stale limit: keep this well below.
   */
  heartbeatMs?: number;
  /**
   * Told progress after each batch of the copy and each catch-up pass, and once in the cleanup of a
   * pooled copy, when its sweep in heap order has passed the table's end (awaited).
   */
  onProgress?: (status: Pick<TenantMoveStatus, 'phase' | 'copied' | 'sourceRows' | 'caughtUp'>) => void | Promise<void>;
}

/** A move as the catalog records it (the admin API's status resource). */
export interface TenantMoveStatus {
  id: string;
  tenantId: string;
  state: MoveState;
  phase: MovePhase;
  source: TenantLocation;
  target: TenantLocation;
  /** Records copied by the keyset copy (of about `sourceRows` when it began). */
  copied: number;
  sourceRows: number | null;
  /** Captured changes applied by the catch-up passes (including the fence's last). */
  caughtUp: number;
  catchUpPasses: number;
  /** Whether the catalog points at the target. */
  switched: boolean;
  /** How long writes were refused: from the fence's barrier to the switch's commit. */
  fenceMs: number | null;
  verified: VerifyReport | null;
  /** Duration of each finished phase, ms. */
  phaseMs: Record<string, number>;
  graceMs: number;
  graceUntil: string | null;
  startedBy: string;
  reason: string | null;
  startedAt: string;
  heartbeatAt: string;
  finishedAt: string | null;
  error: string | null;
}

/** What the verification compared: counts and an ordered digest of the records of both sides. */
export interface VerifyReport {
  /** Rows compared on each side (those not written again after the switch). */
  rows: number;
  sourceRows: number;
  targetRows: number;
  /** Rows left out because the tenant changed them in the target after the switch. */
  changedAfterSwitch: number;
  chunks: number;
  /** MD5 of the chunk digests (the XOR of the chunk's records' 64-bit hashes) in key order, equal on both sides. */
  digest: string;
}

interface MoveRow {
  id: string;
  back_id: string;
  tenant_id: string;
  run_id: string;
  state: MoveState;
  phase: MovePhase;
  source: TenantLocation;
  target: TenantLocation;
  copy_after: string | null;
  copied: string;
  source_rows: string | null;
  caught_up: string;
  catch_up_passes: number;
  switched: boolean;
  fence_ms: number | null;
  verified: VerifyReport | null;
  phase_ms: Record<string, number>;
  grace_ms: string;
  grace_until: Date | null;
  started_by: string;
  reason: string | null;
  started_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
  error: string | null;
}

function toStatus(row: MoveRow): TenantMoveStatus {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    state: row.state,
    phase: row.phase,
    source: row.source,
    target: row.target,
    copied: Number(row.copied),
    sourceRows: row.source_rows === null ? null : Number(row.source_rows),
    caughtUp: Number(row.caught_up),
    catchUpPasses: row.catch_up_passes,
    switched: row.switched,
    fenceMs: row.fence_ms,
    verified: row.verified,
    phaseMs: row.phase_ms,
    graceMs: Number(row.grace_ms),
    graceUntil: row.grace_until?.toISOString() ?? null,
    startedBy: row.started_by,
    reason: row.reason,
    startedAt: row.started_at.toISOString(),
    heartbeatAt: row.heartbeat_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    error: row.error,
  };
}

/** The runner was taken over (its run_id is no longer the row's) or stopped: it leaves at once. */
class RunnerStopped extends Error {
  constructor(why: string) {
    super(`the move's runner stopped: ${why}`);
  }
}

/** A move of `tenantId`, or undefined. */
export async function readMove(pool: Pool, tenantId: string, moveId: string): Promise<TenantMoveStatus | undefined> {
  const { rows } = await pool.query<MoveRow>('SELECT * FROM tenant_moves WHERE id = $1 AND tenant_id = $2', [moveId, tenantId]);
  return rows[0] && toStatus(rows[0]);
}

/** The tenant's moves, newest first. */
export async function listMoves(pool: Pool, tenantId: string, limit = 20): Promise<TenantMoveStatus[]> {
  const { rows } = await pool.query<MoveRow>('SELECT * FROM tenant_moves WHERE tenant_id = $1 ORDER BY started_at DESC LIMIT $2', [tenantId, limit]);
  return rows.map(toStatus);
}

/** Where `model` puts the tenant (the same names provisioning uses). */
export function targetLocation(deps: Pick<TenantMoveDeps, 'ownerUrl'>, tenantId: string, model: IsolationModel, dbServer?: string): TenantLocation {
  if (model === 'pooled') return { model };
  if (model === 'schema') return { model, schema: schemaNameFor(tenantId) };
  return { model, server: dbServer ?? LOCAL_SERVER, database: databaseNameFor(databaseOf(deps.ownerUrl), tenantId) };
}

function sameLocation(a: TenantLocation, b: TenantLocation): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Records a new move of `tenantId` to `options.to` (phase `prepare`, audited) and returns it with
 * the run id its runner must use ({@link runTenantMove}). Refused: an unknown or deleted tenant
 * (NotFoundError), a tenant not active or suspended and a database server this control plane does
 * not know (ValidationError), a tenant already moving, a target equal to where it is and a target
 * holding records of the tenant already (TenantMoveConflictError, a 409).
 */
export async function startTenantMove(deps: TenantMoveDeps, tenantId: string, options: StartMoveOptions): Promise<{ move: TenantMoveStatus; runId: string }> {
  const tenant = await findTenant(deps.ownerPool, tenantId);
  if (!tenant || tenant.status === 'deleted' || tenant.status === 'offboarding') throw new NotFoundError('tenant', tenantId);
  if (tenant.status !== 'active' && tenant.status !== 'suspended') {
    throw new ValidationError(`tenant '${tenantId}' is ${tenant.status}: only an active or suspended tenant can be moved`, [
      { path: 'tenant', message: `status ${tenant.status}` },
    ]);
  }
  if (options.dbServer !== undefined && options.to !== 'database') {
    throw new ValidationError('dbServer applies to a move to the database model only', [{ path: 'dbServer', message: 'only with to=database' }]);
  }
  if (options.dbServer !== undefined && options.dbServer !== LOCAL_SERVER && !deps.servers?.[options.dbServer]) {
    throw new ValidationError(`database server '${options.dbServer}' is not configured: add it to TENANT_DB_SERVERS`, [
      { path: 'dbServer', message: 'unknown server' },
    ]);
  }
  // A running move first: while it runs the catalog still names its source, which may be this target.
  const running = await runningMoveOf(deps.ownerPool, tenantId);
  if (running) throw alreadyMoving(tenantId, running);
  const source = locationOf(tenant);
  const target = targetLocation(deps, tenantId, options.to, options.dbServer);
  if (sameLocation(source, target)) {
    throw new TenantMoveConflictError(tenantId, 'already-there', `tenant '${tenantId}' is already in the ${options.to} model there: nothing to move`);
  }
  // A move starts on an empty target: rows there would be leftovers of something else, which the
  // copy would mix in and a rollback would remove.
  const leftovers = await recordsAt(deps, tenantId, target);
  if (leftovers > 0) {
    throw new TenantMoveConflictError(
      tenantId,
      'target-not-empty',
      `the target ${describe(target)} already holds ${leftovers} records of tenant '${tenantId}': remove them first`,
    );
  }
  const id = randomUUID();
  const runId = randomUUID();
  try {
    const row = await inTransaction(deps.ownerPool, async (tx) => {
      const { rows } = await tx.query<MoveRow>(
        `INSERT INTO tenant_moves (id, back_id, tenant_id, run_id, state, phase, source, target, grace_ms, started_by, reason)
         VALUES ($1, $2, $3, $4, 'running', 'prepare', $5, $6, $7, $8, $9) RETURNING *`,
        [id, randomUUID(), tenantId, runId, JSON.stringify(source), JSON.stringify(target), options.graceMs, options.actor, options.reason ?? null],
      );
      await appendAudit(tx, {
        chain: tenantId,
        actor: options.actor,
        action: MOVE_AUDIT_ACTION,
        target: tenantId,
        before: { location: source },
        after: { moveId: id, phase: 'prepare', to: target, graceMs: options.graceMs },
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      return rows[0] as MoveRow;
    });
    return { move: toStatus(row), runId };
  } catch (err) {
    // Another start won the race to the one running move a tenant may have (a unique index).
    if ((err as { code?: string }).code === '23505') throw alreadyMoving(tenantId, await runningMoveOf(deps.ownerPool, tenantId));
    throw err;
  }
}

/** The id of the tenant's running move, if any. */
async function runningMoveOf(pool: Pool, tenantId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM tenant_moves WHERE tenant_id = $1 AND state = 'running' LIMIT 1`, [tenantId]);
  return rows[0]?.id;
}

function alreadyMoving(tenantId: string, moveId: string | undefined): TenantMoveConflictError {
  return new TenantMoveConflictError(
    tenantId,
    'already-moving',
    `tenant '${tenantId}' is already moving${moveId ? ` (move ${moveId})` : ''}: follow GET /admin/v1/tenants/${tenantId}/moves${moveId ? `/${moveId}` : ''} and move again once it ended`,
    moveId,
  );
}

/**
 * Claims a running move whose heartbeat is older than `staleAfterMs` (its runner died or stopped)
 * and returns the new run id, or undefined if it is not stale or not running.
 */
export async function takeOverMove(pool: Pool, moveId: string, staleAfterMs: number): Promise<string | undefined> {
  const runId = randomUUID();
  const { rowCount } = await pool.query(
    `UPDATE tenant_moves SET run_id = $2, heartbeat_at = now()
      WHERE id = $1 AND state = 'running' AND heartbeat_at < now() - make_interval(secs => $3::double precision / 1000)`,
    [moveId, runId, staleAfterMs],
  );
  return rowCount ? runId : undefined;
}

/**
 * An operator's rollback of a verified move during its grace period: the old copy is still there
 * and refusing writes, so the tenant goes back to it with every write it made since the switch.
 * Hands the move to a new run id (the running runner, waiting out the grace, stops at its next
 * heartbeat or step) with phase `rollback`, audited; run it with {@link runTenantMove}. Refused once
 * the cleanup began (the old copy is being removed) and before the verification (a move in progress
 * rolls back by itself on any failure).
 */
export async function requestMoveRollback(
  pool: Pool,
  tenantId: string,
  moveId: string,
  who: { actor: string; reason?: string },
): Promise<{ move: TenantMoveStatus; runId: string }> {
  const runId = randomUUID();
  const why = `rolled back by ${who.actor}${who.reason ? `: ${who.reason}` : ''}`;
  return inTransaction(pool, async (tx) => {
    const { rows } = await tx.query<MoveRow>(
      `UPDATE tenant_moves SET phase = 'rollback', run_id = $3, error = $4, heartbeat_at = now()
        WHERE id = $1 AND tenant_id = $2 AND state = 'running' AND phase = 'grace' RETURNING *`,
      [moveId, tenantId, runId, why],
    );
    const row = rows[0];
    if (!row) {
      const current = await tx.query<MoveRow>('SELECT * FROM tenant_moves WHERE id = $1 AND tenant_id = $2', [moveId, tenantId]);
      const found = current.rows[0];
      if (!found) throw new NotFoundError('tenant move', moveId);
      throw new ValidationError(
        `move ${moveId} is ${found.state}, phase ${found.phase}: only a move in its grace period (switched and verified, old copy kept) can be rolled back`,
        [{ path: 'phase', message: found.phase }],
      );
    }
    await appendAudit(tx, {
      chain: tenantId,
      actor: who.actor,
      action: MOVE_AUDIT_ACTION,
      target: tenantId,
      after: { moveId, phase: 'rollback', requested: true },
      ...(who.reason === undefined ? {} : { reason: who.reason }),
    });
    return { move: toStatus(row), runId };
  });
}

/** Running moves whose heartbeat is older than `staleAfterMs`. */
export async function staleMoves(pool: Pool, staleAfterMs: number): Promise<Array<{ id: string; tenantId: string }>> {
  const { rows } = await pool.query<{ id: string; tenant_id: string }>(
    `SELECT id, tenant_id FROM tenant_moves WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1::double precision / 1000)`,
    [staleAfterMs],
  );
  return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id }));
}

/** How many records of the tenant `location` holds (0 when its schema or database does not exist). */
async function recordsAt(deps: TenantMoveDeps, tenantId: string, location: TenantLocation): Promise<number> {
  const pools = new StorePools(deps.ownerPool, deps.ownerUrl, deps.servers);
  try {
    const store = storeOf(location);
    if (location.model === 'schema') {
      const { rows } = await deps.ownerPool.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [store.table]);
      if (!rows[0]?.exists) return 0;
    } else if (location.model === 'database') {
      const admin = new Client({ connectionString: pools.serverUrl(location.server) });
      await admin.connect();
      try {
        const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [location.database]);
        if (!rowCount) return 0;
      } finally {
        await admin.end();
      }
    }
    const n = await inStore(pools, store, tenantId, async (c) => {
      const exists = (await c.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [store.table])).rows[0]?.exists;
      return exists ? (await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${store.table}`)).rows[0]?.n : '0';
    });
    return Number(n ?? 0);
  } finally {
    await pools.end();
  }
}

/**
 * Runs (or resumes) the move `moveId` as `runId`, from the phase and cursors its row records, to
 * the end: `done` after the old copy was removed, `rolled-back` after a failure undone (the old
 * copy intact, the catalog pointing at it), `failed` if even the rollback failed (the error says
 * what is left). Returns the final status; returns early, leaving the row as it is, when the
 * signal aborts or another runner took the move over.
 */
export async function runTenantMove(deps: TenantMoveDeps, moveId: string, runId: string, options: RunMoveOptions = {}): Promise<TenantMoveStatus> {
  const runner = new MoveRunner(deps, moveId, runId, options);
  const beat = setInterval(() => void runner.beat(), options.heartbeatMs ?? 5_000);
  beat.unref();
  try {
    return await runner.run();
  } finally {
    clearInterval(beat);
    await runner.close();
  }
}

class MoveRunner {
  private readonly pools: StorePools;
  private row!: MoveRow;
  private source!: MoveStore;
  private target!: MoveStore;
  private phaseStarted = Date.now();
  private waits: NeighbourWaits | undefined;

  constructor(
    private readonly deps: TenantMoveDeps,
    private readonly moveId: string,
    private readonly runId: string,
    private readonly options: RunMoveOptions,
  ) {
    this.pools = new StorePools(deps.ownerPool, deps.ownerUrl, deps.servers);
  }

  close(): Promise<void> {
    return this.pools.end();
  }

  async run(): Promise<TenantMoveStatus> {
    const { rows } = await this.deps.ownerPool.query<MoveRow>('SELECT * FROM tenant_moves WHERE id = $1', [this.moveId]);
    if (!rows[0]) throw new NotFoundError('tenant move', this.moveId);
    this.row = rows[0];
    this.source = storeOf(this.row.source);
    this.target = storeOf(this.row.target);
    if (this.row.state !== 'running') return toStatus(this.row);
    try {
      if (this.row.phase === 'rollback') return await this.rollback(this.row.error ?? 'resumed rollback');
      for (;;) {
        const next = await this.step(this.row.phase);
        if (next === 'finished') return await this.finish();
        await this.enter(next);
      }
    } catch (err) {
      if (err instanceof RunnerStopped) return toStatus(this.row);
      if (this.row.phase === 'cleanup' || this.row.phase === 'grace') {
        // The move itself is done and verified; only the old copy's removal failed. Not a rollback:
        // the row stays running and the next runner retries the removal.
        throw err;
      }
      return this.rollback(errorText(err));
    }
  }

  /** Does the work of `phase` and names the next one. */
  private async step(phase: MovePhase): Promise<MovePhase> {
    switch (phase) {
      case 'prepare':
        await this.prepare();
        return 'capture';
      case 'capture':
        await ensureMoveObjects(this.pools, this.source);
        await installTriggers(this.pools, this.source, this.row.tenant_id, 'capture', this.row.id);
        await this.countSource();
        return 'copy';
      case 'copy':
        await this.copy();
        return 'catch-up';
      case 'catch-up':
        await this.catchUpUntilSmall();
        return 'fence';
      case 'fence':
        // A runner that crashed after the switch committed, before it recorded the next phase:
        // the switch is made (the same transaction set `switched`), go on with the verification.
        if (!this.row.switched) await this.fenceAndSwitch();
        return 'verify';
      case 'verify':
        await this.verify();
        return 'grace';
      case 'grace':
        await this.waitForGrace();
        return 'cleanup';
      case 'cleanup':
        await this.cleanup();
        return 'finished';
      default:
        return 'finished';
    }
  }

  private lostOwnership = false;

  /** Beats the heartbeat under this run id; notes when the move was taken over. */
  async beat(): Promise<void> {
    try {
      const { rowCount } = await this.deps.ownerPool.query(`UPDATE tenant_moves SET heartbeat_at = now() WHERE id = $1 AND run_id = $2 AND state = 'running'`, [
        this.moveId,
        this.runId,
      ]);
      if (!rowCount) this.lostOwnership = true;
    } catch {
      // A missed beat is harmless; the next one, or the next step's save, tries again.
    }
  }

  private checkpoint(): void {
    if (this.options.signal?.aborted) throw new RunnerStopped('signal aborted');
    if (this.lostOwnership) throw new RunnerStopped('another runner took the move over');
  }

  /** Whether the bulk work commits without waiting for the WAL flush (`asyncBulkCommit`, default true). */
  private get asyncBulk(): boolean {
    return this.options.asyncBulkCommit ?? true;
  }

  /**
   * {@link save} for the bulk work's progress, committed without waiting for the WAL flush when the
   * runner commits its bulk work so (`asyncBulkCommit`).
   */
  private async saveBulk(sets: string, values: unknown[]): Promise<void> {
    if (!this.asyncBulk) return this.save(sets, values);
    await inTransaction(this.deps.ownerPool, async (tx) => {
      // SET LOCAL, not SET: a session setting would outlive this transaction on a pooled connection.
      await tx.query(`SELECT set_config('synchronous_commit', 'off', true)`);
      await this.save(sets, values, tx);
    });
  }

  /** Writes progress under this runner's run id (and its heartbeat); stops if the move was taken over. */
  private async save(sets: string, values: unknown[], client: Pick<PoolClient, 'query'> = this.deps.ownerPool): Promise<void> {
    const { rows } = await client.query<MoveRow>(
      `UPDATE tenant_moves SET ${sets}${sets ? ', ' : ''}heartbeat_at = now() WHERE id = $1 AND run_id = $2 RETURNING *`,
      [this.moveId, this.runId, ...values],
    );
    if (!rows[0]) throw new RunnerStopped('another runner took the move over');
    this.row = rows[0];
  }

  /** Enters `phase`: records it (with the time the last one took) and audits it. */
  private async enter(phase: MovePhase, after: Record<string, unknown> = {}): Promise<void> {
    this.checkpoint();
    const took = Date.now() - this.phaseStarted;
    const previous = this.row.phase;
    await inTransaction(this.deps.ownerPool, async (tx) => {
      await this.save(`phase = $3, phase_ms = phase_ms || jsonb_build_object($4::text, $5::bigint)`, [phase, previous, took], tx);
      await this.audit(tx, { phase, ...after });
    });
    this.phaseStarted = Date.now();
    await this.options.onPhase?.(phase, toStatus(this.row));
    this.checkpoint();
  }

  private audit(tx: Pick<PoolClient, 'query'>, after: Record<string, unknown>, before?: unknown): Promise<unknown> {
    return appendAudit(tx as PoolClient, {
      chain: this.row.tenant_id,
      actor: this.row.started_by,
      action: MOVE_AUDIT_ACTION,
      target: this.row.tenant_id,
      ...(before === undefined ? {} : { before }),
      after: { moveId: this.moveId, ...after },
      ...(this.row.reason === null ? {} : { reason: this.row.reason }),
    });
  }

  /** Creates and migrates the target schema or database (the pooled table exists); refuses one that holds records. */
  private async prepare(): Promise<void> {
    const tenantId = this.row.tenant_id;
    const location = this.row.target;
    const dir = this.deps.migrationsDir ?? TENANT_MIGRATIONS_DIR;
    const names = tenantMigrationNames(dir);
    if (location.model === 'schema') {
      const client = await this.deps.ownerPool.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(location.schema)} AUTHORIZATION ${DbRole.owner}`);
        await client.query(`GRANT USAGE ON SCHEMA ${ident(location.schema)} TO ${DbRole.app}`);
        await migrateTenantStore(client, { id: tenantId, location } as MigratableTenant, { dir, names, target: names.length - 1 });
      } finally {
        client.release();
      }
    } else if (location.model === 'database') {
      await createTenantDatabase(
        { ownerPool: this.deps.ownerPool, ownerUrl: this.deps.ownerUrl, servers: this.deps.servers ?? {} },
        location.server,
        location.database,
      );
      const client = await this.pools.pool(this.target).connect();
      try {
        await client.query(`GRANT USAGE ON SCHEMA public TO ${DbRole.app}`);
        await migrateTenantStore(client, { id: tenantId, location } as MigratableTenant, { dir, names, target: names.length - 1 });
      } finally {
        client.release();
      }
    }
    await ensureMoveObjects(this.pools, this.target);
  }

  private async countSource(): Promise<void> {
    const n = await inStore(
      this.pools,
      this.source,
      this.row.tenant_id,
      async (c) => (await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.source.table}`)).rows[0]?.n,
    );
    await this.save('source_rows = $3', [n ?? '0']);
  }

  /**
   * The pace of one bulk phase (the runner's rowsPerSecond as its ceiling). `batchMs`: the work time
   * a batch aims at, at the ceiling (BulkPace's default 50 ms: 1,000 rows at 20,000 rows/s).
   */
  private bulkPace(maxBatch = this.options.batchRows ?? 5000, batchMs?: number): BulkPace {
    return new BulkPace({
      ceiling: this.options.rowsPerSecond ?? 0,
      ...(batchMs === undefined ? {} : { batchMs }),
      maxBatch,
      minBatch: Math.min(500, maxBatch),
      maxDuty: this.options.maxDuty ?? DEFAULT_MOVE_MAX_DUTY,
    });
  }

  /**
   * The other tenants' waits, calibrated on the first call: `CALIBRATION_POLLS` polls of the server
   * before the first bulk batch of this run (on a resumed run, before its first bulk phase).
   */
  private async neighbours(): Promise<{ waits: NeighbourWaits; probe: () => Promise<number> } | undefined> {
    const watch = this.options.neighbourWaits;
    if (!watch || !this.options.rowsPerSecond) return undefined;
    if (!this.waits) {
      const polls: number[] = [];
      for (let i = 0; i < CALIBRATION_POLLS; i += 1) {
        polls.push(await watch.probe());
        await sleep(CALIBRATION_POLL_MS, this.options.signal);
      }
      this.waits = new NeighbourWaits(watch.options);
      this.waits.calibrate(polls);
    }
    return { waits: this.waits, probe: watch.probe };
  }

  /** Waits while the runner's `hold` keeps the move paused ({@link RunMoveOptions.hold}). */
  private async held(phase: MovePhase): Promise<void> {
    const hold = this.options.hold;
    if (!hold) return;
    await untilAborted(Promise.resolve(hold(phase)), this.options.signal);
    this.checkpoint();
  }

  /** Runs `batch` (which returns the rows it did, and whether it was the last) under `pace` until done. */
  private async paced(phase: MovePhase, pace: BulkPace, batch: (rows: number) => Promise<{ rows: number; last: boolean }>): Promise<void> {
    const neighbours = await this.neighbours();
    for (;;) {
      this.checkpoint();
      await this.held(phase);
      const started = performance.now();
      const done = await batch(pace.batchRows());
      if (done.last) break;
      const now = performance.now();
      let busy = false;
      if (neighbours) {
        neighbours.waits.observe(await neighbours.probe());
        busy = neighbours.waits.busy();
        if (busy) neighbours.waits.reset();
      }
      await sleep(pace.done(done.rows, now - started, now, busy), this.options.signal);
    }
    this.options.onPace?.(phase, pace.report());
  }

  /**
   * The keyset copy: batches by primary key, each committed on the target before the cursor moves (a
   * repeat is an upsert). A resumed copy starts from the saved cursor or from the target's last
   * record, whichever is earlier: the target holds exactly the batches that survived (in key order,
   * each committed before the next began), so a crash that undid the last batches but not the
   * cursor (asynchronous commits on another server) has them copied again rather than skipped.
   */
  private async copy(): Promise<void> {
    const async = this.asyncBulk;
    let after = this.row.copy_after;
    if (after !== null) {
      const held = await inStore(this.pools, this.target, this.row.tenant_id, (c) => lastRecordId(c, this.target));
      // uuid's text is canonical lowercase hex, so text order is the uuid order.
      if (held === null || held < after) after = held;
    }
    await this.paced('copy', this.bulkPace(), async (limit) => {
      const batch = await inStore(this.pools, this.source, this.row.tenant_id, (c) => readBatch(c, this.source, after, limit));
      if (batch.rows === 0) return { rows: 0, last: true };
      await inStore(this.pools, this.target, this.row.tenant_id, (c) => upsertRows(c, this.target, batch.json), { asyncCommit: async });
      await this.saveBulk('copy_after = $3, copied = copied + $4', [batch.lastId, batch.rows]);
      after = batch.lastId;
      await this.options.onProgress?.({
        phase: 'copy',
        copied: Number(this.row.copied),
        sourceRows: Number(this.row.source_rows),
        caughtUp: Number(this.row.caught_up),
      });
      return { rows: batch.rows, last: batch.rows < limit };
    });
    // The catch-up (recorded next, synchronously, in the catalog) never copies again: the target's
    // batches must survive a crash of its server first. On the catalog's own server the phase's
    // synchronous commit flushes them anyway (one WAL, in order); on another server it does not.
    if (async) await walFlushed(this.pools.pool(this.target));
  }

  /**
   * One catch-up pass from `from` (whose log holds `logId`'s changes) to `to`: takes up to `limit`
   * log entries (deleted in a transaction on `from` that commits only after `to` committed, so a
   * crash in between leaves them for the next pass), re-reads each changed record on `from` and
   * writes it to `to`, or deletes it there if it is gone. Entries committed after the pass's read
   * are left for the next pass: no change is skipped whatever the commit order.
   */
  private async catchUpPass(from: MoveStore, to: MoveStore, logId: string, limit: number): Promise<number> {
    return inStore(this.pools, from, this.row.tenant_id, async (source) => {
      const { rows } = await source.query<{ record_id: string }>(
        `DELETE FROM public.fairway_move_changes WHERE seq IN
           (SELECT seq FROM public.fairway_move_changes WHERE move_id = $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING record_id::text`,
        [logId, limit],
      );
      if (rows.length === 0) return 0;
      const ids = [...new Set(rows.map((r) => r.record_id))];
      const current = await readRows(source, from, ids);
      await inStore(this.pools, to, this.row.tenant_id, async (target) => {
        await upsertRows(target, to, current.json);
        await deleteRowsExcept(target, to, ids, current.present);
      });
      return rows.length;
    });
  }

  /** Catch-up passes until the log is drained; returns the changes applied. */
  private async drain(from: MoveStore, to: MoveStore, logId: string): Promise<number> {
    let applied = 0;
    for (;;) {
      const n = await this.catchUpPass(from, to, logId, 5000);
      applied += n;
      if (n === 0) return applied;
    }
  }

  /** Passes until one applied at most `fenceBacklog` changes: the fence's own pass is then short. */
  private async catchUpUntilSmall(): Promise<void> {
    const small = this.options.fenceBacklog ?? 500;
    const maxPasses = this.options.maxCatchUpPasses ?? 20;
    await this.held('catch-up');
    for (let pass = 1; ; pass += 1) {
      this.checkpoint();
      const applied = await this.drainBounded(small * 4);
      await this.save('caught_up = caught_up + $3, catch_up_passes = catch_up_passes + 1', [applied]);
      await this.options.onProgress?.({
        phase: 'catch-up',
        copied: Number(this.row.copied),
        sourceRows: Number(this.row.source_rows),
        caughtUp: Number(this.row.caught_up),
      });
      if (applied <= small) return;
      if (pass >= maxPasses) throw new Error(`the tenant writes faster than the catch-up applies: ${applied} changes in pass ${pass}`);
    }
  }

  /** One pass over what the log holds now, at most `limit` entries per transaction. */
  private async drainBounded(limit: number): Promise<number> {
    let applied = 0;
    const { rows } = await inStore(this.pools, this.source, this.row.tenant_id, (c) =>
      c.query<{ n: string }>('SELECT count(*) AS n FROM public.fairway_move_changes WHERE move_id = $1', [this.row.id]),
    );
    let backlog = Number(rows[0]?.n ?? 0);
    while (backlog > 0) {
      const n = await this.catchUpPass(this.source, this.target, this.row.id, Math.min(limit, 5000));
      if (n === 0) break;
      applied += n;
      backlog -= n;
    }
    return applied;
  }

  /**
   * The write fence and the switch: writes to the old store are refused from the barrier on
   * (FW503, a retriable 503), the log is drained, the target starts capturing (for the verification
   * and a rollback), and ONE catalog transaction points the tenant at the target, records the new
   * tenant migration version, marks the move switched and audits it; every router drops the route
   * on the notification. The old store keeps refusing writes, so a router that missed the
   * notification fails retriably rather than writing where nobody reads.
   */
  private async fenceAndSwitch(): Promise<void> {
    const tenantId = this.row.tenant_id;
    const started = Date.now();
    await installTriggers(this.pools, this.source, tenantId, 'refuse', this.row.id);
    const applied = await this.drain(this.source, this.target, this.row.id);
    await installTriggers(this.pools, this.target, tenantId, 'capture', this.row.back_id);
    // No checkpoint from the barrier to the switch: a runner asked to stop (a control plane shutting
    // down) finishes the fence rather than leave the tenant's writes refused until a takeover.
    const target = this.row.target;
    const dir = this.deps.migrationsDir ?? TENANT_MIGRATIONS_DIR;
    const names = tenantMigrationNames(dir);
    await inTransaction(this.deps.ownerPool, async (tx) => {
      await this.switchCatalog(tx, this.row.source, target);
      if (target.model === 'pooled') await tx.query('DELETE FROM tenant_migrations WHERE tenant_id = $1', [tenantId]);
      else
        await tx.query(
          `INSERT INTO tenant_migrations (tenant_id, version, status, target) VALUES ($1, $2, 'done', $2)
           ON CONFLICT (tenant_id) DO UPDATE SET version = $2, status = 'done', target = $2, error = NULL, updated_at = now()`,
          [tenantId, names[names.length - 1] ?? '0'],
        );
      const fenceMs = Date.now() - started;
      await this.save('switched = true, fence_ms = $3, caught_up = caught_up + $4', [fenceMs, applied], tx);
      await this.audit(tx, { phase: 'switch', location: target, fenceMs, lastCatchUp: applied }, { location: this.row.source });
    });
  }

  /** Points the catalog from `from` to `to`; refuses if the catalog no longer says `from`. */
  private async switchCatalog(tx: Pick<PoolClient, 'query'>, from: TenantLocation, to: TenantLocation): Promise<void> {
    const { rowCount } = await tx.query(
      `UPDATE tenants SET isolation_model = $2, schema_name = $3, db_server = $4, db_name = $5, updated_at = now()
        WHERE id = $1 AND isolation_model = $6 AND schema_name IS NOT DISTINCT FROM $7 AND db_name IS NOT DISTINCT FROM $8`,
      [
        this.row.tenant_id,
        to.model,
        to.model === 'schema' ? to.schema : null,
        to.model === 'database' ? to.server : null,
        to.model === 'database' ? to.database : null,
        from.model,
        from.model === 'schema' ? from.schema : null,
        from.model === 'database' ? from.database : null,
      ],
    );
    if (!rowCount) throw new Error(`the catalog no longer places tenant '${this.row.tenant_id}' at ${describe(from)}: the switch was not made`);
  }

  /**
   * Counts and an ordered digest of the records of both sides, in chunks of the source's keys. The source is
   * fenced (nothing changes it), so each chunk reads it in a transaction of its own. The target takes
   * the tenant's writes again: each chunk reads its slice of the target in one snapshot together with
   * the target's log, and leaves out on both sides the records the tenant wrote again after the
   * switch (they differ by design). No transaction lasts longer than one chunk: a snapshot held for
   * the whole pass would hold back the cleanup of every tenant's dead rows on a pooled table.
   */
  private async verify(): Promise<void> {
    const tenantId = this.row.tenant_id;
    // Reads are cheaper than writes: chunks of ten times the copy's rows (10,000 at the default
    // ceiling), under the same ceiling and duty. A chunk's cost is mostly its fixed part (three
    // transactions, the upper key, the change log): in 1,000-record chunks it took ~20 ms of wall
    // clock, as much as a copy batch of as many rows, so at a low duty the verification crawled at
    // the copy's pace (bench:move, 2026-12-08 03:10 UTC: 32 s for 30,000 records at duty 0.02).
    const pace = this.bulkPace(this.options.batchRows ?? ((this.options.rowsPerSecond ?? 0) > 0 ? 10_000 : 50_000), 500);
    let after: string | null = null;
    let rows = 0;
    let targetRows = 0;
    let chunks = 0;
    const digests = createHash('md5');
    await this.paced('verify', pace, async (limit) => {
      const range: string | null = after;
      const chunk = await inStore(
        this.pools,
        this.target,
        tenantId,
        async (target) => {
          // The chunk: the next `limit` records of the old store after `range` (fenced: they stay),
          // up to and including `upper`; null when fewer are left (the last chunk takes the rest).
          const upper = await inStore(this.pools, this.source, tenantId, async (source) => {
            const { rows: found } = await source.query<{ id: string }>(
              `SELECT id::text AS id FROM ${this.source.table} WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id OFFSET $2 LIMIT 1`,
              [range, limit - 1],
            );
            return found[0]?.id ?? null;
          });
          // The records the tenant wrote again after the switch, in this chunk only (they differ by
          // design). Until 2026-12-08 every chunk read all of them after its start and sent them to
          // both stores: O(writes since the switch) a chunk, 2.0x the neighbours' p99 in a slow move.
          const changed = (
            await target.query<{ id: string }>(
              `SELECT DISTINCT record_id::text AS id FROM public.fairway_move_changes
                WHERE move_id = $1 AND ($2::uuid IS NULL OR record_id > $2::uuid) AND ($3::uuid IS NULL OR record_id <= $3::uuid)`,
              [this.row.back_id, range, upper],
            )
          ).rows.map((r) => r.id);
          const digestOf = (c: Pick<PoolClient, 'query'>, table: string) =>
            c
              .query<{ n: string; digest: string | null }>(
                `SELECT count(*) AS n, ${CHUNK_DIGEST} AS digest
                   FROM (SELECT ${DIGEST_COLUMNS} FROM ${table}
                          WHERE ($1::uuid IS NULL OR id > $1::uuid) AND ($3::uuid IS NULL OR id <= $3::uuid) AND NOT (id = ANY($2::uuid[]))) r`,
                [range, changed, upper],
              )
              .then(({ rows: found }) => ({ n: Number(found[0]?.n ?? 0), digest: found[0]?.digest ?? null }));
          const s = await inStore(this.pools, this.source, tenantId, (source) => digestOf(source, this.source.table));
          const t = await digestOf(target, this.target.table);
          return { upper, n: s.n, sourceDigest: s.digest, tn: t.n, targetDigest: t.digest };
        },
        { repeatableRead: true },
      );
      targetRows += chunk.tn;
      chunks += 1;
      if (chunk.n !== chunk.tn || chunk.sourceDigest !== chunk.targetDigest) {
        throw new Error(
          `verification failed after ${rows} equal rows: the chunk after ${range ?? 'the start'} holds ${chunk.n} records in the old store and ${chunk.tn} in the new, digests ${chunk.sourceDigest ?? '-'} and ${chunk.targetDigest ?? '-'}`,
        );
      }
      rows += chunk.n;
      digests.update(chunk.sourceDigest ?? '');
      after = chunk.upper;
      // The pace counts the records the chunk read (the changed ones too): that is its work.
      return { rows: chunk.upper === null ? chunk.n : limit, last: chunk.upper === null };
    });
    const total = await inStore(this.pools, this.source, tenantId, (c) => c.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.source.table}`));
    const changedAfterSwitch = await inStore(this.pools, this.target, tenantId, (c) =>
      c.query<{ n: string }>('SELECT count(DISTINCT record_id) AS n FROM public.fairway_move_changes WHERE move_id = $1', [this.row.back_id]),
    );
    const report: VerifyReport = {
      rows,
      sourceRows: Number(total.rows[0]?.n ?? rows),
      targetRows,
      changedAfterSwitch: Number(changedAfterSwitch.rows[0]?.n ?? 0),
      chunks,
      digest: digests.digest('hex'),
    };
    await inTransaction(this.deps.ownerPool, async (tx) => {
      await this.save(`verified = $3, grace_until = now() + make_interval(secs => grace_ms::double precision / 1000)`, [JSON.stringify(report)], tx);
      await this.audit(tx, { phase: 'verified', ...report });
    });
  }

  /** Waits until the grace period ends, beating the heartbeat meanwhile. */
  private async waitForGrace(): Promise<void> {
    for (;;) {
      this.checkpoint();
      const left = (this.row.grace_until?.getTime() ?? 0) - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(left, 2_000), this.options.signal);
      await this.save('', []);
    }
  }

  /** Removes the old copy and the move's triggers and logs. Idempotent: a resumed cleanup repeats it. */
  private async cleanup(): Promise<void> {
    const tenantId = this.row.tenant_id;
    await dropTriggers(this.pools, this.target, 'capture', this.row.back_id);
    await inStore(this.pools, this.target, tenantId, (c) => c.query('DELETE FROM public.fairway_move_changes WHERE move_id = $1', [this.row.back_id]));
    await this.removeStore(this.source, this.row.id);
  }

  /** Removes a store's copy of the tenant: the schema, the database, or its pooled rows (then the triggers). */
  private async removeStore(store: MoveStore, logId: string): Promise<void> {
    const tenantId = this.row.tenant_id;
    const location = store.location;
    if (location.model === 'schema') {
      await this.deps.ownerPool.query(`DROP SCHEMA IF EXISTS ${ident(location.schema)} CASCADE`);
      await this.deps.ownerPool.query('DELETE FROM public.fairway_move_changes WHERE move_id = $1', [logId]);
    } else if (location.model === 'database') {
      await this.pools.release(store);
      const client = new Client({ connectionString: this.pools.serverUrl(location.server) });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${ident(location.database)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    } else {
      // The capture first: the deletions below are not changes of the tenant's data.
      await dropTriggers(this.pools, store, 'capture', logId);
      await this.removePooledRows(store);
      await dropTriggers(this.pools, store, 'refuse', logId);
      await inStore(this.pools, store, tenantId, (c) => c.query('DELETE FROM public.fairway_move_changes WHERE move_id = $1', [logId]));
    }
  }

  /**
   * Deletes the tenant's rows from the pooled table in heap order: a sweep of block ranges (a TID Range
   * Scan, `ctid >= '(a,0)' AND ctid < '(b,0)'` under the tenant's scope, finds at most a batch of the
   * tenant's rows, deleted by their TIDs), so each heap page the
   * tenant shares with the others is dirtied (and written whole into the WAL after a checkpoint)
   * once, not once per record as deletions in key order (random UUIDs) did. Then a pass by key
   * deletes whatever the sweep did not reach, until a statement finds nothing: rows in blocks the
   * sweep had passed when their deletion was undone (asynchronously committed deletions lost in a
   * crash of the server), or beyond the table's end when the sweep began. The tenant's rows take no
   * writes meanwhile (the old copy refuses them), so a sweep over blocks 0 to the end leaves only those.
   *
   * Resumption: nothing is saved of the sweep; a resumed cleanup sweeps again from block 0 (the
   * blocks already emptied of the tenant are read, not written) and ends with the pass by key. As
   * before, the phase stays cleanup until the synchronous commits after this (the same server's WAL).
   */
  private async removePooledRows(store: MoveStore): Promise<void> {
    const tenantId = this.row.tenant_id;
    const end = await inStore(this.pools, store, tenantId, async (c) => {
      const { rows } = await c.query<{ blocks: string }>(`SELECT pg_relation_size('public.records') / current_setting('block_size')::bigint AS blocks`);
      return Number(rows[0]?.blocks ?? 0);
    });
    let next = 0;
    await this.paced('cleanup', this.bulkPace(), async (limit) => {
      // Asynchronously committed deletions undone by a crash of the server are deleted again by the
      // pass by key: the phase stays cleanup until the synchronous commits after this loop.
      if (next < end) {
        const from = next;
        const to = Math.min(end, next + MAX_SWEEP_BLOCKS);
        // The first `limit` of the tenant's rows from block `from` on, in heap order (the scan stops
        // there), deleted by their TIDs in that order: a batch never holds more than `limit` rows
        // however the tenant's rows lie, nor reads more than MAX_SWEEP_BLOCKS blocks.
        const done = await inStore(
          this.pools,
          store,
          tenantId,
          async (c) => {
            // TID scans whatever the statistics say: an index scan of the tenant's key would visit
            // its remaining rows in key order and filter them by block.
            await c.query(`SELECT set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`);
            const { rows } = await c.query<{ n: number; last: string | null }>(
              `WITH gone AS (
                 DELETE FROM public.records
                  WHERE ctid = ANY(ARRAY(SELECT ctid FROM public.records WHERE ctid >= $2::tid AND ctid < $3::tid AND tenant_id = $1 LIMIT $4))
                    AND tenant_id = $1
                 RETURNING ctid)
               SELECT count(*)::int AS n, max((ctid::text::point)[0])::bigint AS last FROM gone`,
              [tenantId, `(${from},0)`, `(${to},0)`, limit],
            );
            return { n: rows[0]?.n ?? 0, last: rows[0]?.last ?? null };
          },
          { asyncCommit: this.asyncBulk },
        );
        // A full batch may have left rows of the tenant in its last block: the next begins there.
        next = done.n >= limit && done.last !== null ? Number(done.last) : to;
        if (next >= end) {
          // Told once, when the sweep has passed the table's end and the pass by key begins.
          await this.options.onProgress?.({
            phase: 'cleanup',
            copied: Number(this.row.copied),
            sourceRows: Number(this.row.source_rows),
            caughtUp: Number(this.row.caught_up),
          });
        }
        if (done.n > 0) await this.saveBulk('', []);
        return { rows: done.n, last: false };
      }
      const n = await inStore(
        this.pools,
        store,
        tenantId,
        async (c) => {
          const r = await c.query(
            `DELETE FROM public.records WHERE tenant_id = $1 AND id IN (SELECT id FROM public.records WHERE tenant_id = $1 ORDER BY id LIMIT $2)`,
            [tenantId, limit],
          );
          return r.rowCount ?? 0;
        },
        { asyncCommit: this.asyncBulk },
      );
      if (n === 0) return { rows: 0, last: true };
      await this.saveBulk('', []);
      return { rows: n, last: false };
    });
  }

  private async finish(): Promise<TenantMoveStatus> {
    const took = Date.now() - this.phaseStarted;
    await inTransaction(this.deps.ownerPool, async (tx) => {
      await this.save(`state = 'done', phase = 'finished', finished_at = now(), phase_ms = phase_ms || jsonb_build_object('cleanup', $3::bigint)`, [took], tx);
      await this.audit(tx, { phase: 'finished', state: 'done' });
    });
    return toStatus(this.row);
  }

  /**
   * Undoes the move, leaving the old copy as the tenant's data: after a switch, the target is fenced,
   * what the tenant wrote there since is applied back to the old store, and the catalog switched
   * back; then the old store's triggers are dropped (it takes writes again) and the target's copy
   * removed. Every step is idempotent, so a crashed rollback is resumed by the next runner.
   */
  private async rollback(why: string): Promise<TenantMoveStatus> {
    try {
      if (this.row.phase !== 'rollback') {
        await inTransaction(this.deps.ownerPool, async (tx) => {
          await this.save(`phase = 'rollback', error = $3`, [why], tx);
          await this.audit(tx, { phase: 'rollback', error: why });
        });
      }
      const tenantId = this.row.tenant_id;
      if (this.row.switched) {
        await installTriggers(this.pools, this.target, tenantId, 'refuse', this.row.back_id);
        await this.drain(this.target, this.source, this.row.back_id);
        await inTransaction(this.deps.ownerPool, async (tx) => {
          await this.switchCatalog(tx, this.row.target, this.row.source);
          const source = this.row.source;
          if (source.model === 'pooled') await tx.query('DELETE FROM tenant_migrations WHERE tenant_id = $1', [tenantId]);
          await this.save('switched = false', [], tx);
          await this.audit(tx, { phase: 'switch-back', location: source }, { location: this.row.target });
        });
      }
      await dropTriggers(this.pools, this.source, 'refuse', this.row.id);
      await dropTriggers(this.pools, this.source, 'capture', this.row.id);
      await inStore(this.pools, this.source, tenantId, (c) =>
        c.query('DELETE FROM public.fairway_move_changes WHERE move_id = $1', [this.row.id]).catch((err: { code?: string }) => {
          if (err.code !== '42P01') throw err;
        }),
      );
      // A pooled target keeps refusing writes until its rows are gone (removeStore drops the refusal
      // last), so a router that missed the switch back cannot write rows nobody would read.
      await this.removeStore(this.target, this.row.back_id);
      await inTransaction(this.deps.ownerPool, async (tx) => {
        await this.save(`state = 'rolled-back', phase = 'finished', finished_at = now()`, [], tx);
        await this.audit(tx, { phase: 'finished', state: 'rolled-back', error: why });
      });
    } catch (err) {
      if (err instanceof RunnerStopped) return toStatus(this.row);
      const text = `${why}; the rollback failed too: ${errorText(err)}`;
      await inTransaction(this.deps.ownerPool, async (tx) => {
        await this.save(`state = 'failed', finished_at = now(), error = $3`, [text], tx);
        await this.audit(tx, { phase: 'finished', state: 'failed', error: text });
      }).catch(() => undefined);
    }
    return toStatus(this.row);
  }
}

function describe(location: TenantLocation): string {
  if (location.model === 'pooled') return 'pooled table';
  if (location.model === 'schema') return `schema ${location.schema}`;
  return `database ${location.database} on ${location.server}`;
}

function errorText(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/** The most heap blocks (8 kB each) one statement of the cleanup's sweep reads: 8 MB. */
const MAX_SWEEP_BLOCKS = 1024;

/** Polls of the other tenants' waits taken as the quiet baseline, and their spacing (2 s in all). */
const CALIBRATION_POLLS = 100;
const CALIBRATION_POLL_MS = 20;

/**
 * Counts the sessions of other roles than `moveRole` that wait on WAL (`WALWrite`, `WALSync`,
 * `WALInsert`, ...) while active, or on their client while idle in a transaction: what the other
 * tenants' writes waited on during a copy (docs/benchmarks.md, "bench:move"). `query` must see the
 * other roles' wait events: a superuser or a member of `pg_monitor` / `pg_read_all_stats` (for the
 * move's own role they read as null, and the probe counts nothing).
 */
export function neighbourWaitProbe(query: Pick<Pool, 'query'>, moveRole: string): () => Promise<number> {
  return async () => {
    const { rows } = await query.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND usename IS DISTINCT FROM $1
          AND ((state = 'active' AND wait_event LIKE 'WAL%')
            OR (state = 'idle in transaction' AND wait_event = 'ClientRead'))`,
      [moveRole],
    );
    return rows[0]?.n ?? 0;
  };
}

/** `promise`, or as soon as `signal` aborts (whatever `promise` does then). */
function untilAborted(promise: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    promise.then(done, (err: unknown) => {
      signal.removeEventListener('abort', done);
      reject(err);
    });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
