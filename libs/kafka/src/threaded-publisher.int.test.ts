import { BrokerUnavailableError } from '@fairway/errors';
import { extractKafkaHeaders, type TenantId } from '@fairway/tenant-context';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { CommandHeader, commandMessage, readCommandMessage, ThreadedPublisher, type FairwayTopics } from './index';
import { collectMessages, deleteTopics, testKafka, uniqueTopics } from './testing';

describe('ThreadedPublisher: the producer on a thread of its own (real Kafka)', () => {
  const brokers = process.env['FAIRWAY_TEST_KAFKA_BROKERS'] as string;
  let kafka: Kafka;
  let topics: FairwayTopics;

  beforeAll(async () => {
    kafka = testKafka();
    topics = await uniqueTopics(kafka, 'fw-threaded');
  });

  afterAll(async () => {
    await deleteTopics(kafka, topics);
  });

  it('acknowledges every message once the broker stored it, in fewer sends than messages, with keys and headers intact', async () => {
    const sends: number[] = [];
    const publisher = await ThreadedPublisher.start({ brokers, clientId: 'fw-threaded-test', topic: topics.commands, onSend: (size) => sends.push(size) });
    expect(publisher.connected).toBe(true);
    const tenants = ['acme', 'globex'] as TenantId[];
    const ids = Array.from({ length: 300 }, () => randomUUID());
    await Promise.all(
      ids.map((jobId, i) =>
        publisher.publish(
          commandMessage(
            tenants[i % 2] as TenantId,
            { jobId, type: 'synthetic', params: { ms: 1 }, priority: 0, acceptedAt: new Date().toISOString() },
            { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
          ),
        ),
      ),
    );
    expect(publisher.pending).toBe(0);
    expect(sends.reduce((a, b) => a + b, 0)).toBe(300);
    expect(sends.length).toBeLessThan(300);
    await publisher.close();

    const seen = await collectMessages(kafka, topics.commands, (messages) => messages.length >= 300);
    expect(new Set(seen.map((m) => m.headers?.['fairway-job-id']?.toString()))).toEqual(new Set(ids));
    for (const message of seen) {
      expect(extractKafkaHeaders(message.headers)).toBe(message.key?.toString());
      expect(message.headers?.['traceparent']?.toString()).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    }
  });

  it("with coalesceCommands, sends each tenant's commands of a send as one record, and every command reads back once", async () => {
    const own = await uniqueTopics(kafka, 'fw-coalesce');
    try {
      const sends: number[] = [];
      const publisher = await ThreadedPublisher.start({
        brokers,
        clientId: 'fw-threaded-test',
        topic: own.commands,
        coalesceCommands: true,
        onSend: (size) => sends.push(size),
      });
      const tenants = ['acme', 'globex', 'initech'] as TenantId[];
      const sent = Array.from({ length: 600 }, (_, i) => ({
        tenant: tenants[i % 3] as TenantId,
        jobId: randomUUID(),
        traceparent: `00-${randomUUID().replace(/-/g, '')}-${'b'.repeat(16)}-01`,
      }));
      await Promise.all(
        sent.map((c) =>
          publisher.publish(
            commandMessage(
              c.tenant,
              { jobId: c.jobId, type: 'synthetic', params: { ms: 1 }, priority: 0, acceptedAt: new Date().toISOString() },
              { traceparent: c.traceparent },
            ),
          ),
        ),
      );
      await publisher.close();
      expect(sends.reduce((a, b) => a + b, 0)).toBe(600);

      const read = (records: Awaited<ReturnType<typeof collectMessages>>) => records.flatMap((m) => readCommandMessage(m));
      const records = await collectMessages(kafka, own.commands, (seen) => read(seen).length >= 600);
      // Fewer records than commands: the sends that carried several commands of a tenant made one record of them.
      expect(records.length).toBeLessThan(600);
      expect(records.some((m) => m.headers?.[CommandHeader.batch] !== undefined)).toBe(true);
      const commands = read(records).map((r) => {
        if ('error' in r) throw new Error(r.error.reason);
        return r.command;
      });
      expect(commands).toHaveLength(600);
      // Each tenant's commands in the order they were published, each with its own trace context.
      for (const tenant of tenants) {
        expect(commands.filter((c) => c.tenantId === tenant).map((c) => [c.body.jobId, c.traceHeaders['traceparent']])).toEqual(
          sent.filter((c) => c.tenant === tenant).map((c) => [c.jobId, c.traceparent]),
        );
      }
      for (const record of records) expect(extractKafkaHeaders(record.headers)).toBe(record.key?.toString());
    } finally {
      await deleteTopics(kafka, own);
    }
  });

  it('carries Buffer values and headers across the thread as the same bytes', async () => {
    const topic = topics.jobEvents;
    const publisher = await ThreadedPublisher.start({ brokers, clientId: 'fw-threaded-test', topic });
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await publisher.publish({ key: Buffer.from('acme'), value: bytes, headers: { 'fairway-tenant-id': 'acme', raw: bytes } });
    await publisher.close();
    const [message] = await collectMessages(kafka, topic, (messages) => messages.length >= 1);
    expect(message?.key?.toString()).toBe('acme');
    expect(Buffer.compare(message?.value as Buffer, bytes)).toBe(0);
    expect(Buffer.compare(message?.headers?.['raw'] as Buffer, bytes)).toBe(0);
  });

  it('rejects with BROKER_UNAVAILABLE when the write is not acknowledged, then sheds load without a round trip', async () => {
    let sends = 0;
    const publisher = await ThreadedPublisher.start({
      brokers,
      clientId: 'fw-threaded-test',
      topic: `missing-${randomUUID()}`,
      sendTimeoutMs: 500,
      retryAfterSeconds: 30,
      onSend: () => (sends += 1),
    });
    const message = { key: 'acme', value: '{}' };
    const first = await publisher.publish(message).catch((err: unknown) => err);
    expect(first).toBeInstanceOf(BrokerUnavailableError);
    expect((first as BrokerUnavailableError).retryAfterSeconds).toBe(30);
    const second = await publisher.publish(message).catch((err: unknown) => err);
    expect(second).toBeInstanceOf(BrokerUnavailableError);
    expect((second as Error).message).toMatch(/not accepting writes/);
    expect(sends).toBe(1);
    await publisher.close();
  });

  it('drains on close: every message taken before close() is settled, later ones are refused', async () => {
    const publisher = await ThreadedPublisher.start({ brokers, clientId: 'fw-threaded-test', topic: topics.commandsDeadLetter });
    const taken = Array.from({ length: 50 }, (_, i) => publisher.publish({ key: 'acme', value: String(i), headers: { 'fairway-tenant-id': 'acme' } }));
    const closing = publisher.close();
    await expect(publisher.publish({ key: 'acme', value: 'late' })).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(Promise.all(taken)).resolves.toHaveLength(50);
    // A second close() (two shutdown paths racing) waits for the same end.
    await Promise.all([closing, publisher.close()]);
    const seen = await collectMessages(kafka, topics.commandsDeadLetter, (messages) => messages.length >= 50);
    expect(seen.map((m) => m.value?.toString()).sort()).toEqual(Array.from({ length: 50 }, (_, i) => String(i)).sort());
  });

  it('tells its owner when the Kafka thread dies, refusing what it held and everything after', async () => {
    let exit: Error | undefined;
    const publisher = await ThreadedPublisher.start({ brokers, clientId: 'fw-threaded-test', topic: topics.commands, onThreadExit: (err) => (exit = err) });
    const exited = new Promise<void>((resolve) => (publisher as unknown as { worker: Worker }).worker.once('exit', () => resolve()));
    // A crash, as far as the owner can tell: the thread goes away without close().
    await (publisher as unknown as { worker: Worker }).worker.terminate();
    await exited;
    expect(exit?.message).toMatch(/without close\(\)/);
    expect(publisher.connected).toBe(false);
    await expect(publisher.publish({ key: 'acme', value: '{}' })).rejects.toThrow(/must be restarted/);
  });

  it('says which brokers it could not reach when the producer cannot connect', async () => {
    await expect(
      ThreadedPublisher.start({ brokers: '127.0.0.1:1', clientId: 'fw-threaded-test', topic: topics.commands, startTimeoutMs: 3_000 }),
    ).rejects.toThrow(/127\.0\.0\.1:1.*KAFKA_BROKERS/);
  });
});
