import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QUOTA_DEFAULTS } from '@fairway/quota';
import { traceEndLine, traceJobLine } from '@fairway/what-if';
import { runCli } from './cli';

/**
 * `tenantctl trace export` as operators run it (its own process, stdout a pipe read slowly) and
 * `tenantctl simulate --trace ... --set ...` on what it wrote. The admin API is a stub serving a
 * trace of 20,000 jobs (~3.6 MB, far more than a pipe holds) in chunks, as the control plane
 * streams it; a second route cuts the stream before its end line.
 */
const ROOT = path.resolve(__dirname, '../../..');
const JOBS = 20_000;
const TENANTS = ['acme', 'globex', 'initech'];

function traceLines(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const tenant = TENANTS[i % 3] as string;
    // 4 slots; every 480 ms a burst of 30 jobs (10 a tenant, acme's 90 ms, the others' 45 ms): ~94% busy, waits build and drain.
    lines.push(
      traceJobLine({
        id: `job-${i}`,
        tenantId: tenant,
        jobClass: 'standard',
        priority: 0,
        state: 'succeeded',
        attempts: 1,
        arrivalMs: Math.floor(i / 30) * 480,
        waitMs: 0,
        costMs: tenant === 'acme' ? 90 : 45,
      }),
    );
  }
  const quotas = Object.fromEntries(TENANTS.map((t) => [t, QUOTA_DEFAULTS]));
  lines.push(
    traceEndLine({ from: '2026-12-06T21:00:00.000Z', to: '2026-12-06T22:00:00.000Z', jobs: JOBS, unfinished: 0, tiers: { standard: { slots: 4 } }, quotas }),
  );
  return lines;
}

function stubAdmin(lines: string[]) {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/admin/v1/trace' || url.searchParams.get('since') !== '1h') return res.writeHead(400).end();
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    // The cut variant stops half way, as a control plane that fails mid-stream does.
    const upTo = url.searchParams.get('tenant') === 'cut' ? JOBS / 2 : lines.length;
    for (let i = 0; i < upTo; i += 500) {
      if (!res.write(lines.slice(i, Math.min(i + 500, upTo)).join('\n') + '\n')) await new Promise((resolve) => res.once('drain', resolve));
    }
    if (upTo < lines.length) res.destroy();
    else res.end();
  });
}

function tenantctl(args: string[], adminUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run-ts.cjs'), path.join(ROOT, 'services/tenantctl/src/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_URL: adminUrl, FAIRWAY_OPERATOR_TOKEN: 'operator-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // A slow reader: one chunk, then back to the event loop, so the pipe stays full.
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    child.stdout.pause();
    setImmediate(() => child.stdout.resume());
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr }));
  });
}

describe('tenantctl trace export and simulate on a recorded trace', () => {
  const lines = traceLines();
  const server = stubAdmin(lines);
  const dir = mkdtempSync(path.join(tmpdir(), 'what-if-cli-'));
  let adminUrl: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    adminUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the whole trace to a slow pipe, every line and the end line, and exits 0', async () => {
    const run = await tenantctl(['trace', 'export', '--since', '1h'], adminUrl);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(lines.join('\n') + '\n');
  });

  it('fails with exit 5 when the answer is cut before its end line, saying so', async () => {
    const run = await tenantctl(['trace', 'export', '--since', '1h', '--tenant', 'cut'], adminUrl);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/tenantctl: (the trace was cut after \d+ job line\(s\)|GET \/trace\?since=1h&tenant=cut: the answer was cut)/);
  });

  it('simulates the exported trace with --set changes, and refuses a bad --set naming it', async () => {
    const file = path.join(dir, 'trace.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), env: {} };
    expect(await runCli(['--json', 'simulate', '--trace', file, '--set', 'acme:weight=3', '--set', 'globex:maxInFlight=1'], io)).toBe(0);
    const report = JSON.parse(out.join('\n')) as {
      jobs: number;
      tenants: Array<{ tenant: string; simulated: { waitP99Ms: number }; proposed: { waitP99Ms: number }; ideal: { waitP99Ms: number } }>;
    };
    expect(report.jobs).toBe(JOBS);
    const byTenant = new Map(report.tenants.map((t) => [t.tenant, t]));
    expect(byTenant.get('globex')!.proposed.waitP99Ms).toBeGreaterThan(byTenant.get('globex')!.simulated.waitP99Ms);
    expect(byTenant.get('acme')!.proposed.waitP99Ms).toBeLessThan(byTenant.get('acme')!.simulated.waitP99Ms);

    out.length = 0;
    expect(await runCli(['simulate', '--trace', file, '--set', 'acme:weight=3'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/TENANT +JOBS +RECORDED p50 \/ p99 +SIMULATED +WITH CHANGES +FLUID IDEAL/);
    expect(out.join('\n')).toContain('changes: acme: weight=3');

    expect(await runCli(['simulate', '--trace', file, '--set', 'acme:weight=0'], io)).toBe(2);
    expect(err.pop()).toBe("tenantctl: --set 'acme:weight=0': weight Number must be greater than 0 (got '0')");
    expect(await runCli(['simulate', '--trace', file, '--set', 'acme=3'], io)).toBe(2);
    expect(err.pop()).toBe("tenantctl: --set 'acme=3': expected <tenant>:<field>=<value>, e.g. acme:weight=3");
    expect(await runCli(['simulate', '--trace', path.join(dir, 'missing.jsonl')], io)).toBe(2);
    expect(err.pop()).toBe(`tenantctl: cannot read trace file '${path.join(dir, 'missing.jsonl')}': ENOENT`);
    writeFileSync(path.join(dir, 'cut.jsonl'), lines.slice(0, 100).join('\n'));
    expect(await runCli(['simulate', '--trace', path.join(dir, 'cut.jsonl')], io)).toBe(2);
    expect(err.pop()).toContain('no end line after 100 job(s): the trace is cut');
  });
});
