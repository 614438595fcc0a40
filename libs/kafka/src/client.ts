import { Kafka, Partitioners, logLevel, type KafkaConfig, type LogEntry, type Producer } from 'kafkajs';

/** The part of a logger the Kafka client needs (pino fits). */
export interface KafkaLogSink {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** A kafkajs client whose log lines go to the service's structured logger. */
export function createKafka(options: { brokers: string[] | string; clientId: string; logger?: KafkaLogSink; retry?: KafkaConfig['retry'] }): Kafka {
  const brokers = typeof options.brokers === 'string' ? options.brokers.split(',').map((b) => b.trim()) : options.brokers;
  const sink = options.logger;
  return new Kafka({
    clientId: options.clientId,
    brokers,
    logLevel: sink ? logLevel.WARN : logLevel.NOTHING,
    ...(options.retry ? { retry: options.retry } : {}),
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
 * replicas (set per send), the default murmur2 partitioner (a tenant's messages share a partition).
 *
 * Retries are bounded (about 6 s in all), so a send to a broker that is down ends instead of
 * retrying forever in the background. kafkajs warns that bounded retries weaken the idempotent
 * producer's guarantee across a give-up; Fairway does not rely on it: a command that is sent twice
 * carries the same job id, and the scheduler's insert keyed by job id keeps it one job.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
}
