import type { KafkaMessage, Message } from 'kafkajs';

/** Headers a dead-letter record adds to the original message's. */
export const DeadLetterHeader = {
  reason: 'fairway-dlq-reason',
  sourceTopic: 'fairway-dlq-source-topic',
  sourcePartition: 'fairway-dlq-source-partition',
  sourceOffset: 'fairway-dlq-source-offset',
  failedAt: 'fairway-dlq-failed-at',
} as const;

/**
 * The dead-letter record of a message that could not be processed: the original key, value and
 * headers unchanged, plus where it came from and why it failed. Nothing is lost: an operator can
 * fix and replay it.
 */
export function deadLetterMessage(
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>,
  source: { topic: string; partition: number },
  reason: string,
  now: Date = new Date(),
): Message {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...(message.headers ?? {}),
      [DeadLetterHeader.reason]: reason.slice(0, 1_000),
      [DeadLetterHeader.sourceTopic]: source.topic,
      [DeadLetterHeader.sourcePartition]: String(source.partition),
      [DeadLetterHeader.sourceOffset]: message.offset,
      [DeadLetterHeader.failedAt]: now.toISOString(),
    },
  } as Message;
}
