import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createPool, upsertTenant } from '@fairway/db';
import { eventually, uniqueTenantId } from '@fairway/db/testing';
import { ownDatabase, stack as globalStack } from './support/stack';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack and receiver scripts are plain CommonJS shared with `npm run up` */
const { startStack, freePort } = require('../../scripts/lib/services.cjs') as {
  startStack: (infra: object, options: object) => Promise<{ stop: () => Promise<unknown> }>;
  freePort: () => Promise<number>;
};
const { startOtlpReceiver } = require('../../scripts/lib/collector.cjs') as {
  startOtlpReceiver: () => Promise<{ endpoint: string; spans: ReceivedSpan[]; close: () => Promise<void> }>;
};
const { devToken } = require('../../scripts/lib/token.cjs') as { devToken: (tenant: string) => Promise<string> };
/* eslint-enable @typescript-eslint/no-require-imports */

/** A span as the in-test OTLP receiver flattens it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const root = path.resolve(__dirname, '../..');

/** Spans reach the receiver in the exporters' batches; the wait is generous for a loaded machine. */
const EXPORTED = { timeoutMs: 45_000, intervalMs: 200 };

describe('one trace across edge, scheduler, worker and PostgreSQL, with the tenant on every span', () => {
  const tenant = uniqueTenantId('traced');
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let services: { stop: () => Promise<unknown> } | undefined;
  let prepared: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  let edgeUrl: string;
  const lines: string[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    prepared = await ownDatabase('fairway_obs_traces');
    const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'fairway-e2e-traces' });
    await upsertTenant(owner, { id: tenant, displayName: 'Traced tenant' });
    await owner.end();

    const ports: Record<string, number> = {};
    for (const name of ['edge', 'admin', 'control-plane', 'scheduler-admin', 'worker-1', 'worker-2']) ports[name] = await freePort();
    edgeUrl = `http://127.0.0.1:${ports['edge']}`;
    const preload = `--require ${path.join(root, 'dist', 'libs', 'telemetry', 'src', 'register.js')}`;
    services = await startStack(
      { brokers: globalStack().brokers, urls: prepared.urls, topicPrefix: `fw-obs-traces-${randomBytes(4).toString('hex')}` },
      {
        ports,
        onLine: (line: string) => lines.push(line),
        env: {
          // Instrumentation must be loaded before express, grpc-js and pg are: preloading the
          // register entry does that whether or not a service imports it first itself.
          NODE_OPTIONS: [process.env['NODE_OPTIONS'], preload].filter(Boolean).join(' '),
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '100',
        },
      },
    );
  });

  afterAll(async () => {
    await services?.stop();
    await prepared?.drop();
    await receiver?.close();
  });

  it('joins the edge request, the dispatch, the worker call and its queries under one trace id', async () => {
    const traceId = randomBytes(16).toString('hex');
    const token = await devToken(tenant);
    const accepted = await fetch(`${edgeUrl}/v1/jobs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        // The caller starts the trace, so the test knows its id.
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
      body: JSON.stringify({ type: 'synthetic', params: { ms: 20 } }),
    });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };

    await eventually(
      `job ${id} to finish`,
      async () => {
        const res = await fetch(`${edgeUrl}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { state?: string };
        return body.state === 'succeeded' ? body : undefined;
      },
      EXPORTED,
    );

    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    const hops = {
      edgeRequest: (s: ReceivedSpan) => s.service === 'fairway-edge' && s.kind === SPAN_KIND_SERVER,
      schedulerDispatch: (s: ReceivedSpan) => s.service === 'fairway-scheduler' && /dispatch|Worker\/Execute/.test(s.name),
      // The scheduler's jobs travel on a long-lived Worker/Run stream: each job continues its own
      // trace on the worker from the traceparent its assignment carries.
      workerJob: (s: ReceivedSpan) => s.service === 'fairway-worker' && s.name === 'worker.execute',
      workerQuery: (s: ReceivedSpan) => s.service === 'fairway-worker' && s.kind === SPAN_KIND_CLIENT && s.attributes['db.system'] === 'postgresql',
    };
    const spans = await eventually(
      `spans of trace ${traceId} from every hop (received so far: ${receiver.spans.length} spans)`,
      () => {
        const found = inTrace();
        return Object.values(hops).every((hop) => found.some(hop)) ? found : undefined;
      },
      EXPORTED,
    );

    const missingHops = Object.entries(hops)
      .filter(([, matches]) => !spans.some(matches))
      .map(([hop]) => hop);
    expect(missingHops).toEqual([]);
    // One server span for the POST at the edge: the http instrumentation's, not a second of our own.
    expect(spans.filter(hops.edgeRequest).map((s) => s.name)).toHaveLength(1);
    // Every span of the trace, whatever its service, names the tenant.
    const untagged = spans.filter((s) => s.attributes['tenant.id'] !== tenant).map((s) => `${s.service} ${s.name}`);
    expect(untagged).toEqual([]);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['fairway-edge', 'fairway-scheduler', 'fairway-worker']));
  });
});
