import { Kafka, Partitioners, logLevel, type KafkaConfig, type LogEntry, type RetryOptions } from 'kafkajs';
import { RenewingProducer } from './renewing-producer';

/** The part of a logger the Kafka client needs (pino fits). */
export interface KafkaLogSink {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** A kafkajs client whose log lines go to the service's structured logger. */
export function createKafka(options: {
  brokers: string[] | string;
  clientId: string;
  logger?: KafkaLogSink;
  retry?: KafkaConfig['retry'];
  /** The sockets' factory (a test's fault injection; kafkajs's own by default). */
  socketFactory?: KafkaConfig['socketFactory'];
}): Kafka {
  const brokers = typeof options.brokers === 'string' ? options.brokers.split(',').map((b) => b.trim()) : options.brokers;
  const sink = options.logger;
  return new Kafka({
    clientId: options.clientId,
    brokers,
    logLevel: sink ? logLevel.WARN : logLevel.NOTHING,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (!sink) return;
        const { message, ...rest } = log;
        // Said once per producer start; createIdempotentProducer documents why retries are bounded.
        if (message.startsWith('Limiting retries for the idempotent producer')) return;
        const fields = { component: 'kafkajs', ...rest };
        if (level === logLevel.ERROR) sink.error(fields, message);
        else if (level === logLevel.WARN) sink.warn(fields, message);
        else if (level === logLevel.INFO) sink.info(fields, message);
        else sink.debug(fields, message);
      },
  });
}

/** Parses a comma-separated broker list. */
export function parseBrokers(value: string): string[] {
  return value
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
}

/**
 * The producer every Fairway service uses: idempotent, one request in flight, acks from all in-sync
 * replicas (set per send), the default murmur2 partitioner (a tenant's messages share a partition),
 * and a new producer id after any failed send (RenewingProducer: without it, kafkajs gives a failed
 * batch's sequence numbers to the next batch, which the broker drops as a duplicate if it had
 * stored the failed one).
 *
 * Retries are bounded (about 6 s in all), so a send to a broker that is down ends instead of
 * retrying forever in the background. kafkajs warns that bounded retries weaken the idempotent
 * producer's guarantee across a give-up; Fairway does not rely on it: a command that is sent twice
 * carries the same job id, and the scheduler's insert keyed by job id keeps it one job.
 * `retry` replaces the bounded retries (a test's producer that gives up at once).
 */
export function createIdempotentProducer(kafka: Kafka, options: { retry?: RetryOptions } = {}): RenewingProducer {
  return new RenewingProducer(() =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: options.retry ?? { retries: 8, initialRetryTime: 100, maxRetryTime: 1_000 },
    }),
  );
}
