import { randomBytes } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { createKafka } from './client';
import { ensureTopics, topicNames, type FairwayTopics } from './topics';

/** The test broker (set by the test tier's global setup). */
export function testKafka(clientId = 'fairway-test'): Kafka {
  const brokers = process.env['FAIRWAY_TEST_KAFKA_BROKERS'];
  if (!brokers) throw new Error('FAIRWAY_TEST_KAFKA_BROKERS is not set: run the suite with `npm test`');
  return createKafka({ brokers, clientId });
}

/** Fresh topics under a prefix no other test uses. */
export async function uniqueTopics(kafka: Kafka, prefix = 'fw-test'): Promise<FairwayTopics & { prefix: string }> {
  const unique = `${prefix}-${randomBytes(4).toString('hex')}`;
  const topics = topicNames(unique);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
  return { ...topics, prefix: unique };
}

/** Deletes topics a test created. */
export async function deleteTopics(kafka: Kafka, topics: FairwayTopics): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: Object.values(topics), timeout: 30_000 });
  } catch (err) {
    // A retried delete finds the topics already gone: that is the state we wanted.
    const cause = (err as { cause?: { type?: string } }).cause;
    if (cause?.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads `topic` from the beginning with an independent consumer until `until` is satisfied by the
 * messages seen so far, or rejects after `timeoutMs` saying how many it saw.
 */
export async function collectMessages(kafka: Kafka, topic: string, until: (messages: KafkaMessage[]) => boolean, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const consumer: Consumer = kafka.consumer({ groupId: `fw-test-reader-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 });
  const seen: KafkaMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return await new Promise<KafkaMessage[]>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`saw ${seen.length} messages on ${topic} within ${timeoutMs} ms, not enough`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message);
          if (until(seen)) resolve(seen);
        },
      });
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}
