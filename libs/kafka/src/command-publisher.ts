import type { Message } from 'kafkajs';
import { BrokerUnavailableError } from '@fairway/errors';
import { createIdempotentProducer, createKafka } from './client';
import { coalesceCommandMessages } from './command-message';
import { GroupCommitPublisher, type Publisher } from './group-commit-publisher';
import { ThreadedPublisher, type ThreadedPublisherOptions } from './threaded-publisher';

/** A publisher of commands that also says whether its producer is connected (for readiness). */
export interface CommandPublisher extends Publisher {
  readonly connected: boolean;
}

/** Options for {@link startCommandPublisher}. */
export interface CommandPublisherOptions extends Omit<ThreadedPublisherOptions, 'coalesceCommands'> {
  /**
   * Run the producer on a Kafka thread of its own (ThreadedPublisher) instead of the caller's
   * thread. Default false: with coalescing, kafkajs's work per command is small, and on a host with
   * few cores the thread's own event loop and hand-over cost more than they take off the HTTP
   * thread (bench:edge, `--kafka-thread`). Not measured on larger hosts, where it may pay.
   */
  thread?: boolean;
  /** Coalesce each send's commands per tenant (coalesceCommandMessages). Default true. */
  coalesce?: boolean;
}

/**
 * Starts the edge's command publisher: an idempotent producer with group commit (one send in flight,
 * the next batch accumulating), each send's commands coalesced per tenant, every publish settled only
 * when the broker acknowledged it. Resolves once the producer is connected; rejects with
 * BrokerUnavailableError naming the brokers it could not reach.
 */
export async function startCommandPublisher(options: CommandPublisherOptions): Promise<CommandPublisher> {
  const { thread = false, coalesce = true, ...rest } = options;
  if (thread) return ThreadedPublisher.start({ ...rest, coalesceCommands: coalesce });

  const producer = createIdempotentProducer(
    createKafka({ brokers: options.brokers, clientId: options.clientId, ...(options.logger ? { logger: options.logger } : {}) }),
  );
  let connected = false;
  producer.on(producer.events.CONNECT, () => (connected = true));
  producer.on(producer.events.DISCONNECT, () => (connected = false));
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      producer.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw new BrokerUnavailableError(`the Kafka producer could not connect to ${String(options.brokers)} (${(err as Error).message}); check KAFKA_BROKERS`);
  } finally {
    clearTimeout(timer);
  }
  connected = true;
  const publisher = new GroupCommitPublisher({
    producer,
    topic: options.topic,
    ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
    ...(options.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: options.sendTimeoutMs }),
    ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
    ...(options.onSend ? { onSend: options.onSend } : {}),
    ...(coalesce ? { coalesce: (messages: Message[]) => coalesceCommandMessages(messages) } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    get connected() {
      return connected;
    },
    get pending() {
      return publisher.pending;
    },
    publish: (message) => publisher.publish(message),
    close: () => (closing ??= publisher.close().then(() => producer.disconnect())),
  };
}
