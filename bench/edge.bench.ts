/**
 * Edge throughput benchmark.
 *
 *   npm run -s bench:edge -- --json [--duration 10] [--connections 50] [--cpu-prof]
 *
 * fairway: POST /v1/jobs on the real edge app (createEdgeApp) with HS256 JWT auth, tenant lookup,
 * the Redis token bucket + concurrency limiter (limits set high enough never to throttle), zod
 * validation and the Kafka acknowledgement (GroupCommitPublisher, idempotent producer, acks=all)
 * in the loop, against the real Kafka, PostgreSQL and Redis of this machine.
 * bare-express (baseline, same run): an Express 5 app with express.json() answering 202 with a
 * JSON body, nothing else. Each server runs in a child process of its own (one core), autocannon
 * drives it from this process (the other core). --cpu-prof profiles the fairway child and prints
 * where its CPU time went (self time by function) to stderr. Experiments: --token-cache 0 verifies
 * every JWT (no verified-token cache); --no-limits admits without Redis (what the limiter costs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { RequestLimits } from '../services/edge/src/tenant-limits';

const root = path.join(__dirname, '..');
const BODY = JSON.stringify({ type: 'synthetic', params: { ms: 1 } });

interface Measured {
  impl: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** Child process role: serve one implementation on an ephemeral port and print `{"port":N}`. */
async function serve(impl: string): Promise<void> {
  const express = (await import('express')).default;
  if (impl === 'bare-express') {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.post('/v1/jobs', express.json({ limit: '64kb' }), (req, res) => {
      res.status(202).json({ id: randomUUID(), state: 'accepted', type: (req.body as { type?: string }).type, acceptedAt: new Date().toISOString() });
    });
    const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
    return;
  }
  const { Redis } = await import('ioredis');
  const { createPool } = await import('../libs/db/src');
  const { createIdempotentProducer, createKafka, GroupCommitPublisher } = await import('../libs/kafka/src');
  const { createLogger } = await import('../libs/telemetry/src');
  const { createEdgeApp } = await import('../services/edge/src/app');
  const { AdmissionController } = await import('../services/edge/src/admission');
  const { PgApiKeyLookup } = await import('../services/edge/src/api-keys');
  const { RedisIdempotencyStore } = await import('../services/edge/src/idempotency');
  const { TenantDirectory } = await import('../services/edge/src/tenant-directory');
  const { TenantLimits } = await import('../services/edge/src/tenant-limits');
  const { TokenVerifier } = await import('../services/edge/src/token-verifier');
  const env = JSON.parse(process.env['BENCH_EDGE'] ?? '{}') as { brokers: string; appUrl: string; topic: string; secret: string; tokenCacheMs: number; noLimits: boolean };
  const pool = createPool({ connectionString: env.appUrl, max: 10, applicationName: 'fairway-bench-edge' });
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true, enableOfflineQueue: false, commandTimeout: 500 });
  const producer = createIdempotentProducer(createKafka({ brokers: env.brokers, clientId: 'fairway-bench-edge' }));
  await producer.connect();
  const prefix = `fairway:bench:${randomUUID().slice(0, 8)}:`;
  const app = createEdgeApp({
    publisher: new GroupCommitPublisher({ producer, topic: env.topic }),
    pool,
    log: createLogger('bench-edge', 'silent'),
    bodyLimit: '64kb',
    idempotency: new RedisIdempotencyStore(redis, pool, { ttlMs: 60_000, keyPrefix: prefix }),
    auth: {
      tokens: new TokenVerifier({ secret: new TextEncoder().encode(env.secret), issuer: 'fairway-bench', audience: 'fairway-api', cacheTtlMs: env.tokenCacheMs }),
      tenants: new TenantDirectory(pool, 2_000),
      apiKeys: new PgApiKeyLookup(pool, { cacheTtlMs: 2_000, touchIntervalMs: 60_000 }),
      // --no-limits (an experiment, to measure what the Redis limiter costs): admit everything locally.
      admission: env.noLimits
        ? ({ admit: async (_t: string, limits: RequestLimits) => ({ admitted: true, remaining: 1, resetSeconds: 0, retryAfterSeconds: 0, limits, store: 'local', release: () => undefined }) } as unknown as InstanceType<typeof AdmissionController>)
        : new AdmissionController({ redis, keyPrefix: prefix, leaseMs: 15_000 }),
      limits: new TenantLimits({ standard: { rate: 1_000_000, burst: 1_000_000, maxInFlight: 100_000 } }, {}),
    },
  });
  const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
  process.once('SIGTERM', () => {
    server.close();
    void producer.disconnect().finally(() => {
      redis.disconnect();
      void pool.end().finally(() => process.exit(0));
    });
  });
}

