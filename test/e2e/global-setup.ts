import { randomBytes } from 'node:crypto';

/** The stack the end-to-end tests run against, shared with the test files through the environment. */
export interface E2eStack {
  edgeUrl: string;
  adminUrl: string;
  schedulerAdmin: string;
  controlPlane: string;
  workers: string[];
  brokers: string;
  topicPrefix: string;
  urls: { owner: string; app: string; scheduler: string };
}

interface StackHandle {
  stop: () => Promise<unknown>;
}

/**
 * Starts the services as real processes from dist/ (built by `npm test`) on free ports, with a
 * topic prefix of their own, against the test database. Waits until each says it is ready.
 */
export default async function globalSetup(): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
  const { ensureInfra } = require('../../scripts/lib/infra.cjs');
  const { build } = require('../../scripts/build.cjs');
  const { startStack, freePort } = require('../../scripts/lib/services.cjs');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const topicPrefix = `fw-e2e-${randomBytes(4).toString('hex')}`;
  const infra = await ensureInfra({ database: 'fairway_test', topicPrefix, log: () => undefined });
  build({ quiet: true });
  const ports: Record<string, number> = {};
  for (const name of ['edge', 'admin', 'control-plane', 'scheduler-admin', 'worker-1', 'worker-2']) ports[name] = await freePort();
  const lines: string[] = [];
  const stack = (await startStack(infra, {
    ports,
    logLevel: process.env['E2E_LOG_LEVEL'] ?? 'info',
    onLine: (line: string) => {
      lines.push(line);
      if (process.env['E2E_VERBOSE']) console.log(line);
    },
  })) as StackHandle;
  (globalThis as { __fairwayStack?: StackHandle }).__fairwayStack = stack;
  const e2e: E2eStack = {
    edgeUrl: `http://127.0.0.1:${ports['edge']}`,
    adminUrl: `http://127.0.0.1:${ports.admin}`,
    schedulerAdmin: `127.0.0.1:${ports['scheduler-admin']}`,
    controlPlane: `127.0.0.1:${ports['control-plane']}`,
    workers: [`127.0.0.1:${ports['worker-1']}`, `127.0.0.1:${ports['worker-2']}`],
    brokers: infra.brokers,
    topicPrefix,
    urls: infra.urls,
  };
  process.env['FAIRWAY_E2E'] = JSON.stringify(e2e);
  process.env['FAIRWAY_TEST_DATABASE_ADMIN_URL'] ??= infra.adminUrl;
}
