/**
 * The Kafka thread of a ThreadedPublisher (runs in a worker_threads Worker): an idempotent producer
 * and a GroupCommitPublisher, fed by the main thread's messages, answering with the ids that the
 * broker acknowledged or refused. Encoding record batches, CRCs and the producer's socket writes all
 * happen here, off the thread that serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Message } from 'kafkajs';
import { BrokerUnavailableError } from '@fairway/errors';
import { createIdempotentProducer, createKafka, type KafkaLogSink } from './client';
import { coalesceCommandMessages } from './command-message';
import { GroupCommitPublisher } from './group-commit-publisher';
import type { FromPublisherThread, PublishFailure, PublisherThreadConfig, ToPublisherThread } from './publisher-protocol';

const port = parentPort;
if (!port) throw new Error('publisher-thread runs inside a worker thread started by ThreadedPublisher');
const config = workerData as PublisherThreadConfig;
const post = (message: FromPublisherThread) => port.postMessage(message);

const sink: KafkaLogSink = {
  error: (fields, message) => post({ type: 'log', level: 'error', fields, message }),
  warn: (fields, message) => post({ type: 'log', level: 'warn', fields, message }),
  info: (fields, message) => post({ type: 'log', level: 'info', fields, message }),
  debug: (fields, message) => post({ type: 'log', level: 'debug', fields, message }),
};

const producer = createIdempotentProducer(createKafka({ brokers: config.brokers, clientId: config.clientId, logger: sink }));
producer.on(producer.events.CONNECT, () => post({ type: 'connection', connected: true }));
producer.on(producer.events.DISCONNECT, () => post({ type: 'connection', connected: false }));

const publisher = new GroupCommitPublisher({
  producer,
  topic: config.topic,
  ...(config.maxBatchSize === undefined ? {} : { maxBatchSize: config.maxBatchSize }),
  ...(config.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: config.sendTimeoutMs }),
  ...(config.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: config.retryAfterSeconds }),
  ...(config.coalesceCommands ? { coalesce: (messages: Message[]) => coalesceCommandMessages(messages) } : {}),
  onSend: (size, durationMs, error) => post({ type: 'send', size, durationMs, ...(error ? { error: error.message } : {}) }),
});

// Replies are gathered and posted once per turn of the event loop: one structured clone for a
// whole acknowledged batch instead of one per message.
let acked: number[] = [];
let failed: Array<[number, PublishFailure]> = [];
let replyScheduled = false;
function reply(): void {
  replyScheduled = false;
  post({ type: 'settled', acked, failed });
  acked = [];
  failed = [];
}
function scheduleReply(): void {
  if (replyScheduled) return;
  replyScheduled = true;
  setImmediate(reply);
}

/** Structured clone turns a Buffer into a plain Uint8Array; kafkajs wants Buffers (or strings). */
function asBuffer<T>(value: T): T | Buffer {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

function revive(message: Message): Message {
  if (!message.headers) return { ...message, key: asBuffer(message.key), value: asBuffer(message.value) } as Message;
  const headers: Message['headers'] = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name] = Array.isArray(value) ? value.map(asBuffer) : asBuffer(value);
  return { ...message, key: asBuffer(message.key), value: asBuffer(message.value), headers } as Message;
}

function publish(id: number, message: Message): void {
  publisher.publish(revive(message)).then(
    () => {
      acked.push(id);
      scheduleReply();
    },
    (err: unknown) => {
      const retryAfterSeconds = err instanceof BrokerUnavailableError ? err.retryAfterSeconds : (config.retryAfterSeconds ?? 5);
      failed.push([id, { message: (err as Error).message, retryAfterSeconds }]);
      scheduleReply();
    },
  );
}

port.on('message', (message: ToPublisherThread) => {
  if (message.type === 'publish') {
    message.ids.forEach((id, i) => publish(id, message.messages[i] as Message));
    return;
  }
  void publisher
    .close()
    .then(() => producer.disconnect())
    .catch((err: unknown) => sink.warn({ err: (err as Error).message }, 'the Kafka producer did not disconnect cleanly'))
    .finally(() => {
      if (replyScheduled) reply();
      post({ type: 'closed' });
    });
});

producer.connect().then(
  () => post({ type: 'ready' }),
  (err: unknown) => post({ type: 'start-failed', message: (err as Error).message }),
);
