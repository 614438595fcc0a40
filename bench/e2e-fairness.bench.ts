/**
 * End-to-end fairness benchmark: the whole system (edge, Kafka, scheduler, workers running
 * `synthetic` jobs) with one tenant flooding long jobs while nine light tenants submit short ones.
 *
 *   npm run -s bench:e2e-fairness -- --json [--flood 120] [--heavy-ms 200] [--light-jobs 10] [--light-ms 20] [--slots 4]
 *
 * Two runs, each on a fresh stack (its own database and topics), differing only in the scheduler's
 * policy: `fairway` (the fair core) and `fifo` (arrival order, what a plain Kafka consumer does).
 * Wait = started_at - accepted_at of each job's first attempt, from the jobs table.
 * The fluid ideal (GPS over the same slots, equal weights) serves a light tenant's job the moment it
 * arrives. On the real system "at once" still costs the trip through the edge, Kafka, the ingest and
 * the claim, so each run first measures the light tenants' wait on the idle system (the same
 * submissions, no flood): that is the ideal the flooded run is compared with. A non-preemptive
 * scheduler may add one heavy job's duration. Target: light p99 <= idle p99 + one heavy job + 50 ms.
 * Progress goes to stderr, JSON to stdout.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { createPool, upsertTenant } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
const { ensureInfra } = require('../scripts/lib/infra.cjs');
const { startStack, freePort } = require('../scripts/lib/services.cjs');
const { build } = require('../scripts/build.cjs');
const { devToken } = require('../scripts/lib/token.cjs');
/* eslint-enable @typescript-eslint/no-require-imports */

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const progress = (msg: string) => process.stderr.write(`[e2e-fairness] ${msg}\n`);

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

interface Scenario {
  flood: number;
  heavyMs: number;
  lightJobs: number;
  lightMs: number;
  slots: number;
}

