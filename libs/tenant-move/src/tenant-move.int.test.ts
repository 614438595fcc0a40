import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createPool, findTenant, TenantDataRouter, type IsolationModel } from '@fairway/db';
import { createIsolatedTestTenant, dropIsolatedTestTenants, eventually, testAdminUrl, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { UpstreamUnavailableError } from '@fairway/errors';
import type { TenantId } from '@fairway/tenant-context';
import {
  readMove,
  requestMoveRollback,
  runTenantMove,
  startTenantMove,
  takeOverMove,
  type MovePhase,
  type RunMoveOptions,
  type TenantMoveDeps,
  type TenantMoveStatus,
} from './tenant-move';
import type { BulkPaceReport } from './bulk-pace';

/**
 * A tenant that keeps writing through the real TenantDataRouter (application role, NOTIFY
 * invalidation): inserts, updates and deletes, each retried while the router answers a retriable
 * error (the move's fence). `expected` is what every acknowledged write says the tenant holds.
 */
class Writer {
  readonly expected = new Map<string, string>();
  acked = 0;
  refusals = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly data: TenantDataRouter,
    private readonly tenant: TenantId,
  ) {}

  start(): void {
    this.loop = (async () => {
      let n = 0;
      while (!this.stopped) {
        n += 1;
        const ids = [...this.expected.keys()];
        const pick = ids[(n * 7919) % Math.max(ids.length, 1)];
        if (n % 5 === 0 && pick) {
          await this.write('DELETE FROM records WHERE id = $1 RETURNING id::text', [pick], () => this.expected.delete(pick));
        } else if (n % 3 === 0 && pick) {
          await this.write(
            `UPDATE records SET title = $2, amount = amount + 1, updated_at = now() WHERE id = $1 RETURNING id::text, ${DIGEST} AS d`,
            [pick, `updated-${n}`],
            (row) => this.expected.set(row.id, row.d),
          );
        } else {
          const sql = `INSERT INTO records (id, title, amount, tags) VALUES ($1, $2, $3, $4) RETURNING id::text, ${DIGEST} AS d`;
          await this.write(sql, [randomUUID(), `written-${n}`, n % 100, ['live']], (row) => this.expected.set(row.id, row.d));
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
  }

  private async write(sql: string, params: unknown[], acked: (row: { id: string; d: string }) => void): Promise<void> {
    for (;;) {
      try {
        const { rows } = await this.data.withTenant(this.tenant, (tx) => tx.query<{ id: string; d: string }>(sql, params));
        if (rows[0]) acked(rows[0]);
        this.acked += 1;
        return;
      } catch (err) {
        if (!(err instanceof UpstreamUnavailableError)) throw err;
        this.refusals += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  /** Waits until `count` more writes were acknowledged (the writer runs through a phase). */
  async more(count: number): Promise<void> {
    const target = this.acked + count;
    await eventually(`${count} more acknowledged writes`, () => (this.acked >= target ? true : undefined), { timeoutMs: 20_000, intervalMs: 5 });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** The digest of a record's columns, the same in every model (the session's TimeZone is the same on both sides). */
const DIGEST = `md5(concat_ws('|', title, body, amount::text, tags::text, created_at::text, updated_at::text))`;

/** Every record of the tenant as it reads it now: id -> digest of its columns. */
async function contents(data: TenantDataRouter, tenant: TenantId): Promise<Map<string, string>> {
  const { rows } = await data.withTenant(tenant, (tx) => tx.query<{ id: string; d: string }>(`SELECT id::text, ${DIGEST} AS d FROM records`));
  return new Map(rows.map((r) => [r.id, r.d]));
}

describe('live moves between isolation models (real PostgreSQL)', () => {
  const pools = testPools();
  const urls = testDatabaseUrls();
  const owner = createPool({ connectionString: urls.owner, max: 8, applicationName: 'fairway-test-move' });
  const deps: TenantMoveDeps = { ownerPool: owner, ownerUrl: urls.owner };
  const created: string[] = [];
  let data: TenantDataRouter;
  let admin: Client;

  beforeAll(async () => {
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: urls.app, cacheTtlMs: 600_000 });
    await data.start();
    admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
  });

  afterAll(async () => {
    await data.close();
    await dropIsolatedTestTenants(pools.owner, created);
    await admin.end();
    await owner.end();
    await pools.end();
  });

  /** A tenant in `model` with `records` records, written as the tenant. */
  async function tenantWith(model: IsolationModel, records: number): Promise<TenantId> {
    const id = await createIsolatedTestTenant(pools.owner, model, 'mv');
    created.push(id);
    await data.withTenant(id, (tx) =>
      tx.query(
        `INSERT INTO records (id, title, body, amount, tags) SELECT gen_random_uuid(), 'seed-' || g, repeat('x', g % 50), g, ARRAY['seed'] FROM generate_series(1, $1) g`,
        [records],
      ),
    );
    return id;
  }

  /** Whether the old copy is gone: no schema, no database, no pooled rows of the tenant. */
  async function oldCopyGone(move: TenantMoveStatus): Promise<boolean> {
    const source = move.source;
    if (source.model === 'schema') return (await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [source.schema])).rowCount === 0;
    if (source.model === 'database') return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [source.database])).rowCount === 0;
    return (await admin.query('SELECT 1 FROM records WHERE tenant_id = $1', [move.tenantId])).rowCount === 0;
  }

  /** Runs a move with the writer writing through copy, catch-up and after the switch. */
  function throughEveryPhase(writer: Writer, extra: RunMoveOptions = {}): RunMoveOptions {
    return {
      batchRows: 100,
      fenceBacklog: 20,
      ...extra,
      onPhase: async (phase: MovePhase, status: TenantMoveStatus) => {
        if (phase === 'copy' || phase === 'catch-up' || phase === 'verify') await writer.more(15);
        await extra.onPhase?.(phase, status);
      },
    };
  }

  /**
   * A pooled tenant of `records` with a writer running (its records expected), moving to a schema
   * until the runner crashes where `crashWhen` aborts it: the halted move, for another runner.
   */
  async function haltedMove(records: number, crashWhen: (crash: AbortController) => RunMoveOptions) {
    const tenant = await tenantWith('pooled', records);
    const writer = new Writer(data, tenant);
    for (const [id, digest] of await contents(data, tenant)) writer.expected.set(id, digest);
    writer.start();
    const { move, runId } = await startTenantMove(deps, tenant, { to: 'schema', graceMs: 0, actor: 'test' });
    const crash = new AbortController();
    const halted = await runTenantMove(deps, move.id, runId, throughEveryPhase(writer, { ...crashWhen(crash), signal: crash.signal }));
    return { tenant, writer, move, halted };
  }

  const DIRECTIONS: Array<[IsolationModel, IsolationModel]> = [
    ['pooled', 'schema'],
    ['schema', 'database'],
    ['database', 'pooled'],
    ['pooled', 'database'],
    ['database', 'schema'],
    ['schema', 'pooled'],
  ];

  it.each(DIRECTIONS)('moves a writing tenant from %s to %s with no write lost or duplicated', async (from, to) => {
    const tenant = await tenantWith(from, 350);
    const writer = new Writer(data, tenant);
    for (const [id, digest] of await contents(data, tenant)) writer.expected.set(id, digest);
    writer.start();
    const { move, runId } = await startTenantMove(deps, tenant, { to, graceMs: 0, actor: 'test' });
    const done = await runTenantMove(deps, move.id, runId, throughEveryPhase(writer));
    await writer.stop();

    expect(done).toMatchObject({ state: 'done', phase: 'finished', switched: true, error: null });
    expect(done.copied).toBeGreaterThanOrEqual(300);
    expect(done.verified?.rows).toBeGreaterThan(300);
    expect((await findTenant(pools.owner, tenant))?.isolationModel).toBe(to);
    // Every acknowledged write is there once, as written: the same ids (none missing, none extra)
    // and the same checksum of each record.
    const after = await contents(data, tenant);
    expect([...after.keys()].sort()).toEqual([...writer.expected.keys()].sort());
    expect(new Map([...after].sort())).toEqual(new Map([...writer.expected].sort()));
    expect(await oldCopyGone(done)).toBe(true);
  });

  it('paces the copy, the verification and the removal under the ceiling, and still loses nothing', async () => {
    const tenant = await tenantWith('pooled', 350);
    const writer = new Writer(data, tenant);
    for (const [id, digest] of await contents(data, tenant)) writer.expected.set(id, digest);
    writer.start();
    const paces = new Map<MovePhase, BulkPaceReport>();
    const { move, runId } = await startTenantMove(deps, tenant, { to: 'schema', graceMs: 0, actor: 'test' });
    const done = await runTenantMove(
      deps,
      move.id,
      runId,
      throughEveryPhase(writer, { rowsPerSecond: 4000, onPace: (phase, report) => void paces.set(phase, report) }),
    );
    await writer.stop();
    expect(done).toMatchObject({ state: 'done', switched: true, error: null });
    expect([...paces.keys()]).toEqual(['copy', 'verify', 'cleanup']);
    for (const report of paces.values()) {
      // 350+ rows in batches of at most 100 (batchRows), never above the ceiling.
      expect(report.batches).toBeGreaterThanOrEqual(3);
      expect(report.rowsPerSecond).toBeLessThanOrEqual(4000);
    }
    expect(new Map([...(await contents(data, tenant))].sort())).toEqual(new Map([...writer.expected].sort()));
    expect(await oldCopyGone(done)).toBe(true);
  });

  it('copies nothing while its hold is pending, asks it before every bulk phase and the catch-up, and still loses nothing', async () => {
    const tenant = await tenantWith('pooled', 350);
    const writer = new Writer(data, tenant);
    for (const [id, digest] of await contents(data, tenant)) writer.expected.set(id, digest);
    writer.start();
    const { move, runId } = await startTenantMove(deps, tenant, { to: 'schema', graceMs: 0, actor: 'test' });
    const asked = new Set<MovePhase>();
    let holds = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let onHeld!: () => void;
    const held = new Promise<void>((resolve) => (onHeld = resolve));
    const running = runTenantMove(
      deps,
      move.id,
      runId,
      throughEveryPhase(writer, {
        hold: (phase) => {
          asked.add(phase);
          holds += 1;
          // The third batch of the copy (batches of 100): held until the test releases it.
          if (holds !== 3) return;
          onHeld();
          return gate;
        },
      }),
    );
    await held;
    const copiedWhenHeld = (await readMove(owner, tenant, move.id))?.copied;
    expect(copiedWhenHeld).toBe(200);
    // The tenant keeps writing meanwhile; the move copies nothing more until released.
    await writer.more(20);
    expect((await readMove(owner, tenant, move.id))?.copied).toBe(copiedWhenHeld);
    release();
    const done = await running;
    await writer.stop();
    expect(done).toMatchObject({ state: 'done', switched: true, error: null });
    expect([...asked]).toEqual(['copy', 'catch-up', 'verify', 'cleanup']);
    expect(new Map([...(await contents(data, tenant))].sort())).toEqual(new Map([...writer.expected].sort()));
    expect(await oldCopyGone(done)).toBe(true);
  });

  it('keeps the records the writer last wrote, byte for byte (checksums before and after)', async () => {
    const tenant = await tenantWith('pooled', 200);
    const before = await contents(data, tenant);
    const { move, runId } = await startTenantMove(deps, tenant, { to: 'database', graceMs: 0, actor: 'test' });
    // Everything committed synchronously here (asyncBulkCommit off); the other moves use the default.
    await runTenantMove(deps, move.id, runId, { batchRows: 64, asyncBulkCommit: false });
    expect(await contents(data, tenant)).toEqual(before);
  });

  it.each(['catch-up', 'verify'] as const)('resumes a move whose runner crashed on entering %s, from its cursors, on another runner', async (at) => {
    const { tenant, writer, move, halted } = await haltedMove(300, (crash) => ({
      onPhase: (phase) => {
        if (phase === at) crash.abort();
      },
    }));
    expect(halted).toMatchObject({ state: 'running', phase: at, switched: at === 'verify' });
    await writer.more(15);

    // Not stale yet: nobody may take it over while its heartbeat is fresh.
    expect(await takeOverMove(owner, move.id, 60_000)).toBeUndefined();
    const second = await takeOverMove(owner, move.id, 0);
    expect(second).toBeDefined();
    const done = await runTenantMove(deps, move.id, second as string, throughEveryPhase(writer));
    await writer.stop();
    expect(done).toMatchObject({ state: 'done', switched: true });
    expect(done.copied).toBe(halted.copied);
    expect(new Map([...(await contents(data, tenant))].sort())).toEqual(new Map([...writer.expected].sort()));
    // The first runner's id no longer writes progress.
    expect((await readMove(owner, tenant, move.id))?.state).toBe('done');
  });

  it('resumes a copy whose last committed batches a server crash undid (asynchronous bulk commits), losing nothing', async () => {
    const { tenant, writer, move, halted } = await haltedMove(600, (crash) => ({
      asyncBulkCommit: true,
      onProgress: (p) => {
        if (p.phase === 'copy' && p.copied >= 400) crash.abort();
      },
    }));
    expect(halted).toMatchObject({ state: 'running', phase: 'copy' });
    // The worst a crash of the target's server can leave after asynchronous commits: the last
    // batches undone there while the saved cursor (in the catalog, on another server) survived.
    const target = `"${(halted.target as { schema: string }).schema}".records`;
    await admin.query(`DELETE FROM ${target} WHERE id IN (SELECT id FROM ${target} ORDER BY id DESC LIMIT 250)`);
    const cursor = (await admin.query<{ copy_after: string }>('SELECT copy_after::text FROM tenant_moves WHERE id = $1', [move.id])).rows[0]?.copy_after;
    const held = (await admin.query<{ id: string }>(`SELECT max(id::text) AS id FROM ${target}`)).rows[0]?.id;
    expect(held !== undefined && cursor !== undefined && held < cursor).toBe(true);
    await writer.more(15);

    const second = await takeOverMove(owner, move.id, 0);
    const done = await runTenantMove(deps, move.id, second as string, throughEveryPhase(writer, { asyncBulkCommit: true }));
    await writer.stop();
    expect(done).toMatchObject({ state: 'done', switched: true, error: null });
    expect(done.verified?.rows).toBeGreaterThan(600);
    const after = await contents(data, tenant);
    expect([...after.keys()].sort()).toEqual([...writer.expected.keys()].sort());
    expect(new Map([...after].sort())).toEqual(new Map([...writer.expected].sort()));
    expect(await oldCopyGone(done)).toBe(true);
  });

  it('removes a pooled copy in heap order, sparing the other tenants in its pages; a resumed cleanup removes rows restored behind its sweep', async () => {
    // Two pooled tenants whose records share the table's pages: runs of 15 rows in turn.
    const moving = await tenantWith('pooled', 15);
    const other = await tenantWith('pooled', 15);
    for (let round = 0; round < 19; round += 1) {
      for (const tenant of [moving, other]) {
        await data.withTenant(tenant, (tx) =>
          tx.query(
            `INSERT INTO records (id, title, body, amount, tags) SELECT gen_random_uuid(), 'more-' || g, repeat('y', g % 40), g, ARRAY['more'] FROM generate_series(1, 15) g`,
          ),
        );
      }
    }
    const shared = await admin.query<{ n: number }>(
      `SELECT count(DISTINCT (ctid::text::point)[0])::int AS n FROM records WHERE tenant_id = $1
          AND (ctid::text::point)[0] IN (SELECT (ctid::text::point)[0] FROM records WHERE tenant_id = $2)`,
      [moving, other],
    );
    expect(shared.rows[0]?.n).toBeGreaterThan(2);
    const movingBefore = await contents(data, moving);
    const otherBefore = await contents(data, other);

    const { move, runId } = await startTenantMove(deps, moving, { to: 'schema', graceMs: 0, actor: 'test' });
    const crash = new AbortController();
    const halted = await runTenantMove(deps, move.id, runId, {
      batchRows: 50,
      signal: crash.signal,
      onPhase: (phase) => {
        if (phase === 'cleanup') crash.abort();
      },
    });
    expect(halted).toMatchObject({ state: 'running', phase: 'cleanup', switched: true });
    // The first records of the old copy in heap order, as they are: what a crash of the server
    // could undo the deletion of (asynchronous commits) after the sweep had passed their blocks.
    const firstBlocks = (
      await admin.query<{ rows: unknown }>(`SELECT json_agg(r) AS rows FROM (SELECT * FROM records WHERE tenant_id = $1 ORDER BY ctid LIMIT 40) r`, [moving])
    ).rows[0]?.rows;
    let restored = 0;
    const second = await takeOverMove(owner, move.id, 0);
    const done = await runTenantMove(deps, move.id, second as string, {
      batchRows: 50,
      onProgress: async (p) => {
        if (p.phase !== 'cleanup') return;
        // The sweep has passed the table's end: put the first records back (they were deleted, or
        // the primary key would refuse them), as the move engine may write to the fenced copy.
        await admin.query('BEGIN');
        try {
          await admin.query(`SET LOCAL ROLE fairway_owner`);
          await admin.query(`SELECT set_config('app.tenant_id', $1, true), set_config('fairway.move_apply', 'on', true)`, [moving]);
          restored +=
            (await admin.query(`INSERT INTO records SELECT * FROM json_populate_recordset(NULL::records, $1::json)`, [JSON.stringify(firstBlocks)])).rowCount ??
            0;
          await admin.query('COMMIT');
        } catch (err) {
          await admin.query('ROLLBACK');
          throw err;
        }
      },
    });

    expect(done).toMatchObject({ state: 'done', phase: 'finished', switched: true, error: null });
    expect(restored).toBe(40);
    expect(await oldCopyGone(done)).toBe(true);
    expect((await findTenant(pools.owner, moving))?.isolationModel).toBe('schema');
    expect(new Map([...(await contents(data, moving))].sort())).toEqual(new Map([...movingBefore].sort()));
    expect(new Map([...(await contents(data, other))].sort())).toEqual(new Map([...otherBefore].sort()));
  });

  it('rolls back a move that fails after the switch: the old copy is intact with every write, the new one removed', async () => {
    const tenant = await tenantWith('schema', 250);
    const stale = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: urls.app, listen: false, cacheTtlMs: 600_000 });
    await stale.withTenant(tenant, (tx) => tx.query('SELECT 1'));
    const writer = new Writer(data, tenant);
    for (const [id, digest] of await contents(data, tenant)) writer.expected.set(id, digest);
    writer.start();
    const { move, runId } = await startTenantMove(deps, tenant, { to: 'database', graceMs: 60_000, actor: 'test' });
    let staleWrite: unknown;
    const done = await runTenantMove(
      deps,
      move.id,
      runId,
      throughEveryPhase(writer, {
        onPhase: async (phase) => {
          if (phase !== 'verify') return;
          // A router that missed the switch still routes to the old schema: its write is refused, retriably.
          staleWrite = await stale
            .withTenant(tenant, (tx) => tx.query(`INSERT INTO records (id, title) VALUES ($1, 'stale')`, [randomUUID()]))
            .catch((err: unknown) => err);
          throw new Error('injected failure after the switch');
        },
      }),
    );
    await writer.stop();
    await stale.close();

    expect(staleWrite).toBeInstanceOf(UpstreamUnavailableError);
    expect(done).toMatchObject({ state: 'rolled-back', switched: false });
    expect(done.error).toMatch(/injected failure/);
    expect((await findTenant(pools.owner, tenant))?.isolationModel).toBe('schema');
    // Writes made to the new copy after the switch came back with the rollback.
    expect(new Map([...(await contents(data, tenant))].sort())).toEqual(new Map([...writer.expected].sort()));
    const target = done.target;
    expect(target.model === 'database' && (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database])).rowCount).toBe(0);
    // The old store takes writes again.
    await data.withTenant(tenant, (tx) => tx.query(`INSERT INTO records (id, title) VALUES ($1, 'after rollback')`, [randomUUID()]));
    const audit = await admin.query<{ phase: string }>(
      `SELECT after->>'phase' AS phase FROM audit_log WHERE chain = $1 AND action = 'tenant.move' ORDER BY seq`,
      [tenant],
    );
    expect(audit.rows.map((r) => r.phase)).toEqual([
      'prepare',
      'capture',
      'copy',
      'catch-up',
      'fence',
      'switch',
      'verify',
      'rollback',
      'switch-back',
      'finished',
    ]);
  });

  it('finds a record the copy got wrong and rolls the move back with the old copy intact', async () => {
    const tenant = await tenantWith('pooled', 300);
    const before = await contents(data, tenant);
    const { move, runId } = await startTenantMove(deps, tenant, { to: 'schema', graceMs: 0, actor: 'test' });
    const done = await runTenantMove(deps, move.id, runId, {
      batchRows: 100,
      onPhase: async (phase, status) => {
        if (phase !== 'fence' || status.target.model !== 'schema') return;
        // One copied record changed in the target behind the move's back (no capture there before
        // the fence): only the verification's digest can tell.
        await admin.query(
          `UPDATE "${status.target.schema}".records SET body = body || '.' WHERE id = (SELECT id FROM "${status.target.schema}".records ORDER BY id LIMIT 1)`,
        );
      },
    });

    expect(done).toMatchObject({ state: 'rolled-back', switched: false });
    expect(done.error).toMatch(/verification failed after \d+ equal rows/);
    expect((await findTenant(pools.owner, tenant))?.isolationModel).toBe('pooled');
    expect(new Map([...(await contents(data, tenant))].sort())).toEqual(new Map([...before].sort()));
    const target = done.target;
    expect(target.model === 'schema' && (await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [target.schema])).rowCount).toBe(0);
  });

  it('rolls a verified move back on request during its grace period, with the writes made since the switch', async () => {
    const tenant = await tenantWith('pooled', 200);
    const writer = new Writer(data, tenant);
    for (const [id, digest] of await contents(data, tenant)) writer.expected.set(id, digest);
    writer.start();
    const { move, runId } = await startTenantMove(deps, tenant, { to: 'schema', graceMs: 600_000, actor: 'test' });
    await expect(requestMoveRollback(owner, tenant, move.id, { actor: 'alice' })).rejects.toThrow(/only a move in its grace period/);
    const first = runTenantMove(deps, move.id, runId, { ...throughEveryPhase(writer), heartbeatMs: 100 });
    await eventually('the move to wait out its grace period', () => readMove(owner, tenant, move.id), {
      until: (m) => m?.phase === 'grace',
      timeoutMs: 30_000,
    });
    expect((await findTenant(pools.owner, tenant))?.isolationModel).toBe('schema');
    await writer.more(15);

    const { runId: second } = await requestMoveRollback(owner, tenant, move.id, { actor: 'alice', reason: 'customer asked' });
    const done = await runTenantMove(deps, move.id, second);
    // The first runner, waiting out the grace, stops at its next heartbeat without touching anything.
    expect((await first).state).toBe('running');
    await writer.stop();
    expect(done).toMatchObject({ state: 'rolled-back', switched: false, error: 'rolled back by alice: customer asked' });
    expect((await findTenant(pools.owner, tenant))?.isolationModel).toBe('pooled');
    expect(new Map([...(await contents(data, tenant))].sort())).toEqual(new Map([...writer.expected].sort()));
    const schema = done.target.model === 'schema' ? done.target.schema : '';
    expect((await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount).toBe(0);
  });

  it('refuses a move to where the tenant already is, and a second move while one runs', async () => {
    const tenant = await tenantWith('schema', 1);
    const there = startTenantMove(deps, tenant, { to: 'schema', graceMs: 0, actor: 'test' });
    await expect(there).rejects.toThrow(/already in the schema model/);
    await expect(there).rejects.toMatchObject({ code: 'TENANT_MOVE_CONFLICT', reason: 'already-there', retriable: false });
    const { move, runId } = await startTenantMove(deps, tenant, { to: 'pooled', graceMs: 0, actor: 'test' });
    const again = startTenantMove(deps, tenant, { to: 'database', graceMs: 0, actor: 'test' });
    await expect(again).rejects.toThrow(/already moving/);
    await expect(again).rejects.toMatchObject({ code: 'TENANT_MOVE_CONFLICT', reason: 'already-moving', moveId: move.id, retriable: true });
    // The catalog still names the source (schema) while the move runs: still "already moving", not "already there".
    await expect(startTenantMove(deps, tenant, { to: 'schema', graceMs: 0, actor: 'test' })).rejects.toMatchObject({ reason: 'already-moving' });
    await runTenantMove(deps, move.id, runId);
  });
});
