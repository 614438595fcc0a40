import { BrokerUnavailableError } from '@fairway/errors';
import { extractKafkaHeaders, type TenantId } from '@fairway/tenant-context';
import type { Kafka, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { commandMessage, createIdempotentProducer, GroupCommitPublisher, type FairwayTopics } from './index';
import { collectMessages, deleteTopics, testKafka, uniqueTopics } from './testing';

describe('GroupCommitPublisher (real Kafka)', () => {
  let kafka: Kafka;
  let producer: Producer;
  let topics: FairwayTopics;

  beforeAll(async () => {
    kafka = testKafka();
    topics = await uniqueTopics(kafka);
    producer = createIdempotentProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await deleteTopics(kafka, topics);
  });

  it('acknowledges every message once the broker stored it, in fewer sends than messages', async () => {
    const sends: number[] = [];
    const publisher = new GroupCommitPublisher({ producer, topic: topics.commands, onSend: (size) => sends.push(size) });
    const tenants = ['acme', 'globex'] as TenantId[];
    const ids = Array.from({ length: 300 }, () => randomUUID());
    await Promise.all(
      ids.map((jobId, i) =>
        publisher.publish(
          commandMessage(tenants[i % 2] as TenantId, { jobId, type: 'synthetic', params: { ms: 1 }, priority: 0, acceptedAt: new Date().toISOString() }, {}),
        ),
      ),
    );
    expect(sends.reduce((a, b) => a + b, 0)).toBe(300);
    expect(sends.length).toBeLessThan(300);

    const seen = await collectMessages(kafka, topics.commands, (messages) => messages.length >= 300);
    expect(new Set(seen.map((m) => m.headers?.['fairway-job-id']?.toString()))).toEqual(new Set(ids));
    for (const message of seen) {
      expect(extractKafkaHeaders(message.headers)).toBe(message.key?.toString());
    }
  });

  it('rejects with BROKER_UNAVAILABLE when the write is not acknowledged, then sheds load at once', async () => {
    // A producer of its own that gives up at once, so no retry outlives the test.
    const failing = kafka.producer({ retry: { retries: 0 } });
    await failing.connect();
    let sends = 0;
    const publisher = new GroupCommitPublisher({
      producer: failing,
      topic: `missing-${randomUUID()}`,
      sendTimeoutMs: 500,
      retryAfterSeconds: 30,
      onSend: () => (sends += 1),
    });
    const message = { key: 'acme', value: '{}' };
    await expect(publisher.publish(message)).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(sends).toBe(1);
    const second = await publisher.publish(message).catch((err: unknown) => err);
    expect(second).toBeInstanceOf(BrokerUnavailableError);
    expect((second as BrokerUnavailableError).retryAfterSeconds).toBe(30);
    // Shed: refused without another send to the broker.
    expect(sends).toBe(1);
    await publisher.close();
    await failing.disconnect();
  });
});
