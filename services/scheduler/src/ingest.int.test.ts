import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { createTestTenant, dropTestTenants, testPools } from '@fairway/db/testing';
import { commandMessage, createIdempotentProducer, DeadLetterHeader, GroupCommitPublisher } from '@fairway/kafka';
import { collectMessages, deleteTopics, testKafka, uniqueTopics } from '@fairway/kafka/testing';
import { createLogger } from '@fairway/telemetry';
import type { TenantId } from '@fairway/tenant-context';
import { CommandIngestor } from './ingest';
import { JobStore, type QueuedJob } from './job-store';

describe('CommandIngestor (real Kafka and PostgreSQL)', () => {
  let kafka: Kafka;
  let topics: Awaited<ReturnType<typeof uniqueTopics>>;
  let producer: Producer;
  let consumer: Consumer;
  let pools: ReturnType<typeof testPools>;
  let tenant: TenantId;
  const durable: QueuedJob[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    topics = await uniqueTopics(kafka, 'fw-ingest');
    pools = testPools();
    tenant = await createTestTenant(pools.owner, 'ingest');
    producer = createIdempotentProducer(kafka);
    await producer.connect();
    const store = new JobStore(pools.scheduler, 'ingest-test');
    const ingestor = new CommandIngestor(store, new GroupCommitPublisher({ producer, topic: topics.commandsDeadLetter }), createLogger('ingest-test', 'silent'), (jobs) =>
      durable.push(...jobs),
    );
    consumer = kafka.consumer({ groupId: `${topics.prefix}.scheduler`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await ingestor.run(consumer, topics.commands);
  });

  afterAll(async () => {
    await consumer.disconnect();
    await producer.disconnect();
    await dropTestTenants(pools.owner, [tenant]);
    await pools.end();
    await deleteTopics(kafka, topics);
  });

  function command(jobId: string, type = 'synthetic', params: Record<string, unknown> = { ms: 1 }) {
    return commandMessage(tenant, { jobId, type, params, priority: 0, acceptedAt: new Date().toISOString() }, {});
  }

  it('dead-letters poison messages with their reason and keeps the partition moving', async () => {
    const first = randomUUID();
    const last = randomUUID();
    // Every message has the same key, so all land in one partition, poison in the middle.
    const messages = [
      command(first),
      { key: tenant, value: '{"jobId": ', headers: { 'fairway-tenant-id': tenant } },
      { key: tenant, value: JSON.stringify({ jobId: randomUUID(), type: 'synthetic', params: {}, acceptedAt: new Date().toISOString() }) },
      { key: tenant, value: JSON.stringify({ hello: 'world' }), headers: { 'fairway-tenant-id': tenant } },
      command(randomUUID(), 'mine-bitcoin', {}),
      command(randomUUID(), 'synthetic', { ms: -1 }),
      command(first), // a redelivery of the first command
      command(last),
    ];
    await producer.send({ topic: topics.commands, messages, acks: -1 });

    const dead = await collectMessages(kafka, topics.commandsDeadLetter, (seen) => seen.length >= 5);
    expect(dead).toHaveLength(5);
    const reasons = dead.map((m) => m.headers?.[DeadLetterHeader.reason]?.toString() ?? '');
    expect(reasons).toEqual([
      expect.stringMatching(/value is not JSON/),
      expect.stringMatching(/no valid fairway-tenant-id header/),
      expect.stringMatching(/value is not a command/),
      expect.stringMatching(/UNKNOWN_JOB_TYPE/),
      expect.stringMatching(/VALIDATION_FAILED/),
    ]);
    for (const record of dead) {
      expect(record.headers?.[DeadLetterHeader.sourceTopic]?.toString()).toBe(topics.commands);
      expect(record.headers?.[DeadLetterHeader.sourceOffset]?.toString()).toMatch(/^\d+$/);
    }

    // The valid commands after the poison made it: the partition did not stall.
    const deadline = Date.now() + 30_000;
    let rows: Array<{ id: string }> = [];
    while (Date.now() < deadline) {
      ({ rows } = await pools.scheduler.query<{ id: string }>('SELECT id FROM jobs WHERE tenant_id = $1 ORDER BY accepted_at', [tenant]));
      if (rows.some((r) => r.id === last)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rows.map((r) => r.id).sort()).toEqual([first, last].sort());
    // The redelivered command was inserted once and handed to the dispatcher once.
    expect(durable.filter((job) => job.id === first)).toHaveLength(1);
  });

  it('dead-letters a command for a tenant the catalog does not know', async () => {
    const ghost = `nobody-${randomUUID().slice(0, 8)}` as TenantId;
    const jobId = randomUUID();
    await producer.send({
      topic: topics.commands,
      messages: [commandMessage(ghost, { jobId, type: 'synthetic', params: { ms: 1 }, priority: 0, acceptedAt: new Date().toISOString() }, {})],
      acks: -1,
    });
    const dead = await collectMessages(kafka, topics.commandsDeadLetter, (seen) => seen.some((m) => m.headers?.['fairway-job-id']?.toString() === jobId));
    const record = dead.find((m) => m.headers?.['fairway-job-id']?.toString() === jobId);
    expect(record?.headers?.[DeadLetterHeader.reason]?.toString()).toBe(`unknown tenant '${ghost}'`);
    const { rowCount } = await pools.scheduler.query('SELECT 1 FROM jobs WHERE id = $1', [jobId]);
    expect(rowCount).toBe(0);
  });
});
