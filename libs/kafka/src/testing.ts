import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Consumer, Kafka, KafkaConfig, KafkaMessage } from 'kafkajs';
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

/**
 * Sockets for a test's kafkajs client that can lose Produce answers: after `loseProduceAnswers(n)`,
 * each of the next n Produce requests goes to the broker as it is (so the broker stores its batch),
 * and when the broker's answer to it arrives the connection is destroyed instead of delivering it,
 * as when a broker is killed between its append and its answer. The client sees a connection error
 * for a batch that is stored (n = the producer's attempts makes a whole send fail). A real broker,
 * real sockets: only the answers are dropped.
 */
export function produceAnswerLoser(): {
  socketFactory: NonNullable<KafkaConfig['socketFactory']>;
  loseProduceAnswers(count: number): void;
  readonly lost: number;
} {
  const PRODUCE = 0;
  let armed = 0;
  let lost = 0;
  const socketFactory: NonNullable<KafkaConfig['socketFactory']> = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    let awaited: number | undefined;
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      // A request: int32 size, int16 api key, int16 version, int32 correlation id.
      if (armed > 0 && Buffer.isBuffer(chunk) && chunk.length >= 12 && chunk.readInt16BE(4) === PRODUCE) {
        armed -= 1;
        awaited = chunk.readInt32BE(8);
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      // An answer: int32 size, int32 correlation id.
      const data = args[0];
      if (event === 'data' && awaited !== undefined && Buffer.isBuffer(data) && data.length >= 8 && data.readInt32BE(4) === awaited) {
        awaited = undefined;
        lost += 1;
        socket.destroy(new Error('test: the broker stored the batch and its answer was lost'));
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
    return socket;
  };
  return {
    socketFactory,
    loseProduceAnswers: (count: number) => {
      armed = count;
    },
    get lost() {
      return lost;
    },
  };
}
