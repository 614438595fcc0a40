import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { Pool } from 'pg';
import { createPool, upsertTenant } from '@fairway/db';
import {
  coalesceCommandMessages,
  commandMessage,
  createIdempotentProducer,
  createKafka,
  GroupCommitPublisher,
  topicNames,
  type FairwayTopics,
} from '@fairway/kafka';
import { dropTestDatabase } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import type { Kafka, Producer } from 'kafkajs';

/* eslint-disable @typescript-eslint/no-require-imports -- the process scripts are plain CommonJS shared with `npm run up` */
const { ensureInfra } = require('../../../scripts/lib/infra.cjs') as {
  ensureInfra: (o: object) => Promise<{ brokers: string; adminUrl: string; urls: { owner: string; app: string; scheduler: string }; topicPrefix: string }>;
};
const { startService, stopService, freePort, transportEnv } = require('../../../scripts/lib/services.cjs') as {
  transportEnv: () => (service: string) => Record<string, string>;
  startService: (d: { name: string; entry: string; env: Record<string, string> }, o?: object) => Promise<ServiceHandle>;
  stopService: (h: ServiceHandle, graceMs?: number) => Promise<void>;
  freePort: () => Promise<number>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** A service process of an isolated stack. */
export interface ServiceHandle {
  name: string;
  child: ChildProcess;
  lines: string[];
}

/**
 * A stack of schedulers and workers with a database and topics of its own, for tests that kill
 * and restart processes. Commands are produced straight to Kafka in the edge's format: the edge
 * answers 202 exactly when Kafka acknowledged, so an acknowledged produce is that 202.
 */
export class IsolatedStack {
  readonly services = new Map<string, ServiceHandle>();
  private publisher: GroupCommitPublisher | undefined;
  private producer: Producer | undefined;
  kafka!: Kafka;
  topics!: FairwayTopics;
  owner!: Pool;
  scheduler!: Pool;
  private infra!: Awaited<ReturnType<typeof ensureInfra>>;
  private database = `fw_e2e_${randomBytes(4).toString('hex')}`;
  readonly ports = new Map<string, number>();

  constructor(private readonly env: Record<string, string> = {}) {}

  /** A superuser URL of this stack's database: for reading behind RLS, as an auditor would. */
  get adminUrl(): string {
    return this.infra.adminUrl;
  }

  async start(): Promise<void> {
    const prefix = `fw-iso-${randomBytes(4).toString('hex')}`;
    this.infra = await ensureInfra({ database: this.database, topicPrefix: prefix, log: () => undefined });
    this.kafka = createKafka({ brokers: this.infra.brokers, clientId: 'fairway-e2e-isolated' });
    this.topics = topicNames(prefix);
    this.owner = createPool({ connectionString: this.infra.urls.owner, applicationName: 'fairway-e2e-owner', max: 3 });
    this.scheduler = createPool({ connectionString: this.infra.urls.scheduler, applicationName: 'fairway-e2e-reader', max: 3 });
    this.producer = createIdempotentProducer(this.kafka);
    await this.producer.connect();
    // As the edge publishes: group commit, a tenant's commands of one send coalesced into one record.
    this.publisher = new GroupCommitPublisher({
      producer: this.producer,
      topic: this.topics.commands,
      coalesce: (messages) => coalesceCommandMessages(messages),
    });
  }

  private readonly tls = transportEnv();

  private common(): Record<string, string> {
    return {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: this.infra.brokers,
      FAIRWAY_TOPIC_PREFIX: this.infra.topicPrefix,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...this.env,
    };
  }

  /**
   * Starts this stack's control plane once: the workers hold no key-encryption key and ask its
   * KeyService for tenants' data keys.
   */
  async startControlPlane(): Promise<string> {
    const running = this.services.get('control-plane');
    const port = this.ports.get('control-plane') ?? (await freePort());
    this.ports.set('control-plane', port);
    if (!running || running.child.exitCode !== null || running.child.signalCode !== null) {
      const handle = await startService({
        name: 'control-plane',
        entry: 'services/control-plane/src/main.js',
        env: {
          ...this.common(),
          ...this.tls('control-plane'),
          DATABASE_URL: this.infra.urls.owner,
          APP_DATABASE_URL: this.infra.urls.app,
          CONTROL_PLANE_PORT: String(port),
          ADMIN_PORT: String(await freePort()),
        },
      });
      this.services.set('control-plane', handle);
    }
    return `127.0.0.1:${port}`;
  }

  /** Starts (or restarts) worker `name` on its port. */
  async startWorker(name: string): Promise<ServiceHandle> {
    const port = this.ports.get(name) ?? (await freePort());
    this.ports.set(name, port);
    const keyService = await this.startControlPlane();
    const handle = await startService({
      name,
      entry: 'services/worker/src/main.js',
      env: {
        ...this.common(),
        ...this.tls('worker'),
        DATABASE_URL: this.infra.urls.app,
        WORKER_PORT: String(port),
        WORKER_ID: name,
        KEY_SERVICE_ADDRESS: keyService,
      },
    });
    this.services.set(name, handle);
    return handle;
  }

  /** Starts (or restarts) scheduler replica `name`, calling the named workers. */
  async startScheduler(name: string, workers: string[], env: Record<string, string> = {}): Promise<ServiceHandle> {
    const adminPort = this.ports.get(`${name}-admin`) ?? (await freePort());
    this.ports.set(`${name}-admin`, adminPort);
    const handle = await startService(
      {
        name,
        entry: 'services/scheduler/src/main.js',
        env: {
          ...this.common(),
          ...this.tls('scheduler'),
          DATABASE_URL: this.infra.urls.scheduler,
          REPLICA_ID: name,
          SCHEDULER_ADMIN_PORT: String(adminPort),
          WORKER_ADDRESSES: workers.map((w) => `127.0.0.1:${this.ports.get(w)}`).join(','),
          ...env,
        },
      },
      { timeoutMs: 90_000 },
    );
    this.services.set(name, handle);
    return handle;
  }

  /** The SchedulerAdmin address of replica `name`. */
  adminAddress(name: string): string {
    return `127.0.0.1:${this.ports.get(`${name}-admin`)}`;
  }

  /** kill -9: no shutdown hook runs, leases stay taken, offsets stay uncommitted. */
  kill(name: string): Promise<void> {
    const handle = this.services.get(name);
    if (!handle || handle.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      handle.child.once('exit', () => resolve());
      handle.child.kill('SIGKILL');
    });
  }

  /** Graceful stop (SIGTERM). */
  async stop(name: string): Promise<void> {
    const handle = this.services.get(name);
    if (handle) await stopService(handle);
  }

  /** Creates active tenants in this stack's catalog. */
  async createTenants(count: number, prefix = 'iso'): Promise<TenantId[]> {
    const ids: TenantId[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = `${prefix}-${i}-${randomBytes(3).toString('hex')}` as TenantId;
      await upsertTenant(this.owner, { id });
      ids.push(id);
    }
    return ids;
  }

  /** Publishes a synthetic command as the edge does; resolves once Kafka acknowledged it. */
  async submit(tenant: TenantId, params: Record<string, unknown>, jobId = crypto.randomUUID()): Promise<string> {
    if (!this.publisher) throw new Error('start() the stack first');
    await this.publisher.publish(commandMessage(tenant, { jobId, type: 'synthetic', params, priority: 0, acceptedAt: new Date().toISOString() }, {}));
    return jobId;
  }

  /** Job states by id (read with the scheduler role, which sees every tenant's jobs). */
  async states(
    ids: readonly string[],
  ): Promise<Map<string, { state: string; attempts: number; startedAt: Date | null; finishedAt: Date | null; tenantId: string }>> {
    const { rows } = await this.scheduler.query<{
      id: string;
      state: string;
      attempts: number;
      started_at: Date | null;
      finished_at: Date | null;
      tenant_id: string;
    }>('SELECT id, state, attempts, started_at, finished_at, tenant_id FROM jobs WHERE id = ANY($1::uuid[])', [ids]);
    return new Map(
      rows.map((r) => [r.id, { state: r.state, attempts: r.attempts, startedAt: r.started_at, finishedAt: r.finished_at, tenantId: r.tenant_id }]),
    );
  }

  /** Polls until `done` holds for the states of `ids`, or throws after `timeoutMs` with a summary. */
  async waitFor(
    ids: readonly string[],
    done: (states: Awaited<ReturnType<IsolatedStack['states']>>) => boolean,
    timeoutMs: number,
  ): Promise<Awaited<ReturnType<IsolatedStack['states']>>> {
    const deadline = Date.now() + timeoutMs;
    let states = await this.states(ids);
    while (!done(states)) {
      if (Date.now() > deadline) {
        const summary: Record<string, number> = {};
        for (const id of ids) {
          const s = states.get(id)?.state ?? 'absent';
          summary[s] = (summary[s] ?? 0) + 1;
        }
        throw new Error(`condition not met within ${timeoutMs} ms; job states: ${JSON.stringify(summary)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      states = await this.states(ids);
    }
    return states;
  }

  /** Stops everything and drops the stack's database and topics. */
  async destroy(): Promise<void> {
    await Promise.all([...this.services.values()].map((h) => stopService(h, 5_000)));
    await this.publisher?.close();
    await this.producer?.disconnect();
    await this.owner?.end();
    await this.scheduler?.end();
    await dropTestDatabase(this.infra.adminUrl, this.database);
    const kafkaAdmin = this.kafka.admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.deleteTopics({ topics: Object.values(this.topics) }).catch(() => undefined);
    await kafkaAdmin.disconnect();
  }
}
