import { spawn } from 'node:child_process';
import path from 'node:path';
import { uniqueTenantId } from '@fairway/db/testing';
import { stack } from './support/stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- shared with `npm run -s token`
const { operatorToken } = require(path.join(__dirname, '..', '..', 'scripts', 'lib', 'token.cjs')) as { operatorToken: (o?: object) => Promise<string> };

const ROOT = path.resolve(__dirname, '..', '..');

interface StatsRow {
  tenantId: string;
  queued: number;
  inFlight: number;
  waitP99Ms: number;
  share: number;
}

interface StatsAnswer {
  tenants: StatsRow[];
  totals: { tenants: number; queued: number; inFlight: number; busy: number };
  statsAt: string;
  nextAfter?: string | null;
}

async function stats(query: string, bearer: string) {
  const res = await fetch(`${stack().adminUrl}/admin/v1/stats?${query}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
}

/** tenantctl as operators run it, its stdout a pipe read to the end. */
function tenantctl(args: string[], bearer: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run-ts.cjs'), path.join(ROOT, 'services/tenantctl/src/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_URL: stack().adminUrl, FAIRWAY_OPERATOR_TOKEN: bearer },
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

describe('top-N statistics (#18): GET /admin/v1/stats?sort=&limit= and tenantctl top, on the running stack', () => {
  let operator: string;

  beforeAll(async () => {
    operator = await operatorToken({ subject: 'e2e-top' });
    const res = await fetch(`${stack().adminUrl}/admin/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: uniqueTenantId('top') }),
    });
    expect(res.status).toBe(201);
  });

  it('answers the limit first tenants by each key in one answer, with the totals of the whole fleet', async () => {
    for (const sort of ['queued', 'in-flight', 'wait-p99', 'share', 'tenant'] as const) {
      const res = await stats(`sort=${sort}&limit=3`, operator);
      expect(res.status).toBe(200);
      const body = res.body as unknown as StatsAnswer;
      expect(body.totals.tenants).toBeGreaterThanOrEqual(1);
      expect(body.tenants).toHaveLength(Math.min(3, body.totals.tenants));
      expect(Number.isNaN(Date.parse(body.statsAt))).toBe(false);
      expect(body).not.toHaveProperty('nextAfter');
      const key = { queued: 'queued', 'in-flight': 'inFlight', 'wait-p99': 'waitP99Ms', share: 'share' } as const;
      for (let i = 1; i < body.tenants.length; i++) {
        const [prev, row] = [body.tenants[i - 1] as StatsRow, body.tenants[i] as StatsRow];
        if (sort === 'tenant') expect(prev.tenantId < row.tenantId).toBe(true);
        else expect(prev[key[sort]]).toBeGreaterThanOrEqual(row[key[sort]]);
      }
    }
    // Without a limit a sort answers 20; the keyset listing still pages and counts the same fleet.
    const page = await stats('limit=2', operator);
    expect((page.body as unknown as StatsAnswer).totals.tenants).toBeGreaterThanOrEqual(1);
    const byDefault = (await stats('sort=queued', operator)).body as unknown as StatsAnswer;
    expect(byDefault.tenants).toHaveLength(Math.min(20, byDefault.totals.tenants));
  });

  it.each([
    ['an unknown sort key', 'sort=colour', 'sort'],
    ['a sort with a cursor', 'sort=queued&after=acme', 'after'],
    ['a sort with a limit over 1000', 'sort=share&limit=1001', 'limit'],
  ])('refuses %s with a problem+json 400 naming the parameter', async (_name, query, param) => {
    const res = await stats(query, operator);
    expect(res.status).toBe(400);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ path: param })] });
  });

  it('prints one frame of tenantctl top --once, whole, through a pipe, as JSON and as a table', async () => {
    const json = await tenantctl(['--json', 'top', '--once', '--sort', 'tenant', '--limit', '5'], operator);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const frame = JSON.parse(json.stdout) as { totals: StatsAnswer['totals']; tenants: StatsRow[] };
    expect(frame.tenants).toHaveLength(Math.min(5, frame.totals.tenants));
    const ids = frame.tenants.map((t) => t.tenantId);
    expect(ids).toEqual([...ids].sort());

    const table = await tenantctl(['top', '--once', '--limit', '4'], operator);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^fairway top - \d\d:\d\d:\d\d {2}tenants \d+ {2}queued \d+ {2}in flight \d+ {2}\(sorted by queued\)$/);
    const header = lines.findIndex((line) => line.startsWith('TENANT'));
    expect(header).toBeGreaterThan(0);
    const tenants = Number(/tenants (\d+)/.exec(lines[0] ?? '')?.[1]);
    expect(lines.length - header - 1).toBe(Math.min(4, tenants));
  });
});
