import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * tenantctl as operators run it (`npm run -s tenantctl`: scripts/run-ts.cjs in a process of its
 * own) with its stdout a real pipe. Before #18 it called process.exit() while a pipe still held
 * the output back: `tenants list --json | jq` got 65,536 bytes and the table stopped after ~720
 * lines. Each tenant here prints about 230 bytes of JSON and the last page of 500 is over 64 KiB,
 * more than a pipe holds, so an exit that does not wait for stdout cuts it every time.
 */
const ROOT = path.resolve(__dirname, '../../..');
const TENANTS = 10_000;
const ids = Array.from({ length: TENANTS }, (_, i) => `pipe-${String(i).padStart(5, '0')}`);
const tenant = (id: string) => ({
  id,
  slug: id,
  displayName: `Pipe test tenant ${id}`,
  status: 'active',
  isolationModel: 'pooled',
  plan: 'standard',
  createdAt: '2026-01-01T00:00:00.000Z',
});

/** The admin API's paged GET /admin/v1/tenants (limit 1-1000, after, nextAfter), counting the pages it serves. */
function pagedAdmin() {
  const served = { pages: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const limit = Number(url.searchParams.get('limit') ?? 100);
    if (url.pathname !== '/admin/v1/tenants' || !Number.isInteger(limit) || limit < 1 || limit > 1000) return res.writeHead(400).end();
    const after = url.searchParams.get('after');
    const start = after === null ? 0 : ids.findIndex((id) => id > after);
    const page = start < 0 ? [] : ids.slice(start, start + limit);
    served.pages += 1;
    const nextAfter = start >= 0 && start + limit < ids.length ? page[page.length - 1] : null;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tenants: page.map(tenant), nextAfter }));
  });
  return { server, served };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs tenantctl with `args`, its stdout a pipe read by a slow consumer: one chunk, then back to
 * the event loop before the next, so the pipe is full most of the time. With `stopAfter`, the
 * consumer closes its end once it has that many bytes, as `head -c` does.
 */
function tenantctl(args: string[], adminUrl: string, stopAfter?: number): Promise<Run> {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run-ts.cjs'), path.join(ROOT, 'services/tenantctl/src/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_URL: adminUrl, FAIRWAY_OPERATOR_TOKEN: 'operator-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let received = 0;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    received += chunk.length;
    if (stopAfter !== undefined && received >= stopAfter) {
      child.stdout.destroy();
      return;
    }
    child.stdout.pause();
    setImmediate(() => child.stdout.resume());
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr }));
  });
}

describe('tenantctl output on a pipe', () => {
  const admin = pagedAdmin();
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => admin.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(admin.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => admin.server.close(() => resolve()));
  });

  it('prints every tenant of a 10,000-tenant catalog as one valid JSON array (tenants list --json | jq)', async () => {
    const run = await tenantctl(['tenants', 'list', '--json'], url);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(2_000_000);
    const listed = JSON.parse(run.stdout) as Array<{ id: string }>;
    expect(listed.map((t) => t.id)).toEqual(ids);
  });

  it('prints the whole table: a header and one line per tenant, in order', async () => {
    const run = await tenantctl(['tenants', 'list'], url);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(TENANTS + 1);
    expect(lines[0]).toMatch(/^TENANT\s+STATUS/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(ids);
  });

  it('stops quietly when the reader closes the pipe early (| head -c 1000), without fetching the rest', async () => {
    const before = admin.served.pages;
    const run = await tenantctl(['tenants', 'list', '--json'], url, 1_000);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.startsWith('[\n  {\n    "id": "pipe-00000"')).toBe(true);
    // Pages are fetched as the reader takes them: 20 pages make the whole list; a reader that
    // stopped after 1,000 bytes costs a few.
    expect(admin.served.pages - before).toBeLessThan(5);
  });
});