function startChild(impl: string, env: Record<string, string>, cpuProfDir?: string): Promise<{ child: ChildProcess; port: number }> {
  const args = [...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), path.join(root, 'scripts', 'run-ts.cjs'), path.join(root, 'bench', 'edge.bench.ts'), '--serve', impl];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /\{"port":(\d+)\}/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${impl} server exited (${code}) before listening`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function drive(impl: string, port: number, headers: Record<string, string>, seconds: number, connections: number): Promise<Measured> {
  const run = (duration: number) =>
    autocannon({ url: `http://127.0.0.1:${port}/v1/jobs`, method: 'POST', body: BODY, headers: { 'content-type': 'application/json', ...headers }, connections, duration });
  await run(2); // warm-up: JIT, connection pools, caches
  const result = await run(seconds);
  return {
    impl,
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Self time by function from a V8 .cpuprofile, the top `n`. */
function topSelfTime(file: string, n = 25): Array<{ fn: string; selfPct: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>; samples: number[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame;
    const key = frame ? `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(root, '')}:${frame.lineNumber + 1}` : '?';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, count]) => ({ fn, selfPct: Math.round((count / profile.samples.length) * 1000) / 10 }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      serve: { type: 'string' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      'cpu-prof': { type: 'boolean' },
      'token-cache': { type: 'string', default: '30000' },
      'no-limits': { type: 'boolean' },
    },
  });
  if (values.serve) return serve(values.serve);

  /* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
  const { ensureInfra } = require('../scripts/lib/infra.cjs') as { ensureInfra: (o: object) => Promise<{ brokers: string; urls: { owner: string; app: string }; topics: { commands: string } }> };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { createPool, upsertTenant } = await import('../libs/db/src');
  const { SignJWT } = await import('jose');
  const log = (msg: string) => process.stderr.write(`[bench:edge] ${msg}\n`);
  const infra = await ensureInfra({ database: 'fairway', topicPrefix: 'fairway-bench', log });
  const owner = createPool({ connectionString: infra.urls.owner, max: 1, applicationName: 'fairway-bench' });
  const tenant = 'bench-edge';
  await upsertTenant(owner, { id: tenant as never, displayName: 'bench:edge' });
  await owner.end();
  const secret = 'bench-secret-0123456789-0123456789-abcdef';
  const token = await new SignJWT({ tenant_id: tenant, sub: 'bench' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('fairway-bench')
    .setAudience('fairway-api')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));

  const seconds = Number(values.duration);
  const connections = Number(values.connections);
  const results: Measured[] = [];
  const profDir = values['cpu-prof'] ? mkdtempSync(path.join(tmpdir(), 'fairway-edge-prof-')) : undefined;

  log(`fairway: ${seconds} s, ${connections} connections, POST /v1/jobs with JWT auth, Redis limits and Kafka acks`);
  const fairway = await startChild('fairway', { BENCH_EDGE: JSON.stringify({ brokers: infra.brokers, appUrl: infra.urls.app, topic: infra.topics.commands, secret, tokenCacheMs: Number(values['token-cache']), noLimits: values['no-limits'] === true }) }, profDir);
  try {
    results.push(await drive('fairway', fairway.port, { authorization: `Bearer ${token}` }, seconds, connections));
  } finally {
    await stopChild(fairway.child);
  }
  log(`bare-express: ${seconds} s, ${connections} connections`);
  const bare = await startChild('bare-express', {});
  try {
    results.push(await drive('bare-express', bare.port, {}, seconds, connections));
  } finally {
    await stopChild(bare.child);
  }

  if (profDir) {
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      log(`CPU profile: ${path.join(profDir, file)}; top self time:`);
      for (const row of topSelfTime(path.join(profDir, file))) log(`  ${String(row.selfPct).padStart(5)}%  ${row.fn}`);
    }
  }
  const [f, b] = results as [Measured, Measured];
  const summary = { rpsRatio: Math.round((f.rps / b.rps) * 100) / 100, p99Ratio: Math.round((f.p99Ms / Math.max(b.p99Ms, 1)) * 100) / 100 };
  if (values.json) console.log(JSON.stringify({ results, ...summary }));
  else {
    for (const r of results) console.log(`${r.impl.padEnd(14)} ${String(r.rps).padStart(7)} rps  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  (${r.requests} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`);
    console.log(`fairway/bare: ${summary.rpsRatio}x rps, ${summary.p99Ratio}x p99`);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`bench:edge failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
