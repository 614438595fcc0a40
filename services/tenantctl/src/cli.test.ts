import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from './cli';
import { ExitCode } from './exit-codes';
import { capacityLine, renderTopFrame } from './top';

const TOKEN = 'operator-token';

interface Tenant {
  id: string;
  displayName: string;
  status: string;
  plan: string;
  isolationModel: string;
  createdAt: string;
}

/** A small admin API on a real socket, implementing the contract tenantctl speaks. */
function adminServer(options: { migrations?: boolean } = {}) {
  const tenants = new Map<string, Tenant>();
  const quotas = new Map<string, Record<string, unknown>>();
  const keys = new Map<string, { tenant: string; revokedAt?: string }>();
  const requests: Array<{ method: string; url: string; body: unknown }> = [];
  let migrationPolls = 0;
  const problem = (res: http.ServerResponse, status: number, code: string, detail: string) =>
    res.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'about:blank', title: code, status, code, detail }));
  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : undefined;
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? '', url: `${url.pathname}${url.search}`, body });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return problem(res, 401, 'UNAUTHENTICATED', 'send an operator token');
      const route = `${req.method} ${url.pathname.replace(/^\/admin\/v1/, '')}`;
      let m: RegExpExecArray | null;
      if (route === 'GET /tenants') return json(res, 200, { tenants: [...tenants.values()] });
      if (route === 'POST /tenants') {
        const id = String(body?.['id']);
        if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) return problem(res, 400, 'VALIDATION_FAILED', `'${id}' is not a tenant id`);
        const tenant = {
          id,
          displayName: String(body?.['displayName'] ?? id),
          status: 'active',
          plan: String(body?.['plan'] ?? 'standard'),
          isolationModel: String(body?.['isolationModel'] ?? 'pooled'),
          createdAt: '2025-01-01T00:00:00.000Z',
        };
        tenants.set(id, tenant);
        return json(res, 201, tenant);
      }
      if ((m = /^(GET|DELETE) \/tenants\/([^/]+)$/.exec(route))) {
        const tenant = tenants.get(m[2] ?? '');
        if (!tenant) return problem(res, 404, 'NOT_FOUND', `tenant '${m[2]}' not found`);
        if (m[1] === 'DELETE') tenant.status = 'deleted';
        return json(res, 200, tenant);
      }
      if ((m = /^POST \/tenants\/([^/]+)\/(suspend|resume)$/.exec(route))) {
        const tenant = tenants.get(m[1] ?? '');
        if (!tenant) return problem(res, 404, 'NOT_FOUND', `tenant '${m[1]}' not found`);
        tenant.status = m[2] === 'suspend' ? 'suspended' : 'active';
        return json(res, 200, tenant);
      }
      if ((m = /^POST \/tenants\/([^/]+)\/api-keys$/.exec(route))) {
        const id = `00000000-0000-4000-8000-00000000000${keys.size}`;
        keys.set(id, { tenant: m[1] ?? '' });
        return json(res, 201, { id, prefix: 'fw_live_abc', key: 'fw_live_abc.secretpart' });
      }
      if ((m = /^DELETE \/tenants\/([^/]+)\/api-keys\/([^/]+)$/.exec(route))) {
        const key = keys.get(m[2] ?? '');
        if (!key || key.tenant !== m[1]) return problem(res, 404, 'NOT_FOUND', 'api key not found');
        key.revokedAt = '2025-01-01T00:00:01.000Z';
        return json(res, 200, { id: m[2], revokedAt: key.revokedAt });
      }
      if ((m = /^(GET|PUT) \/tenants\/([^/]+)\/quota$/.exec(route))) {
        const id = m[2] ?? '';
        const quota = quotas.get(id) ?? { tenantId: id, weight: 1, rate: null, burst: null, maxInFlight: null };
        if (m[1] === 'PUT') {
          for (const [k, v] of Object.entries(body ?? {})) if (k !== 'clear') quota[k] = v;
          for (const k of (body?.['clear'] as string[] | undefined) ?? []) quota[k] = k === 'weight' ? 1 : null;
          quota['updatedBy'] = 'alice';
          quota['updatedAt'] = '2025-01-01T00:00:02.000Z';
          quotas.set(id, quota);
        }
        return json(res, 200, quota);
      }
      if (route === 'GET /stats') {
        // As the admin API answers: with ?sort= the `limit` first by queue depth and the fleet's
        // totals; with only ?limit= a keyset page, one tenant a page (an answer may hold fewer than asked).
        const after = url.searchParams.get('after');
        const limit = Number(url.searchParams.get('limit') ?? 20);
        const paged = <T extends { tenantId: string; queued: number; inFlight: number }>(all: T[]) => {
          const totals = { tenants: all.length, queued: 0, inFlight: 0, busy: all.length };
          for (const t of all) {
            totals.queued += t.queued;
            totals.inFlight += t.inFlight;
          }
          if (url.searchParams.get('sort') === 'queued') return { tenants: [...all].sort((a, b) => b.queued - a.queued).slice(0, limit), totals };
          if (!url.searchParams.has('limit')) return { tenants: all, totals };
          const rest = all.filter((t) => after === null || t.tenantId > after);
          return { tenants: rest.slice(0, 1), nextAfter: rest.length > 1 ? rest[0]?.tenantId : null, totals };
        };
        return json(res, 200, {
          ...paged([
            {
              tenantId: 'acme',
              queued: 3,
              inFlight: 2,
              weight: 1,
              maxInFlight: 4,
              waitP50Ms: 120,
              waitP99Ms: 900,
              share: 0.2,
              entitlement: 0.5,
              dispatched: 10,
              throttled: 1,
            },
            {
              tenantId: 'globex',
              queued: 40,
              inFlight: 4,
              weight: 1,
              maxInFlight: 4,
              waitP50Ms: 2_000,
              waitP99Ms: 65_000,
              share: 0.8,
              entitlement: 0.5,
              dispatched: 40,
              throttled: 9,
            },
          ]),
          capacity: {
            total: 32,
            inUse: 6,
            tiers: [
              { name: 'interactive', slots: 8, inUse: 0, share: 25 },
              { name: 'standard', slots: 16, inUse: 6, share: 50 },
              { name: 'heavy', slots: 8, inUse: 0, share: 25 },
            ],
            workers: [
              { workerId: 'worker-1', address: '127.0.0.1:7061', capacity: 16, inUse: 3 },
              { workerId: 'worker-2', address: '127.0.0.1:7062', capacity: 16, inUse: 3 },
            ],
          },
        });
      }
      if ((m = /^GET \/tenants\/([^/]+)\/explain$/.exec(route)))
        return json(res, 200, { tenantId: m[1], state: 'no-tokens', reason: 'out of rate tokens', details: { tokens: 0, nextTokenInMs: 250 } });
      if (route === 'GET /audit/verify')
        return json(
          res,
          200,
          url.searchParams.get('tenant') === 'tampered' ? { ok: false, chains: 1, entries: 3, firstBroken: { seq: 2 } } : { ok: true, chains: 2, entries: 7 },
        );
      if (route === 'GET /audit')
        return json(res, 200, {
          entries: [{ at: '2025-01-01T00:00:00.000Z', actor: 'alice', action: 'quota.set', target: url.searchParams.get('tenant') }],
          nextAfter: null,
        });
      if (options.migrations && route === 'POST /migrations') return json(res, 202, { id: 'mig-1', state: 'running', done: 0, total: 3, current: 'acme' });
      if (options.migrations && route === 'GET /migrations/mig-1') {
        migrationPolls += 1;
        return json(
          res,
          200,
          migrationPolls < 3
            ? { id: 'mig-1', state: 'running', done: migrationPolls, total: 3, current: 'globex' }
            : { id: 'mig-1', state: 'succeeded', done: 3, total: 3 },
        );
      }
      return problem(res, 404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
    });
  });
  return { server, tenants, quotas, requests };
}

