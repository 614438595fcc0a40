#!/usr/bin/env node
// `npm run up`: the whole system on this machine, with a demo workload.
//   installs what is missing (npm ci, the Kafka jars), starts Kafka, prepares PostgreSQL, builds and
//   starts every service with prefixed logs, seeds the demo tenants acme and globex, submits a small
//   demo workload, and prints where everything listens. Ctrl-C (or `npm run down`) stops it all.
//   --exit-after-demo stops everything once the demo workload has finished.
//   --no-replica runs the stack on the server in DATABASE_URL (default 127.0.0.1:5432) with no read
//   replica; otherwise (DATABASE_URL unset) on the project-owned primary + hot standby under
//   .fairway/pg-pair (scripts/lib/pg-pair.cjs), report jobs reading on the standby.
//   --no-prometheus starts no Prometheus (the console then has no charts); otherwise one from the
//   machine's packages (installed when missing) scrapes every service with the shipped rules.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('./lib/bootstrap.cjs');

const RUN_FILE = path.join(root, '.fairway', 'run', 'stack.json');
const PORTS = { edge: 8080, admin: 8081, console: 8082, 'control-plane': 7051, 'scheduler-admin': 7071, 'worker-1': 7061, 'worker-2': 7062 };
const METRICS = { edge: 9464, scheduler: 9465, 'worker-1': 9466, 'worker-2': 9467, 'control-plane': 9468 };
const PROMETHEUS_PORT = 9090;

