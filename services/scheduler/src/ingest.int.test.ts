import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, Message, Producer } from 'kafkajs';
import { createTestTenant, dropTestTenants, testPools } from '@fairway/db/testing';
import { coalesceCommandMessages, CommandHeader, commandMessage, createIdempotentProducer, DeadLetterHeader, GroupCommitPublisher } from '@fairway/kafka';
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
    const ingestor = new CommandIngestor(
      store,
      new GroupCommitPublisher({ producer, topic: topics.commandsDeadLetter }),
      createLogger('ingest-test', 'silent'),
      (jobs) => durable.push(...jobs),
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

  it("reads a tenant's coalesced commands one by one: each a job once, a bad one dead-lettered alone", async () => {
    const good = [randomUUID(), randomUUID()];
    const unknownType = randomUUID();
    const traceparent = `00-${randomUUID().replace(/-/g, '')}-${'c'.repeat(16)}-01`;
    const [batch, ...rest] = coalesceCommandMessages([
      command(good[0] as string),
      commandMessage(tenant, { jobId: unknownType, type: 'mine-bitcoin', params: {}, priority: 0, acceptedAt: new Date().toISOString() }, { traceparent }),
      command(good[1] as string),
    ]);
    expect(rest).toHaveLength(0);
    expect(batch?.headers?.[CommandHeader.batch]).toBe('3');
    // Sent twice, as a producer retry after a lost acknowledgement would.
    await producer.send({ topic: topics.commands, messages: [batch as Message, batch as Message], acks: -1 });

    const isOurs = (m: { value: Buffer | null }) => m.value?.toString().includes(unknownType) === true;
    const dead = await collectMessages(kafka, topics.commandsDeadLetter, (seen) => seen.filter(isOurs).length >= 2);
    const records = dead.filter(isOurs);
    expect(records).toHaveLength(2);
    for (const record of records) {
      // The dead-letter record is the failed command alone, replayable as a single-command message.
      expect(record.headers?.[DeadLetterHeader.reason]?.toString()).toMatch(/^UNKNOWN_JOB_TYPE/);
      expect(JSON.parse(record.value?.toString() ?? '{}')).toMatchObject({ jobId: unknownType, type: 'mine-bitcoin' });
      expect(record.headers?.['fairway-tenant-id']?.toString()).toBe(tenant);
      expect(record.headers?.traceparent?.toString()).toBe(traceparent);
      expect(record.headers?.[CommandHeader.batch]).toBeUndefined();
      expect(record.headers?.[DeadLetterHeader.sourceOffset]?.toString()).toMatch(/^\d+$/);
    }
    // The jobs of a Kafka batch are inserted before its dead letters are published: once both
    // records are there, the good commands are durable. Each was handed to the dispatcher once.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !good.every((id) => durable.some((job) => job.id === id))) await new Promise((resolve) => setTimeout(resolve, 50));
    const { rows } = await pools.scheduler.query<{ id: string }>('SELECT id FROM jobs WHERE id = ANY($1::uuid[])', [[...good, unknownType]]);
    expect(rows.map((r) => r.id).sort()).toEqual([...good].sort());
    for (const id of good) expect(durable.filter((job) => job.id === id)).toHaveLength(1);
  });

  it('hands the dispatcher exactly the jobs it inserted, as the jobs table holds them', async () => {
    const upper = randomUUID().toUpperCase();
    const repeated = randomUUID();
    const keyed = randomUUID();
    const sameKey = randomUUID();
    const last = randomUUID();
    const key = `key-${randomUUID()}`;
    const at = (ms: number) => new Date(Date.UTC(2026, 10, 26, 12, 0, 0, ms)).toISOString();
    const send = (jobId: string, extra: { idempotencyKey?: string; acceptedAt?: string; params?: Record<string, unknown> } = {}) =>
      commandMessage(
        tenant,
        {
          jobId,
          type: 'synthetic',
          params: extra.params ?? { ms: 5 },
          priority: 3,
          acceptedAt: extra.acceptedAt ?? at(1),
          ...(extra.idempotencyKey ? { idempotencyKey: extra.idempotencyKey } : {}),
        },
        {},
      );
    await producer.send({
      topic: topics.commands,
      messages: [
        send(upper, { acceptedAt: '2026-11-26T12:00:00.123456Z', params: { ms: 7, class: 'heavy' } }),
        send(repeated, { acceptedAt: at(2) }),
        // The same id again in the same send, and a second job id for an idempotency key already used.
        send(repeated, { acceptedAt: at(3) }),
        send(keyed, { idempotencyKey: key, acceptedAt: at(4) }),
        send(sameKey, { idempotencyKey: key, acceptedAt: at(5) }),
        send(last, { acceptedAt: '2026-11-26T12:00:00Z' }),
      ],
      acks: -1,
    });

    const ours = [upper.toLowerCase(), repeated, keyed, sameKey, last];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !durable.some((job) => job.id === last)) await new Promise((resolve) => setTimeout(resolve, 50));
    const { rows } = await pools.scheduler.query<{
      id: string;
      tenant_id: string;
      type: string;
      job_class: string;
      params: Record<string, unknown>;
      priority: number;
      partition: number;
      accepted_at: Date;
    }>('SELECT id, tenant_id, type, job_class, params, priority, partition, accepted_at FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id', [ours]);
    expect(rows.map((row) => row.id)).toEqual([upper.toLowerCase(), repeated, keyed, last].sort());
    const handed = durable.filter((job) => ours.includes(job.id)).sort((a, b) => a.id.localeCompare(b.id));
    expect(handed).toEqual(
      rows.map((row) => ({
        id: row.id,
        tenantId: row.tenant_id,
        type: row.type,
        jobClass: row.job_class,
        params: row.params,
        priority: row.priority,
        partition: row.partition,
        acceptedAt: row.accepted_at,
      })),
    );
  });

  it('dead-letters a command PostgreSQL could not store, instead of failing its whole batch', async () => {
    const nulKey = randomUUID();
    const nulTrace = randomUUID();
    const loneSurrogate = randomUUID();
    const after = randomUUID();
    const body = (jobId: string, extra: Record<string, string> = {}) => ({
      jobId,
      type: 'synthetic',
      params: { ms: 1 },
      priority: 0,
      acceptedAt: new Date().toISOString(),
      ...extra,
    });
    const [coalesced] = coalesceCommandMessages([
      commandMessage(tenant, body(loneSurrogate), { baggage: 'k=\ud800' }),
      commandMessage(tenant, body(randomUUID()), {}),
    ]);
    await producer.send({
      topic: topics.commands,
      messages: [
        commandMessage(tenant, body(nulKey, { idempotencyKey: 'key\u0000' }), {}),
        commandMessage(tenant, body(nulTrace), { traceparent: '00-\u0000' }),
        coalesced as Message,
        command(after),
      ],
      acks: -1,
    });
    const ids = [nulKey, nulTrace, loneSurrogate];
    const isOurs = (m: { value: Buffer | null }) => ids.some((id) => m.value?.toString().includes(id) === true);
    const dead = await collectMessages(kafka, topics.commandsDeadLetter, (seen) => seen.filter(isOurs).length >= 3);
    const reasons = dead.filter(isOurs).map((m) => m.headers?.[DeadLetterHeader.reason]?.toString());
    expect(reasons).toEqual([
      "the command's idempotencyKey holds a NUL character, which PostgreSQL cannot store",
      "the command's trace header traceparent holds a NUL character, which PostgreSQL cannot store",
      "the command's trace header baggage holds a lone UTF-16 surrogate, which PostgreSQL cannot store",
    ]);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !durable.some((job) => job.id === after)) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(durable.some((job) => job.id === after)).toBe(true);
  });

  it('dead-letters a command dated year 0000 and one with a NUL in its baggage, with their reasons, and stores the rest of their batch', async () => {
    const yearZero = randomUUID();
    const nulBaggage = randomUUID();
    const good = [randomUUID(), randomUUID(), randomUUID()];
    const body = (jobId: string, acceptedAt = new Date().toISOString()) => ({ jobId, type: 'synthetic', params: { ms: 1 }, priority: 0, acceptedAt });
    await producer.send({
      topic: topics.commands,
      messages: [
        command(good[0] as string),
        commandMessage(tenant, body(yearZero, '0000-01-01T00:00:00Z'), {}),
        command(good[1] as string),
        commandMessage(tenant, body(nulBaggage), { baggage: 'note=\u0000' }),
        command(good[2] as string),
      ],
      acks: -1,
    });
    const isOurs = (m: { value: Buffer | null }) => [yearZero, nulBaggage].some((id) => m.value?.toString().includes(id) === true);
    const dead = await collectMessages(kafka, topics.commandsDeadLetter, (seen) => seen.filter(isOurs).length >= 2);
    expect(dead.filter(isOurs).map((m) => m.headers?.[DeadLetterHeader.reason]?.toString())).toEqual([
      "the command's acceptedAt holds year 0000, which PostgreSQL cannot store",
      "the command's trace header baggage holds a NUL character, which PostgreSQL cannot store",
    ]);
    const deadline = Date.now() + 30_000;
    let stored: string[] = [];
    while (Date.now() < deadline && stored.length < good.length) {
      const { rows } = await pools.scheduler.query<{ id: string }>('SELECT id FROM jobs WHERE id = ANY($1::uuid[])', [[...good, yearZero, nulBaggage]]);
      stored = rows.map((row) => row.id);
      if (stored.length < good.length) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(stored.sort()).toEqual([...good].sort());
  });

  it('makes every command of a batch larger than one insert a job, once', async () => {
    const ids = Array.from({ length: 2_500 }, () => randomUUID());
    await producer.send({ topic: topics.commands, messages: coalesceCommandMessages(ids.map((id) => command(id))), acks: -1 });
    const deadline = Date.now() + 60_000;
    const wanted = new Set<string>(ids);
    const handed = () => durable.filter((job) => wanted.has(job.id));
    while (Date.now() < deadline && handed().length < ids.length) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(
      handed()
        .map((job) => job.id)
        .sort(),
    ).toEqual([...ids].sort());
    const { rows } = await pools.scheduler.query<{ n: string }>('SELECT count(*) AS n FROM jobs WHERE id = ANY($1::uuid[])', [ids]);
    expect(Number(rows[0]?.n)).toBe(ids.length);
  });
});