describe('tenantctl against the admin API', () => {
  let api: ReturnType<typeof adminServer>;
  let url: string;

  beforeEach(async () => {
    api = adminServer();
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => api.server.close(() => resolve())));

  /** Runs tenantctl; the token comes from the environment as an operator's shell would give it. */
  async function ctl(args: string[], env: NodeJS.ProcessEnv = { FAIRWAY_OPERATOR_TOKEN: TOKEN, ADMIN_URL: url }) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('creates, lists, suspends, resumes and deletes tenants, as tables and as JSON', async () => {
    expect((await ctl(['tenants', 'create', 'acme', '--display-name', 'Acme Corp', '--plan', 'gold', '--isolation-model', 'schema'])).out).toBe(
      'created tenant acme (active)',
    );
    expect(api.requests.at(-1)).toMatchObject({
      method: 'POST',
      url: '/admin/v1/tenants',
      body: { id: 'acme', displayName: 'Acme Corp', plan: 'gold', isolationModel: 'schema' },
    });
    const listed = await ctl(['tenants', 'list']);
    expect(listed.code).toBe(ExitCode.ok);
    expect(listed.out.split('\n')[0]).toMatch(/^TENANT\s+STATUS\s+PLAN\s+ISOLATION\s+NAME\s+CREATED$/);
    expect(listed.out).toMatch(/acme\s+active\s+gold\s+schema\s+Acme Corp/);
    const json = await ctl(['--json', 'tenants', 'list']);
    expect(JSON.parse(json.out)).toEqual([expect.objectContaining({ id: 'acme', status: 'active' })]);
    expect((await ctl(['tenants', 'suspend', 'acme'])).out).toBe('tenant acme is now suspended');
    expect((await ctl(['tenants', 'resume', 'acme'])).out).toBe('tenant acme is now active');
    expect((await ctl(['tenants', 'delete', 'acme', '--yes'])).out).toBe('tenant acme is now deleted');
  });

  it('refuses to delete without --yes, before calling the API (exit 2)', async () => {
    const result = await ctl(['tenants', 'delete', 'acme']);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.err).toContain('without --yes');
    expect(api.requests).toHaveLength(0);
  });

  it.each([
    ['an unknown tenant', ['tenants', 'show', 'nobody'], ExitCode.notFound, /NOT_FOUND: tenant 'nobody' not found/],
    ['a bad tenant id', ['tenants', 'create', 'Not Valid'], ExitCode.failure, /VALIDATION_FAILED/],
    ['an unknown key', ['keys', 'revoke', 'acme', 'nope'], ExitCode.notFound, /api key not found/],
  ])('maps %s to its exit code and prints the problem', async (_name, args, code, message) => {
    const result = await ctl(args);
    expect(result.code).toBe(code);
    expect(result.err).toMatch(message);
  });

  it('exits 4 with a hint when the token is missing or refused', async () => {
    const missing = await ctl(['tenants', 'list'], { ADMIN_URL: url });
    expect(missing.code).toBe(ExitCode.unauthorised);
    expect(missing.err).toContain('npm run -s token -- --operator');
    const wrong = await ctl(['--token', 'not-an-operator', 'tenants', 'list'], { ADMIN_URL: url });
    expect(wrong.code).toBe(ExitCode.unauthorised);
    expect(wrong.err).toContain('UNAUTHENTICATED');
  });

  it('prefers --token and --admin-url over the environment', async () => {
    const result = await ctl(['--admin-url', url, '--token', TOKEN, 'tenants', 'list'], { ADMIN_URL: 'http://127.0.0.1:1', FAIRWAY_OPERATOR_TOKEN: 'wrong' });
    expect(result.code).toBe(ExitCode.ok);
  });

  it('exits 5 when the admin API cannot be reached', async () => {
    const result = await ctl(['--admin-url', 'http://127.0.0.1:1', 'tenants', 'list']);
    expect(result.code).toBe(ExitCode.unavailable);
    expect(result.err).toContain('cannot reach the admin API at http://127.0.0.1:1');
  });

  it('issues and revokes an API key, showing the key once', async () => {
    const issued = await ctl(['keys', 'issue', 'acme']);
    expect(issued.out).toMatch(/key\s+fw_live_abc\.secretpart/);
    expect(issued.out).toContain('not shown again');
    const keyId = /key id\s+(\S+)/.exec(issued.out)?.[1] ?? '';
    const revoked = await ctl(['keys', 'revoke', 'acme', keyId]);
    expect(revoked.code).toBe(ExitCode.ok);
    expect(revoked.out).toContain(`revoked key ${keyId} of acme at 2025-01-01T00:00:01.000Z`);
  });

  it('sets only the quota fields given, and clears fields by name', async () => {
    const set = await ctl(['quotas', 'set', 'acme', '--weight', '3', '--max-in-flight', '8']);
    expect(set.code).toBe(ExitCode.ok);
    expect(api.requests.at(-1)).toMatchObject({ method: 'PUT', url: '/admin/v1/tenants/acme/quota', body: { weight: 3, maxInFlight: 8 } });
    expect(set.out).toMatch(/max in flight\s+8/);
    await ctl(['quotas', 'set', 'acme', '--rate', '5', '--burst', '10']);
    await ctl(['quotas', 'set', 'acme', '--clear', 'rate', 'burst']);
    expect(api.requests.at(-1)?.body).toEqual({ clear: ['rate', 'burst'] });
    const got = await ctl(['--json', 'quotas', 'get', 'acme']);
    expect(JSON.parse(got.out)).toMatchObject({ tenantId: 'acme', weight: 3, maxInFlight: 8, rate: null, burst: null });
    // Cost-based rates and per-class caps: flags derived from the quota schema, no code of their own.
    const costed = await ctl(['quotas', 'set', 'acme', '--rate', '500', '--rate-basis', 'cost', '--max-in-flight-by-class', 'heavy=2,interactive=8']);
    expect(costed.code).toBe(ExitCode.ok);
    expect(api.requests.at(-1)?.body).toEqual({ rate: 500, rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } });
    expect(costed.out).toMatch(/rate basis\s+cost/);
    expect(costed.out).toMatch(/max in flight by class\s+heavy=2, interactive=8/);
    expect((await ctl(['quotas', 'set', '--help'])).out).toMatch(/--max-in-flight-by-class <key=n,\.\.\.>\s+jobs running at once per job class/);
    // Every field can be cleared back to its default, weight included: the same list the API accepts.
    const cleared = await ctl(['quotas', 'set', 'acme', '--clear', 'weight', 'max-in-flight']);
    expect(cleared.code).toBe(ExitCode.ok);
    expect(api.requests.at(-1)?.body).toEqual({ clear: ['weight', 'maxInFlight'] });
    expect(cleared.out).toMatch(/max in flight\s+unset/);
  });

  it.each([
    ['no field', ['quotas', 'set', 'acme'], /at least one of/],
    ['a zero weight', ['quotas', 'set', 'acme', '--weight', '0'], /--weight.*greater than 0 \(got '0'\)/],
    ['a weight that is not a number', ['quotas', 'set', 'acme', '--weight', 'heavy'], /--weight.*Expected number/],
    ['a fractional max in flight', ['quotas', 'set', 'acme', '--max-in-flight', '1.5'], /--max-in-flight.*integer/],
    ['an unknown field to clear', ['quotas', 'set', 'acme', '--clear', 'colour'], /--clear takes weight, rate, burst, maxInFlight/],
    ['a rate basis the API does not know', ['quotas', 'set', 'acme', '--rate-basis', 'bytes'], /--rate-basis.*'jobs' \| 'cost'/],
    [
      'a per-class cap of 0',
      ['quotas', 'set', 'acme', '--max-in-flight-by-class', 'heavy=0'],
      /--max-in-flight-by-class.*heavy: Number must be greater than or equal to 1/,
    ],
    ['a per-class cap without a number', ['quotas', 'set', 'acme', '--max-in-flight-by-class', 'heavy'], /--max-in-flight-by-class.*heavy/],
    ['a field both set and cleared', ['quotas', 'set', 'acme', '--rate', '5', '--clear', 'rate'], /'rate' is both set and cleared/],
    ['an isolation model the API does not accept', ['tenants', 'create', 'acme', '--isolation-model', 'silo'], /Allowed choices are pooled, schema, database/],
    ['an unknown command', ['tenants', 'frobnicate'], /unknown command/],
    ['an unknown option', ['tenants', 'list', '--colour'], /unknown option/],
  ])('rejects %s as a usage error (exit 2) without calling the API', async (_name, args, message) => {
    const result = await ctl(args);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.err).toMatch(message);
    expect(api.requests).toHaveLength(0);
  });

  it('prints help for every command with exit 0', async () => {
    for (const args of [['--help'], ['tenants', '--help'], ['quotas', 'set', '--help'], ['top', '--help'], ['audit', 'verify', '--help']]) {
      const result = await ctl(args);
      expect(result.code).toBe(ExitCode.ok);
      expect(result.out).toMatch(/^Usage: tenantctl/);
    }
  });

  it('prints one frame of top, tenants by queue depth, with share against entitlement', async () => {
    const result = await ctl(['top', '--once']);
    expect(result.code).toBe(ExitCode.ok);
    const lines = result.out.split('\n');
    expect(lines[0]).toMatch(/tenants 2\s+queued 43\s+in flight 6/);
    expect(lines[1]).toBe('capacity 6/32 slots in use on 2 workers  tiers: interactive 0/8 (25%)  standard 6/16 (50%)  heavy 0/8 (25%)');
    expect(lines[3]).toMatch(/^TENANT\s+QUEUED\s+IN-FLIGHT\s+WEIGHT\s+WAIT-P50\s+WAIT-P99\s+SHARE\s+ENTITLED\s+FAIR\s+THROTTLED$/);
    expect(lines[4]).toMatch(/^globex\s+40\s+4\/4\s+1\s+2\.0s\s+1m05s\s+80\.0%\s+50\.0%\s+over\s+9$/);
    expect(lines[5]).toMatch(/^acme\s+3\s+2\/4\s+1\s+120ms\s+900ms\s+20\.0%\s+50\.0%\s+under\s+1$/);
    const json = await ctl(['--json', 'top', '--once']);
    expect(JSON.parse(json.out).tenants).toHaveLength(2);
  });

  it('keeps refreshing top until interrupted', async () => {
    let interrupt!: () => void;
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
    const frames: string[] = [];
    const running = runCli(['top', '--interval', '100ms'], {
      out: (t) => {
        frames.push(t);
        if (frames.length === 3) interrupt();
      },
      err: () => undefined,
      env: { FAIRWAY_OPERATOR_TOKEN: TOKEN, ADMIN_URL: url },
      interrupted,
    });
    expect(await running).toBe(ExitCode.ok);
    expect(frames.length).toBeGreaterThanOrEqual(3);
    // One answer a frame: the server ranks the fleet and counts it (#18), whatever its size.
    const statsRequests = api.requests.filter((r) => r.url.startsWith('/admin/v1/stats'));
    expect(statsRequests.map((r) => r.url)).toEqual(frames.map(() => '/admin/v1/stats?sort=queued&limit=20'));
  });

  it('explains a tenant with the details the scheduler gave', async () => {
    const result = await ctl(['explain', 'acme']);
    expect(result.out).toMatch(/state\s+no-tokens/);
    expect(result.out).toMatch(/reason\s+out of rate tokens/);
    expect(result.out).toMatch(/nextTokenInMs\s+250/);
  });

  it('verifies the audit trail, exiting 1 when a chain is broken', async () => {
    const ok = await ctl(['audit', 'verify']);
    expect(ok).toMatchObject({ code: ExitCode.ok, out: 'audit trail verified: 2 chain(s), 7 entries, every link intact' });
    const broken = await ctl(['audit', 'verify', '--tenant', 'tampered']);
    expect(broken.code).toBe(ExitCode.failure);
    expect(broken.out).toContain('AUDIT TRAIL BROKEN');
    expect(api.requests.at(-1)?.url).toBe('/admin/v1/audit/verify?tenant=tampered');
    const listed = await ctl(['audit', 'list', '--tenant', 'acme', '--action', 'quota.set']);
    expect(listed.out).toMatch(/alice\s+quota\.set\s+acme/);
  });

  it('says clearly that migrate is unavailable when the admin API has no migration endpoint (exit 5)', async () => {
    const result = await ctl(['migrate']);
    expect(result.code).toBe(ExitCode.unavailable);
    expect(result.err).toContain('has no migration endpoint (POST /admin/v1/migrations)');
  });
});

