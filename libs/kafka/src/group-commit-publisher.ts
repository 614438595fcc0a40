import type { Message, Producer } from 'kafkajs';
import { BrokerUnavailableError } from '@fairway/errors';

interface Pending {
  message: Message;

  resolve: (metadata: void) => void;
  reject: (err: Error) => void;
}

/** Publishes messages; each promise settles once the broker acknowledged (or refused) its message. */
export interface Publisher {
  /** Resolves once the broker acknowledged `message`; rejects with BrokerUnavailableError. */
  publish(message: Message): Promise<void>;
  /** Stops taking messages and waits for those already taken. */
  close(): Promise<void>;
  /** Messages taken and not yet settled. */
  readonly pending: number;
}

/** Options for {@link GroupCommitPublisher}. */
export interface GroupCommitPublisherOptions {
  producer: Producer;
  topic: string;
  /** Largest batch one send carries. */
  maxBatchSize?: number;

  /**
   * A send that takes longer is reported as failed (the caller answers 503). The producer may still
   * deliver it later, which is why clients retry with the same Idempotency-Key.
   */
  sendTimeoutMs?: number;
  /** Seconds a client should wait before retrying after a failed send. */
  retryAfterSeconds?: number;
  /**
   * After a send failed, new messages are refused at once for this long; the first one after it is
   * the probe that tells whether the broker is back. A send that succeeds ends the refusals at once.
   */
  probeIntervalMs?: number;
  /** Called after every send, for metrics. */
  onSend?: (batchSize: number, durationMs: number, error?: Error) => void;
  /**
   * Rewrites a send's messages just before it goes out, e.g. coalesceCommandMessages (several
   * commands of one tenant as one record). The send is still all or nothing, so every publish of
   * the batch settles as before.
   */
  coalesce?: (messages: Message[]) => Message[];
}

/**
 * Publishes messages with group commit: at most one send in flight, while the next batch
 * accumulates (and, when idle, what the current turn of the event loop publishes). Each caller's
 * promise settles only when the broker acknowledged the batch that carried its message (acks from
 * all in-sync replicas), or rejects with BrokerUnavailableError.
 *
 * Why: a send per request spends the edge's time in round trips (measured here: ~15% of the
 * bare throughput kept), while group commit keeps ~80% and still never acknowledges a command
 * that the broker has not stored.
 *
 * When the broker fails: a send not acknowledged within `sendTimeoutMs` fails its callers (and
 * those queued behind it) with 503, but it stays the one send in flight until the producer itself
 * gives up or succeeds. It is never abandoned to retry in the background while another send starts:
 * two sends of one idempotent producer in flight at once may be built with the same sequence
 * numbers, and a broker that returns would take the second as a duplicate of the first. Meanwhile
 * new messages are refused at once (load shedding). The refusals end the moment a send succeeds -
 * the producer reconnects by itself within its retry backoff (createIdempotentProducer: <= 1 s) once
 * the broker answers - or, after a send that failed, `probeIntervalMs` later, when the next message
 * goes out as the probe (through a new producer id: createIdempotentProducer's RenewingProducer, so
 * that the probe never reuses the failed batch's sequence numbers). So the edge accepts again about a second after the broker is back, not a
 * send timeout plus a shedding window later (docs/operations.md, "Faults").
 */
export class GroupCommitPublisher implements Publisher {
  private queue: Pending[] = [];
  private inFlight = false;
  private flushScheduled = false;
  private closed = false;
  /** True from a failed (or overdue) send until a send succeeds: new messages are refused. */
  private failing = false;
  /** While failing and no send is in flight, the first message at or after this time is the probe. */
  private probeAt = 0;
  private readonly maxBatchSize: number;
  private readonly sendTimeoutMs: number;
  private readonly retryAfterSeconds: number;
  private readonly probeIntervalMs: number;

  constructor(private readonly options: GroupCommitPublisherOptions) {
    this.maxBatchSize = options.maxBatchSize ?? 2_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 5_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
  }

  /** Messages waiting for the next send. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once the broker acknowledged `message`. */
  publish(message: Message): Promise<void> {
    if (this.closed) {
      return Promise.reject(new BrokerUnavailableError('the publisher is shutting down', this.retryAfterSeconds));
    }
    // While the broker is known to be failing, answer at once instead of queueing behind a send
    // that will time out: the caller gets its 503 in microseconds and memory stays bounded.
    if (this.failing && (this.inFlight || Date.now() < this.probeAt)) {
      return Promise.reject(
        new BrokerUnavailableError('Kafka is not accepting writes right now; the command was not accepted, retry later', this.retryAfterSeconds),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (!this.inFlight) this.scheduleFlush();
    });
  }

  /**
   * With no send in flight, the next one leaves at the end of this turn of the event loop rather
   * than at once: everything published in the same turn (say, the requests one limiter round trip
   * admitted together) goes in one send, instead of the first alone and the rest a round trip later.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.inFlight) this.flush();
    });
  }

  /** Stops taking messages and waits for the send in flight and those queued. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight || this.queue.length > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatchSize);
    this.inFlight = true;
    const started = performance.now();
    const messages = batch.map((p) => p.message);
    let answered = false;
    const fail = (err: Error) => {
      this.failing = true;
      const failure = new BrokerUnavailableError(
        `Kafka did not acknowledge the write (${err.message}); the command was not accepted, retry later`,
        this.retryAfterSeconds,
        { cause: err },
      );
      // Those queued behind the failing send would wait for the producer to give up: answer now.
      const waiting = answered ? this.queue.splice(0) : [...batch, ...this.queue.splice(0)];
      answered = true;
      for (const p of waiting) p.reject(failure);
    };
    const overdue = setTimeout(() => {
      this.options.onSend?.(batch.length, performance.now() - started, new Error(`no acknowledgement within ${this.sendTimeoutMs} ms`));
      fail(new Error(`no acknowledgement within ${this.sendTimeoutMs} ms`));
    }, this.sendTimeoutMs);
    this.options.producer
      .send({ topic: this.options.topic, messages: this.options.coalesce ? this.options.coalesce(messages) : messages, acks: -1, timeout: this.sendTimeoutMs })
      .then(
        () => {
          this.failing = false;
          if (answered) return;
          answered = true;
          this.options.onSend?.(batch.length, performance.now() - started);
          for (const p of batch) p.resolve();
        },
        (err: Error) => {
          if (!answered) this.options.onSend?.(batch.length, performance.now() - started, err);
          fail(err);
          this.probeAt = Date.now() + this.probeIntervalMs;
        },
      )
      .finally(() => {
        clearTimeout(overdue);
        this.inFlight = false;
        // The next batch accumulated while this one was in flight: send it now.
        this.flush();
      });
  }
}
