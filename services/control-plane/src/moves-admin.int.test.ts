import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import path from 'node:path';
import { SignJWT } from 'jose';
import { OPERATOR_TOKENS, TokenVerifier } from '@fairway/auth';
import { createPool, findTenant, TenantDataRouter } from '@fairway/db';
import { createIsolatedTestTenant, dropIsolatedTestTenants, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { createLogger } from '@fairway/telemetry';
import { MoveSweeper, type TenantMoveStatus } from '@fairway/tenant-move';
import { createAdminApp } from './admin-app';
import { SchedulerAdminGateway } from './scheduler-admin-client';
import { TenantCatalog } from './tenant-catalog';

const ROOT = path.resolve(__dirname, '../../..');
const OPERATOR_SECRET = new TextEncoder().encode('operator-move-secret-0123456789-012345678');
const log = createLogger('moves-admin-int', 'silent');

function tenantctl(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run-ts.cjs'), path.join(ROOT, 'services/tenantctl/src/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `tenantctl tenants move` (its own process, output to pipes) against the admin API of the control
 * plane on the real PostgreSQL, while the tenant writes through a TenantDataRouter; and the status
 * resource and the refusals of the API itself.
 */
describe('tenant moves through the admin API and tenantctl (real PostgreSQL)', () => {
  const pools = testPools();
  const urls = testDatabaseUrls();
  const owner = createPool({ connectionString: urls.owner, max: 8, applicationName: 'fairway-test-moves-admin' });
  const moveDeps = { ownerPool: owner, ownerUrl: urls.owner };
  const sweeper = new MoveSweeper(moveDeps, { run: { batchRows: 200 } });
  const created: string[] = [];
  let server: Server;
  let base: string;
  let auth: string;
  let data: TenantDataRouter;
  const scheduler = new SchedulerAdminGateway('127.0.0.1:1', 1_000);

  beforeAll(async () => {
    const app = createAdminApp({
      tokens: new TokenVerifier({ secret: OPERATOR_SECRET, issuer: OPERATOR_TOKENS.issuer, audience: OPERATOR_TOKENS.audience }),
      catalog: new TenantCatalog({ ownerPool: pools.owner, ownerUrl: urls.owner }, log),
      scheduler,
      ownerPool: pools.owner,
      moves: { deps: moveDeps, sweeper, graceMs: 0, minGraceMs: 0 },
      log,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    auth = await new SignJWT({ role: 'operator', sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(OPERATOR_TOKENS.issuer)
      .setAudience(OPERATOR_TOKENS.audience)
      .setExpirationTime('10m')
      .sign(OPERATOR_SECRET);
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: urls.app });
    await data.start();
  });

  afterAll(async () => {
    await sweeper.stop();
    await new Promise((resolve) => server.close(resolve));
    scheduler.close();
    await data.close();
    await dropIsolatedTestTenants(pools.owner, created);
    await owner.end();
    await pools.end();
  });

  async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}/admin/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${auth}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('moves a writing tenant with tenantctl, which follows the move on stderr and prints its end on stdout', async () => {
    const tenant = await createIsolatedTestTenant(pools.owner, 'pooled', 'mva');
    created.push(tenant);
    await data.withTenant(tenant, (tx) => tx.query(`INSERT INTO records (id, title) SELECT gen_random_uuid(), 'r' || g FROM generate_series(1, 2000) g`));
    let writes = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        try {
          await data.withTenant(tenant, (tx) => tx.query(`INSERT INTO records (id, title) VALUES (gen_random_uuid(), 'live')`));
          writes += 1;
        } catch (err) {
          if ((err as { retriable?: boolean }).retriable !== true) throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    const run = await tenantctl(
      ['--json', 'tenants', 'move', tenant, '--to', 'schema', '--grace', '0s', '--wait-cleanup', '--poll', '100ms', '--reason', 'grew'],
      {
        ADMIN_URL: base,
        FAIRWAY_OPERATOR_TOKEN: auth,
      },
    );
    stop = true;
    await writer;
    expect(run.stderr).toMatch(/started/);
    expect(run.code).toBe(0);
    const move = JSON.parse(run.stdout) as TenantMoveStatus;
    expect(move).toMatchObject({ tenantId: tenant, state: 'done', switched: true, source: { model: 'pooled' }, target: { model: 'schema' } });
    expect(move.fenceMs).toEqual(expect.any(Number));
    expect((await findTenant(pools.owner, tenant))?.isolationModel).toBe('schema');
    const { rows } = await data.withTenant(tenant, (tx) => tx.query<{ n: string }>('SELECT count(*) AS n FROM records'));
    expect(Number(rows[0]?.n)).toBe(2000 + writes);

    const status = await call('GET', `/tenants/${tenant}/moves/${move.id}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ id: move.id, state: 'done', reason: 'grew', startedBy: 'alice' });
    // Done: the old copy is gone, nothing to roll back to.
    const late = await call('POST', `/tenants/${tenant}/moves/${move.id}/rollback`);
    expect(late.status).toBe(400);
    expect(String(late.body['detail'])).toMatch(/only a move in its grace period/);
    const list = await call('GET', `/tenants/${tenant}/moves`);
    expect((list.body['moves'] as Array<{ id: string }>).map((m) => m.id)).toEqual([move.id]);
  });

  it('answers bad moves with problem documents: an unknown model (400), the same place (409), an unknown move (404)', async () => {
    const tenant = await createIsolatedTestTenant(pools.owner, 'schema', 'mva');
    created.push(tenant);
    const bad = await call('POST', `/tenants/${tenant}/moves`, { to: 'cloud' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    const same = await call('POST', `/tenants/${tenant}/moves`, { to: 'schema' });
    expect(same).toMatchObject({ status: 409, body: { code: 'TENANT_MOVE_CONFLICT', reason: 'already-there', tenant, retriable: false } });
    expect(String(same.body['detail'])).toMatch(/already in the schema model/);
    expect((await call('GET', `/tenants/${tenant}/moves/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await call('POST', `/tenants/no-such-tenant-x/moves`, { to: 'pooled' })).status).toBe(404);
  });

  it('answers a second move of a moving tenant with 409 TENANT_MOVE_CONFLICT naming the running move, and tenantctl says so', async () => {
    const tenant = await createIsolatedTestTenant(pools.owner, 'schema', 'mva');
    created.push(tenant);
    // A long grace keeps the first move running (switched, old copy kept) for as long as the test needs.
    const first = await call('POST', `/tenants/${tenant}/moves`, { to: 'pooled', grace: '1h' });
    expect(first.status).toBe(202);
    const moveId = String(first.body['id']);
    const second = await call('POST', `/tenants/${tenant}/moves`, { to: 'database' });
    expect(second).toMatchObject({ status: 409, body: { code: 'TENANT_MOVE_CONFLICT', reason: 'already-moving', moveId, retriable: true } });
    expect(String(second.body['detail'])).toMatch(/already moving/);
    const cli = await tenantctl(['tenants', 'move', tenant, '--to', 'database', '--no-wait'], { ADMIN_URL: base, FAIRWAY_OPERATOR_TOKEN: auth });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/409 TENANT_MOVE_CONFLICT: tenant '.+' is already moving/);
    expect(cli.stderr).toContain(`tenantctl tenants move-status ${tenant}`);
    // Wait for the grace period, roll the move back and wait for its end, so nothing runs on after the test.
    for (let phase = ''; phase !== 'grace';) {
      const status = await call('GET', `/tenants/${tenant}/moves/${moveId}`);
      expect(status.body['state']).toBe('running');
      phase = String(status.body['phase']);
      if (phase !== 'grace') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await call('POST', `/tenants/${tenant}/moves/${moveId}/rollback`)).status).toBe(202);
    for (let state = 'running'; state === 'running';) {
      state = String((await call('GET', `/tenants/${tenant}/moves/${moveId}`)).body['state']);
      if (state === 'running') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await findTenant(pools.owner, tenant))?.isolationModel).toBe('schema');
  });
});
