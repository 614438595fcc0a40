import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { BrokerUnavailableError } from '@fairway/errors';
import type { TenantId } from '@fairway/tenant-context';
import { CommandHeader, commandMessage, readCommandMessage, startCommandPublisher, type FairwayTopics } from './index';
import { collectMessages, deleteTopics, testKafka, uniqueTopics } from './testing';

describe('startCommandPublisher on the calling thread (real Kafka)', () => {
  const brokers = process.env['FAIRWAY_TEST_KAFKA_BROKERS'] as string;
  let kafka: Kafka;
  let topics: FairwayTopics;

  beforeAll(async () => {
    kafka = testKafka();
    topics = await uniqueTopics(kafka, 'fw-cmdpub');
  });

  afterAll(async () => {
    await deleteTopics(kafka, topics);
  });

  it("acknowledges every command, a tenant's commands of one send coalesced into one record, and reports readiness", async () => {
    const sends: number[] = [];
    const publisher = await startCommandPublisher({ brokers, clientId: 'fw-cmdpub-test', topic: topics.commands, onSend: (size) => sends.push(size) });
    expect(publisher.connected).toBe(true);
    const tenants = ['acme', 'globex'] as TenantId[];
    const ids = Array.from({ length: 400 }, () => randomUUID());
    await Promise.all(
      ids.map((jobId, i) =>
        publisher.publish(
          commandMessage(tenants[i % 2] as TenantId, { jobId, type: 'synthetic', params: { ms: 1 }, priority: 0, acceptedAt: new Date().toISOString() }, {}),
        ),
      ),
    );
    expect(publisher.pending).toBe(0);
    expect(sends.reduce((a, b) => a + b, 0)).toBe(400);
    await publisher.close();
    await publisher.close(); // a second close is the same close
    expect(publisher.connected).toBe(false);
    await expect(
      publisher.publish(
        commandMessage('acme' as TenantId, { jobId: randomUUID(), type: 'synthetic', params: {}, priority: 0, acceptedAt: new Date().toISOString() }, {}),
      ),
    ).rejects.toBeInstanceOf(BrokerUnavailableError);

    const count = (seen: Awaited<ReturnType<typeof collectMessages>>) => seen.flatMap((m) => readCommandMessage(m)).length;
    const records = await collectMessages(kafka, topics.commands, (seen) => count(seen) >= 400);
    expect(records.length).toBeLessThan(400);
    expect(records.some((m) => m.headers?.[CommandHeader.batch] !== undefined)).toBe(true);
    const read = records.flatMap((m) => readCommandMessage(m)).map((r) => ('command' in r ? r.command.body.jobId : r.error.reason));
    expect(read.sort()).toEqual([...ids].sort());
  });

  it('says which brokers it could not reach when the producer cannot connect', async () => {
    await expect(startCommandPublisher({ brokers: '127.0.0.1:1', clientId: 'fw-cmdpub-test', topic: topics.commands, startTimeoutMs: 3_000 })).rejects.toThrow(
      /127\.0\.0\.1:1.*KAFKA_BROKERS/,
    );
  });
});
