/**
 * Edge throughput benchmark.
 *
 *   npm run -s bench:edge -- --json [--rounds 6] [--duration 4] [--connections 50] [--cpu-prof]
 *
 * fairway: POST /v1/jobs on the real edge app (createEdgeApp) with HS256 JWT auth, tenant lookup,
 * the Redis token bucket + concurrency limiter (limits set high enough never to throttle), zod
 * validation and the Kafka acknowledgement (startCommandPublisher as the edge starts it: idempotent
 * producer, acks=all, group commit, a tenant's commands of one send coalesced into one record) in
 * the loop, against the real Kafka, PostgreSQL and Redis of this machine.
 * bare-express (baseline, same run): an Express 5 app with express.json() answering 202 with a
 * JSON body, nothing else. Each server runs in a child process of its own; autocannon drives them
 * from this process, one after the other in each round (which goes first alternates). --cpu-prof profiles the fairway child and prints
 * where its CPU time went (self time by function) to stderr. Experiments: --token-cache 0 verifies
 * every JWT (no verified-token cache); --no-limits admits without Redis (what the limiter costs);
 * --no-kafka answers 202 without Kafka (what the acknowledgement costs; never a headline figure);
 * --kafka-thread runs the producer on a thread of its own (EDGE_KAFKA_THREAD); --no-coalesce
 * sends one Kafka record per command instead of one per tenant per send (what coalescing saves).
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
  /** CPU time per request, in microseconds, by process: where the time goes on this machine. */
  cpuUsPerRequest: Record<string, number>;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds used so far by each process of interest (Linux /proc): the server under test, this
 * process (the load generator), and the Kafka broker, Redis and PostgreSQL it talks to.
 */
