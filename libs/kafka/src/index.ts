/**
 * Kafka for Fairway (kafkajs): topic names, the group-commit publisher the edge acknowledges on,
 * the command message format with the tenant in its headers, and dead-letter records.
 */
export { createKafka, createIdempotentProducer, parseBrokers, type KafkaLogSink } from './client';
export { RenewingProducer } from './renewing-producer';
export { topicNames, ensureTopics, type FairwayTopics } from './topics';
export { GroupCommitPublisher, type GroupCommitPublisherOptions, type Publisher } from './group-commit-publisher';
export { ThreadedPublisher, type ThreadedPublisherOptions } from './threaded-publisher';
export { startCommandPublisher, type CommandPublisher, type CommandPublisherOptions } from './command-publisher';
export {
  commandMessage,
  parseCommandMessage,
  readCommandMessage,
  coalesceCommandMessages,
  MAX_COALESCED_LENGTH,
  commandBodySchema,
  CommandHeader,
  CommandParseError,
  type CommandBody,
  type CommandEnvelope,
  type CommandRead,
  type CommandSource,
} from './command-message';
export { deadLetterMessage, DeadLetterHeader } from './dead-letter';
export { JobEventLog, jobEventsMessage, jobEventPartition, readJobEvents, JobEventHeader, type JobEvent, type JobEventLogOptions } from './job-events';
