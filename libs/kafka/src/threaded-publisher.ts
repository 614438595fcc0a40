import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Message } from 'kafkajs';
import { BrokerUnavailableError } from '@fairway/errors';
import type { KafkaLogSink } from './client';
import type { Publisher } from './group-commit-publisher';
import type { FromPublisherThread, PublisherThreadConfig, ToPublisherThread } from './publisher-protocol';

/** Options for {@link ThreadedPublisher.start}. */
export interface ThreadedPublisherOptions extends PublisherThreadConfig {
  /** Where the producer's log lines go (they are forwarded from the Kafka thread). */
  logger?: KafkaLogSink;
  /** Called after every group-commit send, for metrics. */
  onSend?: (batchSize: number, durationMs: number, error?: Error) => void;
  /** How long start() waits for the producer to connect. */
  startTimeoutMs?: number;
  /**
   * Called once if the Kafka thread stops without close() (it crashed): every message it held was
   * refused, and so will be every later one. A service should exit and be restarted.
   */
  onThreadExit?: (err: Error) => void;
}

interface Waiting {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The Kafka thread's module and how to load it: the compiled .js next to this file in dist/, or the
 * TypeScript source (tests, benchmarks) through @swc-node/register with the repository's paths.
 */
function threadEntry(): string {
  const compiled = path.join(__dirname, 'publisher-thread.js');
  if (existsSync(compiled)) return `require(${JSON.stringify(compiled)});`;
  const source = path.join(__dirname, 'publisher-thread.ts');
  const project = path.resolve(__dirname, '..', '..', '..', 'tsconfig.json');
  return [
    `process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || ${JSON.stringify(project)};`,
    `require(require.resolve('@swc-node/register', { paths: [${JSON.stringify(__dirname)}] }));`,
    `require(${JSON.stringify(source)});`,
  ].join('\n');
}

/**
 * A {@link Publisher} whose Kafka producer runs on a thread of its own (worker_threads), with the
 * same group commit and the same guarantee: a publish resolves only once the broker acknowledged
 * the message (acks from all in-sync replicas), or rejects with BrokerUnavailableError.
 *
 * Why: on the edge, kafkajs's record encoding, CRCs, socket writes and the garbage they make cost
 * the HTTP thread about a fifth of its time per command (bench:edge). Here they run on another
 * core, the way librdkafka-based clients keep their I/O threads apart from the application's. The
 * HTTP thread only posts plain messages, gathered per turn of its event loop, and receives the ids
 * the broker acknowledged.
 */
export class ThreadedPublisher implements Publisher {
  private readonly waiting = new Map<number, Waiting>();
  private outbox: { ids: number[]; messages: Message[] } = { ids: [], messages: [] };
  private flushScheduled = false;
  private nextId = 0;
  private closed = false;
  private exited = false;
  /** After a refused batch, new messages are refused at once until this time (load shedding). */
  private shedUntil = 0;
  private shedRetryAfter = 5;
  private whenClosed: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  /** Whether the producer is connected to the cluster (for readiness). */
  connected = false;
  private started = false;