function cpuSnapshot(serverPid: number | undefined): Map<string, number> {
  const totals = new Map<string, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return totals; // not Linux: no breakdown
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    const name =
      Number(pid) === serverPid
        ? 'server'
        : Number(pid) === process.pid
          ? 'load-generator'
          : comm === 'java'
            ? 'kafka'
            : comm.startsWith('redis-server')
              ? 'redis'
              : comm === 'postgres'
                ? 'postgres'
                : undefined;
    if (name) totals.set(name, (totals.get(name) ?? 0) + seconds);
  }
  // The server's main (HTTP) thread alone: its other threads are libuv's pool, V8's and Kafka's.
  try {
    const stat = readFileSync(`/proc/${serverPid}/task/${serverPid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    totals.set('server-main-thread', (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND);
  } catch {
    // no per-thread figures here
  }
  return totals;
}

function cpuPerRequest(before: Map<string, number>, after: Map<string, number>, requests: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, seconds] of after) {
    const used = seconds - (before.get(name) ?? 0);
    if (used > 0 && requests > 0) out[name] = Math.round((used * 1e6) / requests);
  }
  return out;
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
    process.once('SIGTERM', () => server.close(() => process.exit(0)));
    return;
  }
  const { Redis } = await import('ioredis');
  const { createPool } = await import('@fairway/db');
  const { startCommandPublisher } = await import('@fairway/kafka');
  const { createLogger } = await import('@fairway/telemetry');
  const { createEdgeApp } = await import('../services/edge/src/app');
  const { AdmissionController } = await import('../services/edge/src/admission');
  const { PgApiKeyLookup } = await import('../services/edge/src/api-keys');
  const { RedisIdempotencyStore } = await import('../services/edge/src/idempotency');
  const { TenantDirectory } = await import('../services/edge/src/tenant-directory');
  const { TenantLimits } = await import('../services/edge/src/tenant-limits');
  const { TokenVerifier } = await import('@fairway/auth');
  const env = JSON.parse(process.env['BENCH_EDGE'] ?? '{}') as {
    brokers: string;
    appUrl: string;
    topic: string;
    secret: string;
    tokenCacheMs: number;
    noLimits: boolean;
    noKafka: boolean;
    kafkaThread: boolean;
    noCoalesce: boolean;
  };
  const pool = createPool({ connectionString: env.appUrl, max: 10, applicationName: 'fairway-bench-edge' });
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true, enableOfflineQueue: false, commandTimeout: 500 });
  const sendStats = { sends: 0, messages: 0, ms: 0 };
  const onSend = (size: number, ms: number) => {
    sendStats.sends += 1;
    sendStats.messages += size;
    sendStats.ms += ms;
  };
  // As the edge's main.ts starts it: group commit, commands coalesced per tenant per send, on the HTTP
  // thread. --kafka-thread and --no-coalesce (experiments) measure the alternatives.
  const publisher = await startCommandPublisher({
    brokers: env.brokers,
    clientId: 'fairway-bench-edge',
    topic: env.topic,
    onSend,
    thread: env.kafkaThread,
    coalesce: !env.noCoalesce,
  });
  const prefix = `fairway:bench:${randomUUID().slice(0, 8)}:`;
  const app = createEdgeApp({
    // --no-kafka (an experiment, to measure what the Kafka acknowledgement costs): accept without Kafka.
    publisher: env.noKafka ? { publish: () => Promise.resolve(), close: () => Promise.resolve(), pending: 0 } : publisher,
    pool,
    log: createLogger('bench-edge', 'silent'),
    bodyLimit: '64kb',
    idempotency: new RedisIdempotencyStore(redis, pool, { ttlMs: 60_000, keyPrefix: prefix }),
    auth: {
      tokens: new TokenVerifier({
        secret: new TextEncoder().encode(env.secret),
        issuer: 'fairway-bench',
        audience: 'fairway-api',
        cacheTtlMs: env.tokenCacheMs,
      }),
      tenants: new TenantDirectory(pool, 2_000),
      apiKeys: new PgApiKeyLookup(pool, { cacheTtlMs: 2_000, touchIntervalMs: 60_000 }),
      // --no-limits (an experiment, to measure what the Redis limiter costs): admit everything locally.
      admission: env.noLimits
        ? ({
            admit: async (_t: string, limits: RequestLimits) => ({
              admitted: true,
              remaining: 1,
              resetSeconds: 0,
              retryAfterSeconds: 0,
              limits,
              store: 'local',
              release: () => undefined,
            }),
          } as unknown as InstanceType<typeof AdmissionController>)
        : new AdmissionController({ redis, keyPrefix: prefix, leaseMs: 15_000 }),
      limits: new TenantLimits({ standard: { rate: 1_000_000, burst: 1_000_000, maxInFlight: 100_000 } }, {}),
    },
  });
  const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
  process.once('SIGTERM', () => {
    process.stderr.write(
      `[bench:edge] fairway: ${sendStats.sends} sends, ${(sendStats.messages / Math.max(1, sendStats.sends)).toFixed(1)} messages and ${(sendStats.ms / Math.max(1, sendStats.sends)).toFixed(2)} ms per send\n`,
    );
    server.close();
    void publisher.close().finally(() => {
      redis.disconnect();
      void pool.end().finally(() => process.exit(0));
    });
  });
}

function startChild(impl: string, env: Record<string, string>, cpuProfDir?: string): Promise<{ child: ChildProcess; port: number }> {
  const args = [
    ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []),
    path.join(root, 'scripts', 'run-ts.cjs'),
    path.join(root, 'bench', 'edge.bench.ts'),
    '--serve',
    impl,
  ];
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

async function drive(
  impl: string,
  server: { child: ChildProcess; port: number },
  headers: Record<string, string>,
  seconds: number,
  connections: number,
): Promise<Measured> {
  const run = (duration: number) =>
    autocannon({
      url: `http://127.0.0.1:${server.port}/v1/jobs`,
      method: 'POST',
      body: BODY,
      headers: { 'content-type': 'application/json', ...headers },
      connections,
      duration,
    });
  const before = cpuSnapshot(server.child.pid);
  const result = await run(seconds);
  const after = cpuSnapshot(server.child.pid);
  return {
    impl,
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuUsPerRequest: cpuPerRequest(before, after, result.requests.total),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** One side's figures over the rounds: medians of each, totals of the counts. */
function medianOf(impl: string, runs: Measured[]): Measured {
  const cpu: Record<string, number> = {};
  for (const name of new Set(runs.flatMap((r) => Object.keys(r.cpuUsPerRequest)))) cpu[name] = median(runs.map((r) => r.cpuUsPerRequest[name] ?? 0));
  return {
    impl,
    rps: Math.round(median(runs.map((r) => r.rps))),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    requests: runs.reduce((sum, r) => sum + r.requests, 0),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    cpuUsPerRequest: cpu,
  };
}

/** Self time by function from a V8 .cpuprofile, the top `n`. */
function topSelfTime(file: string, n = 25): Array<{ fn: string; selfPct: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
  };
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
      duration: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '6' },
      connections: { type: 'string', default: '50' },
      'cpu-prof': { type: 'boolean' },
      'token-cache': { type: 'string', default: '30000' },
      'no-limits': { type: 'boolean' },
      'kafka-thread': { type: 'boolean' },
      'no-kafka': { type: 'boolean' },
      'no-coalesce': { type: 'boolean' },
    },
  });
  if (values.serve) return serve(values.serve);

  /* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
  const { ensureInfra } = require('../scripts/lib/infra.cjs') as {
    ensureInfra: (o: object) => Promise<{ brokers: string; urls: { owner: string; app: string }; topics: { commands: string } }>;
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { createPool, upsertTenant } = await import('@fairway/db');
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
  const rounds = Number(values.rounds);
  const profDir = values['cpu-prof'] ? mkdtempSync(path.join(tmpdir(), 'fairway-edge-prof-')) : undefined;

  // Both servers run for the whole benchmark and are driven in turns, round after round: a slow
  // moment of this shared machine then lands on both sides, and the medians are compared.
  const servers = {
    fairway: await startChild(
      'fairway',
      {
        BENCH_EDGE: JSON.stringify({
          brokers: infra.brokers,
          appUrl: infra.urls.app,
          topic: infra.topics.commands,
          secret,
          tokenCacheMs: Number(values['token-cache']),
          noLimits: values['no-limits'] === true,
          noKafka: values['no-kafka'] === true,
          kafkaThread: values['kafka-thread'] === true,
          noCoalesce: values['no-coalesce'] === true,
        }),
      },
      profDir,
    ),
    'bare-express': await startChild('bare-express', {}, profDir && path.join(profDir, 'bare-express')),
  };
  const headers = { fairway: { authorization: `Bearer ${token}` }, 'bare-express': {} };
  const impls = ['fairway', 'bare-express'] as const;
  const perRound: Measured[][] = [];
  try {
    log(`warm-up: 2 s each (JIT, connection pools, caches)`);
    for (const impl of impls) await drive(impl, servers[impl], headers[impl], 2, connections);
    for (let round = 1; round <= rounds; round++) {
      const measured = new Map<string, Measured>();
      // Which side goes first alternates: a machine that speeds up or slows down within a round
      // then favours neither side over the run.
      for (const impl of round % 2 === 1 ? impls : [...impls].reverse()) {
        log(
          `round ${round}/${rounds}: ${impl}, ${seconds} s, ${connections} connections${impl === 'fairway' ? ' (POST /v1/jobs with JWT auth, Redis limits, Kafka acks)' : ''}`,
        );
        measured.set(impl, await drive(impl, servers[impl], headers[impl], seconds, connections));
      }
      perRound.push(impls.map((impl) => measured.get(impl) as Measured));
    }
  } finally {
    await Promise.all(impls.map((impl) => stopChild(servers[impl].child)));
  }

  if (profDir) {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the HTTP thread, 1 the Kafka thread.
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    for (const other of files) log(`CPU profile: ${path.join(profDir, other)}`);
    log(`bare-express's CPU profile is in ${path.join(profDir, 'bare-express')}`);
    const file = files.find((f) => /\.0\.\d+\.cpuprofile$/.test(f));
    if (file) {
      log(`the fairway HTTP thread (${file}), top self time:`);
      for (const row of topSelfTime(path.join(profDir, file))) log(`  ${String(row.selfPct).padStart(5)}%  ${row.fn}`);
    }
  }
  const results = impls.map((impl, i) =>
    medianOf(
      impl,
      perRound.map((round) => round[i] as Measured),
    ),
  );
  const ratios = perRound.map(([f, b]) => ({
    rps: (f as Measured).rps / (b as Measured).rps,
    p99: (f as Measured).p99Ms / Math.max((b as Measured).p99Ms, 1),
  }));
  const summary = {
    rounds,
    // The median of the per-round ratios: each round's two sides saw the same machine.
    rpsRatio: round2(median(ratios.map((r) => r.rps))),
    p99Ratio: round2(median(ratios.map((r) => r.p99))),
  };
  if (values.json) console.log(JSON.stringify({ results, ...summary, perRound }));
  else {
    for (const r of results)
      console.log(
        `${r.impl.padEnd(14)} ${String(r.rps).padStart(7)} rps  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  (median of ${rounds} rounds; ${r.requests} requests, ${r.non2xx} non-2xx, ${r.errors} errors); CPU µs/request ${JSON.stringify(r.cpuUsPerRequest)}`,
      );
    console.log(
      `fairway/bare: ${summary.rpsRatio}x rps, ${summary.p99Ratio}x p99 (median of the per-round ratios: ${ratios.map((r) => `${round2(r.rps)}x/${round2(r.p99)}x`).join(', ')})`,
    );
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`bench:edge failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