async function demoWorkload(edgeUrl, log) {
  const { devToken } = require('./lib/token.cjs');
  const tenants = { acme: 12, globex: 6 };
  const submitted = [];
  for (const [tenant, count] of Object.entries(tenants)) {
    const token = await devToken(tenant);
    for (let i = 0; i < count; i += 1) {
      const res = await fetch(`${edgeUrl}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `demo-${Date.now()}-${i}` },
        body: JSON.stringify({ type: 'synthetic', params: { ms: 50 + 25 * (i % 4) } }),
      });
      const body = await res.json();
      if (res.status !== 202) throw new Error(`demo job for ${tenant} was refused: ${res.status} ${JSON.stringify(body)}`);
      submitted.push({ tenant, token, id: body.id });
    }
  }
  log(`submitted ${submitted.length} synthetic jobs (acme ${tenants.acme}, globex ${tenants.globex}); waiting for them to finish`);
  const deadline = Date.now() + 120_000;
  const pending = new Map(submitted.map((job) => [job.id, job]));
  const states = {};
  while (pending.size > 0 && Date.now() < deadline) {
    for (const job of [...pending.values()]) {
      const res = await fetch(`${edgeUrl}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${job.token}` } });
      if (res.status !== 200) continue;
      const body = await res.json();
      if (['succeeded', 'failed', 'dead'].includes(body.state)) {
        pending.delete(job.id);
        states[body.state] = (states[body.state] ?? 0) + 1;
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 250));
  }
  if (pending.size > 0) throw new Error(`${pending.size} demo jobs did not finish within 120 s`);
  log(`demo workload finished: ${JSON.stringify(states)}`);
  return states;
}

/**
 * The project-owned primary + hot standby (scripts/lib/pg-pair.cjs) the stack runs on, unless
 * --no-replica or DATABASE_URL names another server. The machine's PostgreSQL binaries make it; on
 * a machine without them the stack uses 127.0.0.1:5432 and every read the primary.
 */
function startPgPair(log) {
  if (process.argv.includes('--no-replica') || process.env.DATABASE_URL) return undefined;
  const { ensurePair, onPort } = require('./lib/pg-pair.cjs');
  try {
    const pair = ensurePair({ log });
    const adminUrl = new URL(pair.primaryAdminUrl);
    adminUrl.pathname = '/fairway';
    process.env.DATABASE_URL = adminUrl.toString();
    log(`PostgreSQL: the project-owned primary on :${pair.primaryPort} and its hot standby on :${pair.standbyPort} (skip with --no-replica)`);
    return { ...pair, replicaUrl: (appUrl) => onPort(appUrl, pair.standbyPort) };
  } catch (err) {
    log(`no read replica: ${err.message}; using 127.0.0.1:5432, every read on the primary`);
    return undefined;
  }
}

async function main() {
  const exitAfterDemo = process.argv.includes('--exit-after-demo');
  const withPrometheus = !process.argv.includes('--no-prometheus');
  const log = (msg) => console.log(`\x1b[1m[up]\x1b[0m ${msg}`);
  if (fs.existsSync(RUN_FILE)) {
    const previous = JSON.parse(fs.readFileSync(RUN_FILE, 'utf8'));
    const alive = previous.pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    if (alive.length > 0) throw new Error(`a stack started by 'npm run up' is still running (pids ${alive.join(', ')}); stop it with 'npm run down'`);
  }
  const pair = startPgPair(log);
  const { ensureInfra } = require('./lib/infra.cjs');
  const infra = await ensureInfra({ seed: true });
  require('./build.cjs').build();
  // Prometheus first: it tolerates targets that are not up yet, and the console charts from it.
  let prometheus;
  if (withPrometheus) {
    const { startPrometheus, localScrapeConfig } = require('./lib/prometheus.cjs');
    log(`starting Prometheus on :${PROMETHEUS_PORT} (skip with --no-prometheus)`);
    prometheus = await startPrometheus({ config: localScrapeConfig(METRICS, { selfPort: PROMETHEUS_PORT }), port: PROMETHEUS_PORT, name: 'up' });
  }
  const { startStack } = require('./lib/services.cjs');
  log('starting control-plane, workers, scheduler and edge');
  const stack = await startStack(infra, {
    ...(pair ? { env: { DATABASE_REPLICA_URL: pair.replicaUrl(infra.urls.app) } } : {}),
    ports: PORTS,
    metricsPorts: METRICS,
    ...(prometheus ? { prometheusUrl: prometheus.url } : {}),
    onLine: (line) => console.log(line),
  }).catch(async (err) => {
    await prometheus?.stop();
    throw err;
  });
  fs.mkdirSync(path.dirname(RUN_FILE), { recursive: true });
  const pids = [...stack.handles.map((h) => h.child.pid), ...(prometheus ? [prometheus.pid] : [])];
  fs.writeFileSync(RUN_FILE, JSON.stringify({ pids, startedKafka: infra.startedKafka, startedPgPair: Boolean(pair?.started) }, null, 2));

  let stopping = false;
  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    log('stopping the services...');
    await stack.stop();
    await prometheus?.stop();
    if (infra.startedKafka) await require('./kafka.cjs').stop();
    if (pair?.started) require('./lib/pg-pair.cjs').stopPair();
    fs.rmSync(RUN_FILE, { force: true });
    log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  const edgeUrl = `http://127.0.0.1:${PORTS.edge}`;
  await demoWorkload(edgeUrl, log);
  console.log(`
\x1b[1mFairway is running.\x1b[0m
  Edge (public HTTP API)   ${edgeUrl}            POST /v1/jobs, GET /v1/jobs/{id}
  Control plane (gRPC)     127.0.0.1:${PORTS['control-plane']}          TenantCatalog (tenantctl), KeyService (edge, workers)
  Admin API (operators)    http://127.0.0.1:${PORTS.admin}     the control plane's; operator tokens only
  \x1b[1mConsole (operators)      http://127.0.0.1:${PORTS.console}/console/\x1b[0m   sign in with: npm run -s token -- --operator
  Workers (gRPC)           127.0.0.1:${PORTS['worker-1']}, 127.0.0.1:${PORTS['worker-2']}
  Kafka                    ${infra.brokers}         topics ${Object.values(infra.topics).join(', ')}
  PostgreSQL               ${infra.urls.app.replace(/:[^:@/]+@/, ':***@')}
  Read replica             ${pair ? `hot standby 127.0.0.1:${pair.standbyPort} (streaming from :${pair.primaryPort}); report jobs read there within REPLICA_MAX_LAG` : 'none (--no-replica or DATABASE_URL set): every read on the primary'}
  Metrics (Prometheus)     ${Object.entries(METRICS)
    .map(([n, p]) => `${n} http://127.0.0.1:${p}/metrics`)
    .join('\n                           ')}
  Prometheus               ${prometheus ? `${prometheus.url}   scrapes every service, with deploy/prometheus/rules` : 'not started (--no-prometheus)'}

  Try it:
    TOKEN=$(npm run -s token -- acme)
    curl -s -XPOST ${edgeUrl}/v1/jobs -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
         -d '{"type":"synthetic","params":{"ms":200}}'

  Operate it (the admin API on :${PORTS.admin}):
    export FAIRWAY_OPERATOR_TOKEN=$(npm run -s token -- --operator)
    npm run -s tenantctl -- top                           # live queues, in-flight, waits, shares
    npm run -s tenantctl -- quotas set acme --max-in-flight 2

  Stop: Ctrl-C here, or 'npm run down' from another terminal.
`);
  if (exitAfterDemo) await shutdown(0);
}

main().catch(async (err) => {
  console.error(`\x1b[31m[up] ${err.message}\x1b[0m`);
  process.exit(1);
});
