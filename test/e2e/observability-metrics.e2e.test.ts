import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createPool, upsertTenant } from '@fairway/db';
import { eventually, uniqueTenantId } from '@fairway/db/testing';
import { ownDatabase, stack as globalStack } from './support/stack';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack and Prometheus scripts are plain CommonJS shared with `npm run up` */
const { startStack, freePort } = require('../../scripts/lib/services.cjs') as {
  startStack: (infra: object, options: object) => Promise<{ stop: () => Promise<unknown> }>;
  freePort: () => Promise<number>;
};
const { startPrometheus } = require('../../scripts/lib/prometheus.cjs') as {
  startPrometheus: (o: { config: string; port: number; name: string }) => Promise<{ url: string; lines: string[]; stop: () => Promise<void> }>;
};
const { devToken } = require('../../scripts/lib/token.cjs') as { devToken: (tenant: string) => Promise<string> };
/* eslint-enable @typescript-eslint/no-require-imports */

const root = path.resolve(__dirname, '../..');

/** Prometheus scrapes every second or so; a series shows up within a few scrapes. */
const SCRAPED = { timeoutMs: 60_000, intervalMs: 250 };

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describe('a real Prometheus scraping the running services', () => {
  const tenant = uniqueTenantId('scraped');
  const metricsPorts: Record<string, number> = {};
  let services: { stop: () => Promise<unknown> } | undefined;
  let prepared: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  let edgeUrl: string;

  const query = async (expr: string): Promise<QueryResult> => {
    const res = await fetch(`${prometheus?.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as QueryResult;
  };

  beforeAll(async () => {
    prepared = await ownDatabase('fairway_obs_metrics');
    const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'fairway-e2e-metrics' });
    await upsertTenant(owner, { id: tenant, displayName: 'Scraped tenant' });
    await owner.end();

    const ports: Record<string, number> = {};
    for (const name of ['edge', 'admin', 'control-plane', 'scheduler-admin', 'worker-1', 'worker-2']) ports[name] = await freePort();
    for (const name of ['edge', 'scheduler', 'worker-1', 'worker-2']) metricsPorts[name] = await freePort();
    edgeUrl = `http://127.0.0.1:${ports['edge']}`;
    services = await startStack(
      { brokers: globalStack().brokers, urls: prepared.urls, topicPrefix: `fw-obs-metrics-${randomBytes(4).toString('hex')}` },
      { ports, metricsPorts, onLine: () => undefined },
    );

    // The shipped scrape config, pointed at this stack's metrics ports instead of compose's hosts.
    const shipped = readFileSync(path.join(root, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8');
    const config = shipped
      .replace(/scrape_interval: \S+/, 'scrape_interval: 1s')
      .replace('/etc/prometheus/rules/*.yml', path.join(root, 'deploy', 'prometheus', 'rules', '*.yml'))
      .replace("'edge:9464'", `'127.0.0.1:${metricsPorts['edge']}'`)
      .replace("'scheduler:9465'", `'127.0.0.1:${metricsPorts['scheduler']}'`)
      .replace("'worker-1:9466', 'worker-2:9467'", `'127.0.0.1:${metricsPorts['worker-1']}', '127.0.0.1:${metricsPorts['worker-2']}'`);
    expect(config).not.toMatch(/'(edge|scheduler|worker-\d):\d+'/);
    prometheus = await startPrometheus({ config, port: await freePort(), name: `e2e-${randomBytes(4).toString('hex')}` });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await services?.stop();
    await prepared?.drop();
  });

  it('scrapes every service and reads a per-tenant series back through the HTTP API', async () => {
    const token = await devToken(tenant);
    const accepted = await fetch(`${edgeUrl}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'synthetic', params: { ms: 10 } }),
    });
    // The answer's body too: a rare CI run got 404 here, and the status alone does not say from what.
    expect({ status: accepted.status, body: accepted.status === 202 ? '' : await accepted.text() }).toEqual({ status: 202, body: '' });

    const up = await eventually(
      'every Fairway target to be up',
      async () => {
        const result = await query('up{job=~"fairway-.*"} == 1');
        return (result.data?.result.length ?? 0) === 4 ? result : undefined;
      },
      SCRAPED,
    );
    expect(up.data?.result.map((r) => r.metric['job']).sort()).toEqual(['fairway-edge', 'fairway-scheduler', 'fairway-worker', 'fairway-worker']);

    const series = await eventually(
      `fairway_edge_commands_accepted_total{tenant="${tenant}"}`,
      async () => {
        const result = await query(`fairway_edge_commands_accepted_total{tenant="${tenant}"}`);
        return result.data?.result.length ? result.data.result : undefined;
      },
      SCRAPED,
    );
    expect(series).toHaveLength(1);
    expect(series[0]?.metric).toMatchObject({ tenant, service: 'edge', job: 'fairway-edge' });
    expect(Number(series[0]?.value[1])).toBe(1);

    const executed = await eventually(
      `fairway_worker_jobs_total{tenant="${tenant}"}`,
      async () => {
        const result = await query(`sum(fairway_worker_jobs_total{tenant="${tenant}",outcome="applied"})`);
        return Number(result.data?.result[0]?.value[1] ?? 0) >= 1 ? result : undefined;
      },
      SCRAPED,
    );
    expect(executed.status).toBe('success');

    // The labeller's own counter is exported from the first scrape, at 0 while under the bound.
    const folded = await query('sum(fairway_metrics_tenant_labels_folded_total)');
    expect(folded.data?.result[0]?.value[1]).toBe('0');
  });

  it('accepts every query of the shipped dashboards', async () => {
    const dir = path.join(root, 'deploy', 'grafana', 'dashboards');
    const refused: string[] = [];
    for (const file of readdirSync(dir)) {
      const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
      for (const panel of dashboard.panels) {
        for (const target of panel.targets ?? []) {
          const expr = target.expr.replace(/\$__rate_interval/g, '1m').replace(/\$tenant/g, tenant);
          const result = await query(expr);
          if (result.status !== 'success') refused.push(`${file} "${panel.title}": ${result.error}`);
        }
      }
    }
    expect(refused).toEqual([]);
  });
});