  private constructor(
    private readonly worker: Worker,
    private readonly options: ThreadedPublisherOptions,
  ) {
    worker.on('message', (message: FromPublisherThread) => this.onMessage(message));
    let failure: Error | undefined;
    worker.on('error', (err) => {
      failure = err;
      this.fail(`the Kafka thread failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      this.exited = true;
      this.connected = false;
      this.fail(`the Kafka thread exited (code ${code})`);
      if (this.whenClosed) this.whenClosed();
      else if (this.started) this.options.onThreadExit?.(failure ?? new Error(`the Kafka thread exited (code ${code}) without close()`));
    });
  }

  /** Starts the Kafka thread and resolves once its producer is connected. */
  static start(options: ThreadedPublisherOptions): Promise<ThreadedPublisher> {
    const config: PublisherThreadConfig = {
      brokers: options.brokers,
      clientId: options.clientId,
      topic: options.topic,
      ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
      ...(options.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: options.sendTimeoutMs }),
      ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
      ...(options.coalesceCommands ? { coalesceCommands: true } : {}),
    };
    const worker = new Worker(threadEntry(), { eval: true, workerData: config, name: `kafka-publisher:${options.topic}` });
    const publisher = new ThreadedPublisher(worker, options);
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new BrokerUnavailableError(`the Kafka producer did not connect to ${String(options.brokers)} within ${timeoutMs} ms; check KAFKA_BROKERS`));
      }, timeoutMs);
      const onStart = (message: FromPublisherThread) => {
        if (message.type !== 'ready' && message.type !== 'start-failed') return;
        clearTimeout(timer);
        worker.off('message', onStart);
        worker.off('exit', onExit);
        if (message.type === 'ready') {
          publisher.connected = true;
          publisher.started = true;
          resolve(publisher);
          return;
        }
        void worker.terminate();
        reject(new BrokerUnavailableError(`the Kafka producer could not connect to ${String(options.brokers)} (${message.message}); check KAFKA_BROKERS`));
      };
      const onExit = (code: number) => {
        clearTimeout(timer);
        reject(new Error(`the Kafka thread exited (code ${code}) before its producer connected`));
      };
      worker.on('message', onStart);
      worker.once('exit', onExit);
    });
  }

  get pending(): number {
    return this.waiting.size;
  }

  publish(message: Message): Promise<void> {
    if (this.closed || this.exited) {
      const why = this.closed ? 'the publisher is shutting down' : 'the Kafka thread stopped; this replica must be restarted';
      return Promise.reject(new BrokerUnavailableError(why, this.options.retryAfterSeconds ?? 5));
    }
    // Mirrors the Kafka thread's load shedding, so a failing broker costs no round trip per request.
    if (this.shedUntil > Date.now()) {
      return Promise.reject(
        new BrokerUnavailableError('Kafka is not accepting writes right now; the command was not accepted, retry later', this.shedRetryAfter),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      this.outbox.ids.push(id);
      this.outbox.messages.push(message);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Every request handled in this turn of the event loop goes over in one message.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Stops taking messages, waits until those taken are settled, and stops the Kafka thread. */
  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    if (!this.closing) {
      this.closed = true;
      this.flush();
      this.closing = new Promise<void>((resolve) => (this.whenClosed = resolve));
      this.send({ type: 'close' });
    }
    return this.closing;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.ids.length === 0) return;
    const { ids, messages } = this.outbox;
    this.outbox = { ids: [], messages: [] };
    this.send({ type: 'publish', ids, messages });
  }

  private send(message: ToPublisherThread): void {
    if (!this.exited) this.worker.postMessage(message);
  }

  private onMessage(message: FromPublisherThread): void {
    switch (message.type) {
      case 'settled': {
        for (const id of message.acked) {
          this.waiting.get(id)?.resolve();
          this.waiting.delete(id);
        }
        for (const [id, failure] of message.failed) {
          this.shedUntil = Date.now() + failure.retryAfterSeconds * 1_000;
          this.shedRetryAfter = failure.retryAfterSeconds;
          this.waiting.get(id)?.reject(new BrokerUnavailableError(failure.message, failure.retryAfterSeconds));
          this.waiting.delete(id);
        }
        return;
      }
      case 'send':
        if (message.size > 0 && this.shedUntil !== 0 && !message.error) this.shedUntil = 0;
        this.options.onSend?.(message.size, message.durationMs, message.error === undefined ? undefined : new Error(message.error));
        return;
      case 'connection':
        this.connected = message.connected;
        return;
      case 'log':
        this.options.logger?.[message.level](message.fields, message.message);
        return;
      case 'closed':
        void this.worker.terminate();
        return;
      default:
        return;
    }
  }

  /** Rejects every message still waiting (the Kafka thread is gone). */
  private fail(reason: string): void {
    if (this.waiting.size === 0) return;
    const error = new BrokerUnavailableError(`${reason}; the command was not accepted, retry later`, this.options.retryAfterSeconds ?? 5);
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
