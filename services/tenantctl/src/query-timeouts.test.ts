import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from './cli';
import { ExitCode } from './exit-codes';

const TOKEN = 'operator-token';

describe('tenantctl query-timeouts', () => {
  const requests: Array<{ method: string; url: string; body: unknown }> = [];
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    const limits = { statementTimeoutMs: null, lockTimeoutMs: null, idleInTransactionTimeoutMs: null };
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body: unknown = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
        requests.push({ method: req.method ?? '', url: req.url ?? '', body });
        const tenant = /^\/admin\/v1\/tenants\/([^/]+)\/query-timeouts$/.exec(req.url ?? '');
        const answer = {
          scope: tenant ? 'tenant' : 'plan',
          name: decodeURIComponent(tenant?.[1] ?? '*'),
          interactive: { ...limits, ...((body as Record<string, object> | undefined)?.['interactive'] ?? {}) },
          heavy: { ...limits, ...((body as Record<string, object> | undefined)?.['heavy'] ?? {}) },
          updatedAt: '2026-01-01T00:00:00.000Z',
          updatedBy: 'ops',
        };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function ctl(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env: { FAIRWAY_OPERATOR_TOKEN: TOKEN, ADMIN_URL: url } });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('sets a tenant limit from a duration and puts another back to inheriting, in one PUT of the admin contract', async () => {
    const result = await ctl(['query-timeouts', 'set', 'acme', '--workload', 'heavy', '--statement-timeout', '30s', '--inherit', 'lock-timeout']);
    expect(result.code).toBe(ExitCode.ok);
    expect(requests.at(-1)).toEqual({
      method: 'PUT',
      url: '/admin/v1/tenants/acme/query-timeouts',
      body: { heavy: { statementTimeoutMs: 30_000, lockTimeoutMs: null } },
    });
    expect(result.out).toMatch(/heavy statement timeout\s+30000 ms/);
  });

  it("addresses a plan with --plan ('*' is the default plan)", async () => {
    expect((await ctl(['query-timeouts', 'get', '--plan', '*'])).code).toBe(ExitCode.ok);
    expect(requests.at(-1)).toMatchObject({ method: 'GET', url: '/admin/v1/plans/*/query-timeouts' });
  });

  it.each([
    ['a duration that is not one', ['--statement-timeout', 'soon']],
    ['a limit over a day', ['--lock-timeout', '25h']],
    ['no workload', []],
  ])('refuses %s before any request', async (_name, flags) => {
    const before = requests.length;
    const args = ['query-timeouts', 'set', 'acme', ...(flags.length === 0 ? ['--statement-timeout', '1s'] : ['--workload', 'interactive', ...flags])];
    const result = await ctl(args);
    expect(result.code).toBe(ExitCode.usage);
    expect(requests.length).toBe(before);
  });
});
