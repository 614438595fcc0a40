import type { Message } from 'kafkajs';

/**
 * The messages between a {@link ThreadedPublisher} and its Kafka thread. Plain data only: they
 * cross the thread boundary by structured clone.
 */

/** What the Kafka thread is started with (worker_threads workerData). */
export interface PublisherThreadConfig {
  brokers: string[] | string;
  clientId: string;
  topic: string;
  maxBatchSize?: number;
  sendTimeoutMs?: number;
  retryAfterSeconds?: number;
  /** Coalesce each send's commands per tenant (coalesceCommandMessages); for command topics only. */
  coalesceCommands?: boolean;
}

/** Main thread -> Kafka thread. */
export type ToPublisherThread =
  /** Messages to publish; ids[i] names messages[i] in the replies. */
  | { type: 'publish'; ids: number[]; messages: Message[] }
  /** Publish what is queued, disconnect, then answer 'closed'. */
  | { type: 'close' };

/** Why a batch was not acknowledged. */
export interface PublishFailure {
  message: string;
  retryAfterSeconds: number;
}

/** Kafka thread -> main thread. */
export type FromPublisherThread =
  | { type: 'ready' }
  | { type: 'start-failed'; message: string }
  /** The producer's connection state (for readiness). */
  | { type: 'connection'; connected: boolean }
  /** Settled messages, gathered per turn of the thread's event loop. */
  | { type: 'settled'; acked: number[]; failed: Array<[number, PublishFailure]> }
  /** One group-commit send, for metrics. */
  | { type: 'send'; size: number; durationMs: number; error?: string }
  | { type: 'log'; level: 'error' | 'warn' | 'info' | 'debug'; fields: object; message: string }
  | { type: 'closed' };
