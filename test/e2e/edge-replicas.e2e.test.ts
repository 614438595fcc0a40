import path from 'node:path';
import { createTenant, catalogClient, stack, token } from './support/stack';
import { uniqueTenantId } from '@fairway/db/testing';
import type { TenantCatalogClient } from '@fairway/grpc';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
const { startService, stopService, stackDefinition, freePort } = require(path.join(__dirname, '..', '..', 'scripts', 'lib', 'services.cjs')) as {
  startService: (definition: object, options?: object) => Promise<{ child: { pid: number } }>;
  stopService: (handle: object) => Promise<void>;
  stackDefinition: (infra: object, options: object) => Array<{ name: string; entry: string; env: Record<string, string> }>;
  freePort: () => Promise<number>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

function createTenantWithPlan(client: TenantCatalogClient, id: string, plan: string): Promise<void> {
  return new Promise((resolve, reject) => client.createTenant({ id, displayName: id, plan }, (err) => (err ? reject(err) : resolve())));
}

describe('two edge processes share one tenant budget through Redis', () => {
  const edges: Array<{ url: string; handle: object }> = [];
  let catalog: TenantCatalogClient;
  const tight = uniqueTenantId('tight');
  let bearer: string;

  beforeAll(async () => {
    const s = stack();
    catalog = catalogClient();
    await createTenant(catalog, uniqueTenantId('warm'));
    await createTenantWithPlan(catalog, tight, 'e2e-tight');
    bearer = await token(tight);
    // Two more edges of their own, with a plan whose limits the test can exhaust; the same Redis.
    const template = stackDefinition({ brokers: s.brokers, urls: s.urls, topicPrefix: s.topicPrefix }, { ports: {} }).find((d) => d.name === 'edge');
    if (!template) throw new Error('the stack has no edge definition');
    for (const name of ['edge-r1', 'edge-r2']) {
      const port = await freePort();
      const handle = await startService({
        ...template,
        name,
        env: {
          ...template.env,
          EDGE_PORT: String(port),
          KEY_SERVICE_ADDRESS: s.controlPlane,
          EDGE_PLAN_LIMITS: JSON.stringify({ standard: { rate: 50, burst: 100, maxInFlight: 20 }, 'e2e-tight': { rate: 0.01, burst: 6, maxInFlight: 2 } }),
        },
      });
      edges.push({ url: `http://127.0.0.1:${port}`, handle });
    }
  });

  afterAll(async () => {
    await Promise.all(edges.map((e) => stopService(e.handle)));
    catalog.close();
  });

  it('admits exactly the burst across both processes, then answers 429 with Retry-After and RateLimit headers', async () => {
    const answers: Array<{ status: number; headers: Headers; code?: string }> = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${edges[i % 2]!.url}/v1/jobs?limit=1`, { headers: { authorization: `Bearer ${bearer}` } });
      const body = (await res.json()) as { code?: string };
      answers.push({ status: res.status, headers: res.headers, ...(body.code ? { code: body.code } : {}) });
    }
    expect(answers.filter((a) => a.status === 200)).toHaveLength(6);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(6);
    // Both processes refused: the budget is shared, not per process.
    expect(new Set(answers.map((a, i) => (a.status === 429 ? i % 2 : -1)).filter((r) => r >= 0))).toEqual(new Set([0, 1]));
    expect(refused[0]?.code).toBe('RATE_LIMITED');
    expect(Number(refused[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused[0]?.headers.get('ratelimit-policy')).toMatch(/^"tenant";q=6;w=\d+$/);
    expect(refused[0]?.headers.get('ratelimit')).toMatch(/^"tenant";r=0;t=\d+$/);
  });
});