describe('tenantctl migrate with a migration endpoint', () => {
  it('follows the migration to the end with a progress bar', async () => {
    const api = adminServer({ migrations: true });
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    const out: string[] = [];
    const err: string[] = [];
    try {
      const code = await runCli(['migrate', '--poll', '100ms'], {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
        env: { FAIRWAY_OPERATOR_TOKEN: TOKEN, ADMIN_URL: url },
      });
      expect(code).toBe(ExitCode.ok);
      expect(err[0]).toMatch(/^\[\.+\]\s+0% 0\/3 acme$/);
      expect(err.at(-1)).toMatch(/^\[#+\] 100% 3\/3$/);
      expect(out).toEqual(['migration mig-1 succeeded: 3/3 tenants']);
    } finally {
      await new Promise<void>((resolve) => api.server.close(() => resolve()));
    }
  });
});

describe('renderTopFrame', () => {
  it('limits and sorts the rows', () => {
    const rows = ['a', 'b', 'c'].map((tenantId, i) => ({ tenantId, queued: i, inFlight: 0 }));
    const frame = renderTopFrame(rows, { sort: 'tenant', limit: 2, at: new Date(0) });
    expect(
      frame
        .split('\n')
        .slice(3)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['a', 'b']);
  });
});

describe('capacityLine', () => {
  it('says how many jobs a tier may claim ahead of its free slots, and counts them in use', () => {
    const line = capacityLine({
      total: 24,
      inUse: 24,
      tiers: [
        { name: 'standard', slots: 24, inUse: 40, ahead: 16 },
        { name: 'heavy', slots: 2, inUse: 0, ahead: 0, share: 10 },
      ],
      workers: [{ workerId: 'worker-1', address: '127.0.0.1:7061', capacity: 24, inUse: 24 }],
    });
    expect(line).toBe('capacity 24/24 slots in use on 1 worker  tiers: standard 40/24 +16 ahead  heavy 0/2 (10%)');
  });
});