async function runOnce(policy: 'fair' | 'fifo', scenario: Scenario) {
  const database = `fairway_bench_e2e_${randomBytes(3).toString('hex')}`;
  const infra = await ensureInfra({ database, topicPrefix: `bench-e2e-${randomBytes(3).toString('hex')}`, log: () => undefined });
  const ports: Record<string, number> = {};
  for (const name of ['edge', 'admin', 'control-plane', 'scheduler-admin', 'worker-1', 'worker-2']) ports[name] = await freePort();
  const stack = await startStack(infra, {
    ports,
    env: {
      SCHEDULER_POLICY: policy,
      SCHEDULER_TIERS: `standard:${scenario.slots}`,
      EDGE_PLAN_LIMITS: JSON.stringify({ standard: { rate: 100_000, burst: 100_000, maxInFlight: 10_000 } }),
    },
    onLine: () => undefined,
  });
  const owner = createPool({ connectionString: infra.urls.owner, applicationName: 'bench-e2e', max: 2 });
  const reader = createPool({ connectionString: infra.urls.scheduler, applicationName: 'bench-e2e-reader', max: 2 });
  const edge = `http://127.0.0.1:${ports['edge']}`;
  try {
    const flood = 'flood' as TenantId;
    const lights = Array.from({ length: 9 }, (_, i) => `light-${i}` as TenantId);
    for (const id of [flood, ...lights]) await upsertTenant(owner, { id });
    const tokens = new Map<string, string>();
    for (const id of [flood, ...lights]) tokens.set(id, await devToken(id));
    const submit = async (tenant: TenantId, ms: number) => {
      const res = await fetch(`${edge}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.get(tenant)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'synthetic', params: { ms } }),
      });
      if (res.status !== 202) throw new Error(`submit for ${tenant} answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };

    // The ideal: the same light submissions on the idle system.
    const idleIds: string[] = [];
    for (let round = 0; round < 3; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      idleIds.push(...(await Promise.all(lights.map((tenant) => submit(tenant, scenario.lightMs)))));
    }
    const waitUntilDone = async (jobIds: string[]) => {
      const deadline = Date.now() + 180_000;
      for (;;) {
        const { rows } = await reader.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE state = 'succeeded' AND id = ANY($1::uuid[])", [jobIds]);
        if (Number(rows[0]?.n) === jobIds.length) return;
        if (Date.now() > deadline) throw new Error(`${policy}: only ${rows[0]?.n} of ${jobIds.length} jobs finished`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    await waitUntilDone(idleIds);
    const idle = await reader.query<{ wait_ms: number }>(
      'SELECT extract(epoch FROM started_at - accepted_at) * 1000 AS wait_ms FROM jobs WHERE id = ANY($1::uuid[])',
      [idleIds],
    );
    const idleWaits = idle.rows.map((r) => Number(r.wait_ms));

    progress(`${policy}: flooding ${scenario.flood} x ${scenario.heavyMs} ms, then 9 light tenants x ${scenario.lightJobs} x ${scenario.lightMs} ms`);
    const ids = await Promise.all(Array.from({ length: scenario.flood }, () => submit(flood, scenario.heavyMs)));
    // The light tenants arrive while the flood is backlogged, each job 150 ms after the last.
    for (let round = 0; round < scenario.lightJobs; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      ids.push(...(await Promise.all(lights.map((tenant) => submit(tenant, scenario.lightMs)))));
    }
    await waitUntilDone(ids);
    const { rows } = await reader.query<{ tenant_id: string; wait_ms: number }>(
      'SELECT tenant_id, extract(epoch FROM started_at - accepted_at) * 1000 AS wait_ms FROM jobs WHERE id = ANY($1::uuid[]) AND attempts = 1',
      [ids],
    );
    const waits = new Map<string, number[]>();
    for (const row of rows) waits.set(row.tenant_id, [...(waits.get(row.tenant_id) ?? []), Number(row.wait_ms)]);
    const light = lights.flatMap((t) => waits.get(t) ?? []);
    const perTenant = Object.fromEntries(
      [...waits]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([tenant, w]) => [tenant, { jobs: w.length, p50WaitMs: Math.round(percentile(w, 0.5)), p99WaitMs: Math.round(percentile(w, 0.99)) }]),
    );
    return {
      impl: policy === 'fair' ? 'fairway' : 'fifo',
      idleLightP99WaitMs: Math.round(percentile(idleWaits, 0.99)),
      lightP50WaitMs: Math.round(percentile(light, 0.5)),
      lightP99WaitMs: Math.round(percentile(light, 0.99)),
      floodP99WaitMs: Math.round(percentile(waits.get(flood) ?? [], 0.99)),
      perTenant,
    };
  } finally {
    await stack.stop();
    await owner.end();
    await reader.end();
    const server = new Client({ connectionString: ADMIN });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      flood: { type: 'string' },
      'heavy-ms': { type: 'string' },
      'light-jobs': { type: 'string' },
      'light-ms': { type: 'string' },
      slots: { type: 'string' },
    },
  });
  const scenario: Scenario = {
    flood: Number(values.flood ?? 120),
    heavyMs: Number(values['heavy-ms'] ?? 200),
    lightJobs: Number(values['light-jobs'] ?? 10),
    lightMs: Number(values['light-ms'] ?? 20),
    slots: Number(values.slots ?? 4),
  };
  build({ quiet: true });
  const fair = await runOnce('fair', scenario);
  const fifo = await runOnce('fifo', scenario);
  const ideal = fair.idleLightP99WaitMs;
  const target = ideal + scenario.heavyMs + 50;
  const result = {
    benchmark: 'e2e-fairness',
    scenario,
    ideal: { lightP99WaitMs: ideal, note: "GPS serves an arriving light job at once: the light tenants' p99 wait on the idle system" },
    targetLightP99WaitMs: target,
    results: [fair, fifo],
    met: fair.lightP99WaitMs <= target,
  };
  console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[e2e-fairness] failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
