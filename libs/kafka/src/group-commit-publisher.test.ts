import { BrokerUnavailableError } from '@fairway/errors';
import type { Producer, RecordMetadata } from 'kafkajs';
import { GroupCommitPublisher } from './group-commit-publisher';

/** A producer whose sends settle when the test says so: a broker that is down, then back. */
function controlledProducer() {
  const sends: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  const producer = {
    send: () =>
      new Promise<RecordMetadata[]>((resolve, reject) => {
        sends.push({ resolve: () => resolve([]), reject });
      }),
  } as unknown as Producer;
  return { producer, sends };
}

const message = { key: 'acme', value: '{}' };

/** One turn of the event loop: the publisher sends what a turn published at its end. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('GroupCommitPublisher when the broker fails', () => {
  it('fails the callers of an overdue send but starts no second send while the producer still retries the first', async () => {
    const { producer, sends } = controlledProducer();
    // No shedding window and no probe interval: only the send in flight holds the next one back.
    const publisher = new GroupCommitPublisher({ producer, topic: 't', sendTimeoutMs: 20, retryAfterSeconds: 0, probeIntervalMs: 0 });
    await expect(publisher.publish(message)).rejects.toBeInstanceOf(BrokerUnavailableError);
    // The producer has not given up on the first send: a second one now could carry the same
    // idempotent sequence numbers. Refused at once instead.
    const second = publisher.publish(message).catch((err: unknown) => err);
    await turn();
    expect(sends).toHaveLength(1);
    expect(await second).toBeInstanceOf(BrokerUnavailableError);
    sends[0]!.resolve();
    await publisher.close();
  });

  it('accepts again as soon as the overdue send is acknowledged, without waiting out a shedding window', async () => {
    const { producer, sends } = controlledProducer();
    const publisher = new GroupCommitPublisher({ producer, topic: 't', sendTimeoutMs: 20, retryAfterSeconds: 30, probeIntervalMs: 60_000 });
    await expect(publisher.publish(message)).rejects.toBeInstanceOf(BrokerUnavailableError);
    // The broker is back: the producer's own retry of the first send gets through.
    sends[0]!.resolve();
    await turn();
    const next = publisher.publish(message);
    await turn();
    expect(sends).toHaveLength(2);
    sends[1]!.resolve();
    await expect(next).resolves.toBeUndefined();
  });

  it('sends the first message after the probe interval as the probe, and refuses the others until it succeeds', async () => {
    const { producer, sends } = controlledProducer();
    const publisher = new GroupCommitPublisher({ producer, topic: 't', sendTimeoutMs: 60_000, probeIntervalMs: 0 });
    const first = publisher.publish(message);
    await turn();
    sends[0]!.reject(new Error('Connection error: connect ECONNREFUSED'));
    await expect(first).rejects.toBeInstanceOf(BrokerUnavailableError);
    const probe = publisher.publish(message);
    await turn();
    expect(sends).toHaveLength(2);
    await expect(publisher.publish(message)).rejects.toBeInstanceOf(BrokerUnavailableError);
    sends[1]!.resolve();
    await expect(probe).resolves.toBeUndefined();
    const after = publisher.publish(message);
    await turn();
    sends[2]!.resolve();
    await expect(after).resolves.toBeUndefined();
  });
});
