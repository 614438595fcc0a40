/**
 * Scale benchmark (#18 part 2): what holds, and what breaks first, at 50,000 tenants.
 *
 *   npm run -s bench:scale -- --json [--tenants 50000] [--queued 5000] [--quotas 1000] [--api-sample 300] [--edge-requests N] [--skip-edge]
 *
 * Everything runs in one throw-away database (`fairway_bench_scale_<random>`, dropped at the end)
 * on this machine's PostgreSQL and Redis, with the real code of each piece in this process:
 * - onboarding: a sample through the admin API (createAdminApp over HTTP, operator JWT, the real
 *   TenantCatalog: catalog row + audit entry each), then the rest through the same TenantCatalog.create
 *   called in-process, 16 at once (the fastest path that still writes what onboarding writes);
 * - `--queued` tenants get 4 queued jobs each (JobLifecycle.insertJobs, the ingest's statement),
 *   `--quotas` tenants a live quota (QuotaStore.setQuota, history included);
 * - the admin API: every page of GET /admin/v1/tenants at the default (100) and the largest (1000)
 *   page size, and GET /admin/v1/stats (tenantctl top's source) through the real SchedulerAdmin
 *   handlers over gRPC: as one answer, every page of 500 (the full listing, a top frame before
 *   top-N), and as tenantctl top reads it now (?sort=<key>&limit=20, one answer a frame); then the
 *   statements behind a page timed one by one, before and now (`statsStatements`);
 * - the edge: createEdgeApp with the production cache TTLs (TOKEN_CACHE_TTL 30 s, TENANT_CACHE_TTL
 *   2 s), the Redis limiter, and the Kafka acknowledgement replaced by an immediate one (the caches
 *   are measured, not Kafka); one distinct tenant token per tenant, a cold pass (each token once)
 *   and a warm pass (uniformly random tokens); hit rates counted at the signature check and the
 *   catalog query;
 * - the scheduler's fair core (FairScheduler): heap per idle tenant with every tenant registered,
 *   heap and RSS growth per active tenant with `--queued` tenants holding a window of jobs, and
 *   dispatch decisions per second (complete + dispatchNext) at that size;
 * - /metrics: the scheduler's registry after every active tenant was dispatched, waited and had
 *   its queue gauged, and every live quota exported: size, series and scrape time, and whether the
 *   tenant label bound (METRICS_TENANT_LABEL_LIMIT, 1000) held.
 * Baselines (same run): `impl: "unpaged"` is GET /admin/v1/tenants as it answered before #18 (the
 * whole catalog in one answer: the sum of the pages) and GET /admin/v1/stats without a limit (every
 * tenant in one answer, as tenantctl top read it); `impl: "no-cache"` is the edge with both
 * caches off. Progress goes to stderr, JSON to stdout. Re-spawns itself with --expose-gc.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { Client, type Pool } from 'pg';
import { OPERATOR_TOKENS, TokenVerifier } from '@fairway/auth';
import { createPool, prepareDatabase } from '@fairway/db';
import { FairScheduler } from '@fairway/fair-scheduler';
import { bindServer } from '@fairway/grpc';
import type { TenantId } from '@fairway/tenant-context';
import { createLogger, createMetricsRegistry } from '@fairway/telemetry';
import { createAdminApp } from '../services/control-plane/src/admin-app';
import { SchedulerAdminGateway, schedulerAdminService } from '../services/control-plane/src/scheduler-admin-client';
import { TenantCatalog } from '../services/control-plane/src/tenant-catalog';
import { AdmissionController } from '../services/edge/src/admission';
import { PgApiKeyLookup } from '../services/edge/src/api-keys';
import { createEdgeApp } from '../services/edge/src/app';
import { RedisIdempotencyStore } from '../services/edge/src/idempotency';
import { TenantDirectory } from '../services/edge/src/tenant-directory';
import { TenantLimits } from '../services/edge/src/tenant-limits';
import { addSchedulerAdmin, schedulerAdminHandlers } from '../services/scheduler/src/admin';
import { JobStore } from '../services/scheduler/src/job-store';
import { schedulerMetrics } from '../services/scheduler/src/metrics';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const log = (msg: string) => process.stderr.write(`[bench:scale] ${msg}\n`);
const silent = createLogger('bench-scale', 'silent');

function gc(): void {
  (global as unknown as { gc: () => void }).gc();
}

function percentiles(samples: readonly number[]) {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (x: number) => Math.round(x * 100) / 100;
  return { n: samples.length, p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted[sorted.length - 1] ?? 0) };
}

/** Runs `work(i)` for i in [0, n) with at most `concurrency` at once; reports progress every `every`. */
async function parallel(n: number, concurrency: number, work: (i: number) => Promise<void>, progress?: { label: string; every: number }): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      await work(i);
      done += 1;
      if (progress && done % progress.every === 0) log(`${progress.label} ${done}/${n}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

const tenantIdOf = (i: number) => `scale-${String(i).padStart(6, '0')}` as TenantId;

async function timedFetch(url: string, init: RequestInit = {}): Promise<{ ms: number; status: number; bytes: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(url, init);
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, bytes: Buffer.byteLength(body), body };
}

async function listen(app: { listen: (port: number, host: string) => Server }): Promise<{ url: string; close: () => Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Options {
  tenants: number;
  queued: number;
  quotas: number;
  apiSample: number;
  edgeRequests: number;
  /** --skip-edge: leave the edge's passes out (the longest part on a busy machine). */
  skipEdge: boolean;
}

async function onboard(o: Options, admin: string, operator: string, catalog: TenantCatalog) {
  const sample: number[] = [];
  const t0 = performance.now();
  await parallel(o.apiSample, 4, async (i) => {
    const r = await timedFetch(`${admin}/admin/v1/tenants`, {
      method: 'POST',
      headers: { authorization: operator, 'content-type': 'application/json' },
      body: JSON.stringify({ id: tenantIdOf(i) }),
    });
    if (r.status !== 201) throw new Error(`POST /admin/v1/tenants answered ${r.status}: ${r.body}`);
    sample.push(r.ms);
  });
  const apiSeconds = (performance.now() - t0) / 1000;
  log(`admin API: ${o.apiSample} tenants in ${apiSeconds.toFixed(1)} s`);
  const t1 = performance.now();
  const rest = o.tenants - o.apiSample;
  await parallel(rest, 16, (i) => catalog.create({ id: tenantIdOf(o.apiSample + i) }, { actor: 'bench-scale' }).then(() => undefined), {
    label: 'onboarded in-process',
    every: 5_000,
  });
  const bulkSeconds = (performance.now() - t1) / 1000;
  return [
    { impl: 'fairway', path: 'admin-api', tenants: o.apiSample, concurrency: 4, tenantsPerSec: Math.round(o.apiSample / apiSeconds), ...percentiles(sample) },
    {
      impl: 'fairway',
      path: 'catalog-in-process',
      tenants: rest,
      concurrency: 16,
      tenantsPerSec: Math.round(rest / bulkSeconds),
      seconds: Math.round(bulkSeconds),
    },
  ];
}

async function queueWork(o: Options, store: JobStore) {
  const t0 = performance.now();
  const now = new Date().toISOString();
  for (let start = 0; start < o.queued; start += 500) {
    const jobs = [];
    for (let i = start; i < Math.min(o.queued, start + 500); i++) {
      for (let k = 0; k < 4; k++) {
        jobs.push({
          id: randomUUID(),
          tenantId: tenantIdOf(i),
          type: 'synthetic',
          jobClass: 'standard',
          params: { ms: 1 },
          priority: 0,
          traceHeaders: {},
          acceptedAt: now,
          partition: i % 6,
        });
      }
    }
    await store.insertJobs(jobs);
  }
  const queueSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await parallel(o.quotas, 8, (i) => store.setQuota(tenantIdOf(i), { weight: 1 + (i % 4), maxInFlight: 4, clear: [] }, 'bench-scale').then(() => undefined));
  const quotaSeconds = (performance.now() - t1) / 1000;
  return { jobs: o.queued * 4, jobsPerSec: Math.round((o.queued * 4) / queueSeconds), quotas: o.quotas, quotasPerSec: Math.round(o.quotas / quotaSeconds) };
}

async function adminPages(admin: string, operator: string) {
  const results = [];
  for (const limit of [100, 1000]) {
    const times: number[] = [];
    let bytes = 0;
    let tenants = 0;
    let after: string | null = null;
    do {
      const r = await timedFetch(`${admin}/admin/v1/tenants?limit=${limit}${after ? `&after=${after}` : ''}`, { headers: { authorization: operator } });
      if (r.status !== 200) throw new Error(`GET /admin/v1/tenants answered ${r.status}`);
      const page = JSON.parse(r.body) as { tenants: unknown[]; nextAfter: string | null };
      times.push(r.ms);
      bytes += r.bytes;
      tenants += page.tenants.length;
      after = page.nextAfter;
    } while (after);
    log(`admin API: ${times.length} pages of ${limit}, ${tenants} tenants`);
    results.push({
      impl: 'fairway',
      route: 'GET /admin/v1/tenants',
      pageSize: limit,
      pages: times.length,
      tenants,
      maxPageBytes: Math.max(...[bytes / times.length]),
      ...percentiles(times),
    });
    if (limit === 1000) results.push({ impl: 'unpaged', route: 'GET /admin/v1/tenants (one answer, before #18)', tenants, answerBytes: bytes });
  }
  const stats: number[] = [];
  let statsBytes = 0;
  let statsTenants = 0;
  for (let i = 0; i < 5; i++) {
    const r = await timedFetch(`${admin}/admin/v1/stats`, { headers: { authorization: operator } });
    if (r.status !== 200) throw new Error(`GET /admin/v1/stats answered ${r.status}: ${r.body.slice(0, 300)}`);
    stats.push(r.ms);
    statsBytes = r.bytes;
    statsTenants = (JSON.parse(r.body) as { tenants: unknown[] }).tenants.length;
  }
  results.push({
    impl: 'unpaged',
    route: 'GET /admin/v1/stats (one answer, what tenantctl top read before #18)',
    tenants: statsTenants,
    answerBytes: statsBytes,
    ...percentiles(stats),
  });
  // What tenantctl top reads now: every page of 500, one frame after another.
  const pages: number[] = [];
  const frames: number[] = [];
  let pageBytes = 0;
  for (let frame = 0; frame < 3; frame++) {
    const t0 = performance.now();
    let after: string | null = null;
    do {
      const r = await timedFetch(`${admin}/admin/v1/stats?limit=500${after ? `&after=${after}` : ''}`, { headers: { authorization: operator } });
      if (r.status !== 200) throw new Error(`GET /admin/v1/stats?limit=500 answered ${r.status}: ${r.body.slice(0, 300)}`);
      pages.push(r.ms);
      pageBytes = Math.max(pageBytes, r.bytes);
      after = (JSON.parse(r.body) as { nextAfter: string | null }).nextAfter;
    } while (after);
    frames.push(performance.now() - t0);
  }
  results.push({
    impl: 'fairway',
    route: 'GET /admin/v1/stats?limit=500 (tenantctl top, paged)',
    pages: pages.length,
    maxPageBytes: pageBytes,
    ...percentiles(pages),
  });
  results.push({
    impl: 'fairway',
    route: 'full listing: every page of /stats?limit=500 (a tenantctl top frame before top-N)',
    tenants: statsTenants,
    ...percentiles(frames),
  });
  // What tenantctl top reads now (#18): one top-N answer a frame. Frames come every 200 ms (top's
  // default is 2 s), each key in turn, so the scheduler's reading ages and is read again between them.
  const topFrames: number[] = [];
  let topBytes = 0;
  for (let i = 0; i < 60; i++) {
    const sort = ['queued', 'in-flight', 'wait-p99', 'share', 'tenant'][i % 5] as string;
    const r = await timedFetch(`${admin}/admin/v1/stats?sort=${sort}&limit=20`, { headers: { authorization: operator } });
    if (r.status !== 200) throw new Error(`GET /admin/v1/stats?sort=${sort}&limit=20 answered ${r.status}: ${r.body.slice(0, 300)}`);
    const body = JSON.parse(r.body) as { tenants: unknown[]; totals: { tenants: number } };
    if (body.tenants.length !== 20 || body.totals.tenants !== statsTenants)
      throw new Error(`top-N answered ${body.tenants.length} rows of ${body.totals.tenants} tenants`);
    topFrames.push(r.ms);
    topBytes = Math.max(topBytes, r.bytes);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  results.push({
    impl: 'fairway',
    route: 'tenantctl top frame: GET /admin/v1/stats?sort=<key>&limit=20 (top-N)',
    frames: topFrames.length,
    maxAnswerBytes: topBytes,
    ...percentiles(topFrames),
  });
  return results;
}

/**
 * Where a page's time goes, statement by statement, on the same database: what each page ran
 * before top-N (the window's aggregation for its 501 tenants) and once a second (the fleet's
 * totals), and what runs now (a keyset read of 501 ids a page; the fleet's reading at most once a
 * second, in the background).
 */
async function statsStatements(o: Options, store: JobStore, scheduler: SchedulerAdminGateway) {
  const timed = async (what: string, impl: string, run: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    return { impl, statement: what, ...percentiles(times) };
  };
  // A page in the middle of the catalog (the queued tenants are the first `--queued` ids).
  const mid = tenantIdOf(Math.floor(o.tenants / 2));
  return [
    await timed('page of 500: aggregation over its tenants (FleetStats.tenantStats, limit 501)', 'before', () =>
      store.tenantStats(60, { after: mid, limit: 501 }),
    ),
    await timed('fleet totals, once a second (FleetStats.fleetTotals)', 'before', () => store.fleet.fleetTotals(60)),
    await timed('page of 500: its ids (FleetStats.tenantIds, 501)', 'fairway', () => store.fleet.tenantIds(mid, 501)),
    await timed('reading of the fleet, at most once a second in the background (FleetStats.reading)', 'fairway', () => store.fleet.reading(60)),
    // The same answers over gRPC alone (no HTTP, no JSON): the rest of a page's time is the admin API's.
    await timed('page of 500 over gRPC (ListTenantStats page_size 500)', 'fairway', () => scheduler.stats({ pageSize: 500, afterTenantId: mid })),
    await timed('top-N over gRPC (ListTenantStats sort queued, page_size 20)', 'fairway', () => scheduler.stats({ pageSize: 20, sort: 'queued' })),
  ];
}

async function edgeCaches(o: Options, pools: { app: Pool }, redis: Redis) {
  const secret = randomBytes(32).toString('hex');
  const key = new TextEncoder().encode(secret);
  const t0 = performance.now();
  const tokens = await Promise.all(
    Array.from({ length: o.tenants }, (_, i) =>
      new SignJWT({ tenant_id: tenantIdOf(i), sub: 'bench' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('fairway-bench')
        .setAudience('fairway-api')
        .setExpirationTime('1h')
        .sign(key),
    ),
  );
  log(`edge: ${tokens.length} tokens signed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const body = JSON.stringify({ type: 'synthetic', params: { ms: 1 } });
  const results = [];
  for (const impl of ['fairway', 'no-cache'] as const) {
    const counts = { signatures: 0, catalogQueries: 0 };
    const verifier = new TokenVerifier({ secret: key, issuer: 'fairway-bench', audience: 'fairway-api', cacheTtlMs: impl === 'fairway' ? 30_000 : 0 });
    const check = verifier as unknown as { verifySignature: (token: string) => Promise<unknown> };
    const verifySignature = check.verifySignature.bind(verifier);
    check.verifySignature = (token) => {
      counts.signatures += 1;
      return verifySignature(token);
    };
    const countingPool = {
      query: (...args: unknown[]) => ((counts.catalogQueries += 1), (pools.app.query as (...a: unknown[]) => unknown)(...args)),
    } as unknown as Pool;
    const prefix = `fairway:bench-scale:${randomUUID().slice(0, 8)}:`;
    const app = createEdgeApp({
      publisher: { publish: () => Promise.resolve(), close: () => Promise.resolve(), pending: 0 } as never,
      pool: pools.app,
      log: silent,
      bodyLimit: '64kb',
      idempotency: new RedisIdempotencyStore(redis, pools.app, { ttlMs: 60_000, keyPrefix: prefix }),
      auth: {
        tokens: verifier,
        tenants: new TenantDirectory(countingPool, impl === 'fairway' ? 2_000 : 0),
        apiKeys: new PgApiKeyLookup(pools.app, { cacheTtlMs: 2_000, touchIntervalMs: 60_000 }),
        admission: new AdmissionController({ redis, keyPrefix: prefix, leaseMs: 15_000 }),
        limits: new TenantLimits({ standard: { rate: 1_000_000, burst: 1_000_000, maxInFlight: 100_000 } }, {}),
      },
    });
    const server = await listen(app);
    const passes = impl === 'fairway' ? (['cold', 'warm'] as const) : (['warm'] as const);
    for (const pass of passes) {
      // The cold pass shows each token once; the warm pass draws tokens at random. Without caches a
      // request costs the same every time, so a smaller sample says as much.
      const n = pass === 'cold' ? tokens.length : impl === 'no-cache' ? Math.min(o.edgeRequests, 5_000) : o.edgeRequests;
      const times: number[] = [];
      const before = { ...counts };
      let refused = 0;
      const started = performance.now();
      await parallel(
        n,
        16,
        async (i) => {
          const token = pass === 'cold' ? tokens[i] : tokens[Math.floor(Math.random() * tokens.length)];
          const r = await timedFetch(`${server.url}/v1/jobs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body,
          });
          if (r.status !== 202) refused += 1;
          times.push(r.ms);
        },
        { label: `edge ${impl} ${pass}`, every: 10_000 },
      );
      const seconds = (performance.now() - started) / 1000;
      const signatures = counts.signatures - before.signatures;
      const queries = counts.catalogQueries - before.catalogQueries;
      results.push({
        impl,
        pass,
        requests: n,
        distinctTenants: tokens.length,
        rps: Math.round(n / seconds),
        refused,
        tokenCacheHitRate: Math.round((1 - signatures / n) * 1000) / 1000,
        tenantCacheHitRate: Math.round((1 - queries / n) * 1000) / 1000,
        ...percentiles(times),
      });
    }
    await server.close();
  }
  return results;
}

function schedulerCore(o: Options) {
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage();
  };
  const base = heap();
  const core = new FairScheduler({ tiers: { standard: { slots: 64 } } });
  for (let i = 0; i < o.tenants; i++) core.setTenantQuota(tenantIdOf(i), { weight: 1 }, 0);
  const registered = heap();
  const idleBytes = (registered.heapUsed - base.heapUsed) / o.tenants;
  let seq = 0;
  // The dispatcher keeps a window of each tenant's queue in memory (SCHEDULER_WINDOW, 64): 64 jobs a tenant.
  const WINDOW = 64;
  for (let i = 0; i < o.queued; i++) {
    for (let k = 0; k < WINDOW; k++) core.enqueue({ id: `j${seq++}`, tenant: tenantIdOf(i), jobClass: 'standard', estimate: 1 + (k % 7) }, 0);
  }
  const active = heap();
  const running: string[] = [];
  for (let d = core.dispatchNext(0); d; d = core.dispatchNext(0)) running.push(d.job.id);
  // Decisions at this size: complete the oldest running job, queue one more for its tenant, dispatch the next.
  let now = 0;
  let decisions = 0;
  const started = performance.now();
  const deadline = started + 3_000;
  while (performance.now() < deadline) {
    for (let k = 0; k < 1_000; k++) {
      now += 1;
      const done = core.complete(running.shift() as string, now);
      core.enqueue({ id: `j${seq++}`, tenant: done.tenant, jobClass: 'standard', estimate: 1 + (seq % 7) }, now);
      const next = core.dispatchNext(now);
      if (next) {
        running.push(next.job.id);
        decisions += 1;
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    impl: 'fairway',
    registeredTenants: o.tenants,
    activeTenants: o.queued,
    windowJobsPerActiveTenant: WINDOW,
    bytesPerIdleTenant: Math.round(idleBytes),
    targetBytesPerIdleTenant: 256,
    heapBytesPerActiveTenant: Math.round((active.heapUsed - registered.heapUsed) / o.queued),
    rssBytesPerActiveTenant: Math.round((active.rss - registered.rss) / o.queued),
    decisionsPerSec: Math.round(decisions / seconds),
  };
}

async function metricsScrape(o: Options, store: JobStore) {
  const registry = createMetricsRegistry('scheduler');
  const metrics = schedulerMetrics(registry);
  for (let i = 0; i < o.queued; i++) {
    const tenant = metrics.tenant.label(tenantIdOf(i));
    metrics.transitions.inc({ tenant, state: 'running' });
    metrics.transitions.inc({ tenant, state: 'succeeded' });
    metrics.dispatched.inc({ tenant, class: 'standard' });
    metrics.wait.observe({ tenant }, (i % 100) / 10);
    metrics.queueDepth.set({ tenant }, 4);
    metrics.tenantInFlight.set({ tenant }, 1);
  }
  const quotas = await store.loadQuotas();
  for (const quota of quotas) metrics.quotas.set(quota.tenantId, { weight: quota.weight, maxInFlight: quota.maxInFlight ?? undefined } as never);
  const times: number[] = [];
  let text = '';
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    text = await registry.metrics();
    times.push(performance.now() - t0);
  }
  const labels = new Set([...text.matchAll(/tenant="([^"]*)"/g)].map((m) => m[1]));
  const series = text.split('\n').filter((line) => line && !line.startsWith('#')).length;
  return {
    impl: 'fairway',
    activeTenants: o.queued,
    liveQuotas: quotas.length,
    bytes: Buffer.byteLength(text),
    series,
    tenantLabelValues: labels.size,
    labelBound: metrics.tenant.limit,
    labelBoundHeld: labels.size <= metrics.tenant.limit + 3,
    scrape: percentiles(times),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      tenants: { type: 'string', default: '50000' },
      queued: { type: 'string', default: '5000' },
      quotas: { type: 'string', default: '1000' },
      'api-sample': { type: 'string', default: '300' },
      'edge-requests': { type: 'string' },
      'skip-edge': { type: 'boolean' },
    },
  });
  const tenants = Number(values.tenants);
  const o: Options = {
    tenants,
    queued: Math.min(tenants, Number(values.queued)),
    quotas: Math.min(tenants, Number(values.quotas)),
    apiSample: Math.min(tenants, Number(values['api-sample'])),
    edgeRequests: Number(values['edge-requests'] ?? Math.min(tenants, 20_000)),
    skipEdge: values['skip-edge'] === true,
  };
  const started = Date.now();
  const benchDb = `fairway_bench_scale_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${benchDb}`;
  log(`preparing ${benchDb} for ${o.tenants} tenants (${o.queued} with queued work, ${o.quotas} with a live quota)`);
  // Roles are shared by every database of the server: another process preparing one at the same
  // moment makes ALTER ROLE fail with "tuple concurrently updated"; try again.
  let prepared: Awaited<ReturnType<typeof prepareDatabase>> | undefined;
  for (let attempt = 1; !prepared; attempt++) {
    prepared = await prepareDatabase(adminUrl.toString()).catch((err: Error) => {
      if (attempt >= 5 || !/concurrently/.test(err.message)) throw err;
      log(`prepareDatabase: ${err.message}; again`);
      return undefined;
    });
  }
  const pools = {
    owner: createPool({ connectionString: prepared.urls.owner, applicationName: 'bench-scale-owner', max: 16 }),
    app: createPool({ connectionString: prepared.urls.app, applicationName: 'bench-scale-app', max: 16 }),
    scheduler: createPool({ connectionString: prepared.urls.scheduler, applicationName: 'bench-scale-scheduler', max: 8 }),
  };
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    commandTimeout: 2_000,
  });
  const grpcServer = new grpc.Server();
  const closers: Array<() => Promise<void> | void> = [];
  const out: Record<string, unknown> = { benchmark: 'scale', tenants: o.tenants, queuedTenants: o.queued, liveQuotas: o.quotas };
  try {
    const store = new JobStore(pools.scheduler, 'bench-scale');
    addSchedulerAdmin(grpcServer, schedulerAdminService(), schedulerAdminHandlers(store, { tierUsage: () => [] } as never, 'bench-scale'));
    const port = await bindServer(grpcServer, '127.0.0.1:0');
    const scheduler = new SchedulerAdminGateway(`127.0.0.1:${port}`, 30_000);
    closers.push(() => scheduler.close());
    const operatorSecret = randomBytes(32);
    const catalog = new TenantCatalog({ ownerPool: pools.owner, ownerUrl: prepared.urls.owner }, silent);
    const admin = await listen(
      createAdminApp({
        tokens: new TokenVerifier({ secret: operatorSecret, issuer: OPERATOR_TOKENS.issuer, audience: OPERATOR_TOKENS.audience }),
        catalog,
        scheduler,
        ownerPool: pools.owner,
        log: silent,
      }),
    );
    closers.push(admin.close);
    const operator = `Bearer ${await new SignJWT({ role: 'operator', sub: 'bench-scale' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(OPERATOR_TOKENS.issuer)
      .setAudience(OPERATOR_TOKENS.audience)
      .setExpirationTime('2h')
      .sign(operatorSecret)}`;

    out['onboarding'] = await onboard(o, admin.url, operator, catalog);
    out['queuedWork'] = await queueWork(o, store);
    log('queued work and quotas in place');
    out['adminApi'] = await adminPages(admin.url, operator);
    out['statsStatements'] = await statsStatements(o, store, scheduler);
    out['core'] = schedulerCore(o);
    log(`core: ${JSON.stringify(out['core'])}`);
    out['metrics'] = await metricsScrape(o, store);
    if (!o.skipEdge) out['edge'] = await edgeCaches(o, pools, redis);
  } finally {
    for (const close of closers.reverse()) await close();
    grpcServer.forceShutdown();
    redis.disconnect();
    await Promise.all(Object.values(pools).map((p) => p.end()));
    const server = new URL(ADMIN);
    server.pathname = '/postgres';
    const cleanup = new Client({ connectionString: server.toString() });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${benchDb}" WITH (FORCE)`);
    await cleanup.end();
    log(`dropped ${benchDb}`);
  }
  out['seconds'] = Math.round((Date.now() - started) / 1000);
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
  process.exit(0);
}

if (typeof (global as { gc?: unknown }).gc !== 'function') {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, require.resolve('../scripts/run-ts.cjs'), __filename, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
} else {
  main().catch((err: unknown) => {
    console.error(`bench:scale failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });
}
