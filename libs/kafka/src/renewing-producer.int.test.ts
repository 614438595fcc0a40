import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { createIdempotentProducer, createKafka, type FairwayTopics } from './index';
import { collectMessages, deleteTopics, produceAnswerLoser, testKafka, uniqueTopics } from './testing';

/**
 * A batch the broker stored but whose answer was lost, then the next batch of the same size: the
 * broker must store the second too. Everything goes to one partition, and a third message closes
 * the check (once it is read, whatever came before it on the partition has been read).
 */
const ONE_RETRY = { retries: 1, initialRetryTime: 50, maxRetryTime: 100 };

describe('RenewingProducer (real Kafka, a lost Produce answer)', () => {
  let kafka: Kafka;
  let topics: FairwayTopics;

  beforeAll(async () => {
    kafka = testKafka();
    topics = await uniqueTopics(kafka, 'fw-renew');
  });

  afterAll(async () => {
    await deleteTopics(kafka, topics);
  });

  /** Sends `first` with its answer lost, then `second` and `closing` through the same producer. */
  async function sendAcrossLostAnswer(producerOf: (client: Kafka) => Producer, tag: string): Promise<{ firstFailed: boolean; stored: string[]; lost: number }> {
    const loser = produceAnswerLoser();
    const client = createKafka({
      brokers: process.env['FAIRWAY_TEST_KAFKA_BROKERS'] as string,
      clientId: `fw-renew-${tag}`,
      socketFactory: loser.socketFactory,
    });
    const producer = producerOf(client);
    await producer.connect();
    const send = (value: string) => producer.send({ topic: topics.commands, acks: -1, messages: [{ key: tag, value, partition: 0 }] });
    try {
      // Both attempts of the first send (kafkajs insists on a retry for an idempotent producer).
      loser.loseProduceAnswers(2);
      const firstFailed = await send(`${tag}-first`).then(
        () => false,
        () => true,
      );
      await send(`${tag}-second`);
      await send(`${tag}-closing`);
      const seen = await collectMessages(kafka, topics.commands, (messages: KafkaMessage[]) => messages.some((m) => m.value?.toString() === `${tag}-closing`));
      const stored = seen.map((m) => m.value?.toString() ?? '').filter((v) => v.startsWith(`${tag}-`));
      return { firstFailed, stored, lost: loser.lost };
    } finally {
      await producer.disconnect();
    }
  }

  it("shows the hazard: kafkajs alone gives the failed batch's sequence to the next one, which the broker drops as a duplicate", async () => {
    const outcome = await sendAcrossLostAnswer(
      (client) => client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: ONE_RETRY }),
      'bare',
    );
    // Acknowledged, and not stored: if kafkajs ever renews its sequence itself, this fails and
    // RenewingProducer can go.
    expect(outcome).toEqual({ firstFailed: true, stored: ['bare-first', 'bare-closing'], lost: 2 });
  });

  it('stores the batch sent after a failed one: the next send goes through a new producer id', async () => {
    let renewals = -1;
    const outcome = await sendAcrossLostAnswer((client) => {
      const producer = createIdempotentProducer(client, { retry: ONE_RETRY });
      const disconnect = producer.disconnect.bind(producer);
      producer.disconnect = async () => {
        renewals = producer.renewals;
        await disconnect();
      };
      return producer;
    }, 'renewing');
    // The first batch was stored although its send failed (its caller was told so and may resend:
    // the job id keeps one job); the second is stored, not taken for the first's duplicate.
    expect(outcome).toEqual({ firstFailed: true, stored: ['renewing-first', 'renewing-second', 'renewing-closing'], lost: 2 });
    expect(renewals).toBe(1);
  });
});
