import type { Admin, ITopicConfig } from 'kafkajs';

/** The topics Fairway uses, named under one prefix so test runs and deployments can share a broker. */
export interface FairwayTopics {
  /** Accepted commands, keyed by tenant id. */
  commands: string;
  /** Messages that could not be processed, with the reason in their headers. */
  commandsDeadLetter: string;
  /** Job state changes, keyed by tenant id, for other services to follow. */
  jobEvents: string;
}

/** The topic names under `prefix`. */
export function topicNames(prefix: string): FairwayTopics {
  return {
    commands: `${prefix}.commands`,
    commandsDeadLetter: `${prefix}.commands.dlq`,
    jobEvents: `${prefix}.job-events`,
  };
}

/**
 * Creates the topics that are missing (6 partitions each, the broker's replication factor) and
 * waits until every one of them has leaders. Right after a broker starts, metadata can briefly
 * answer UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE for a topic just created: those are
 * retried within `timeoutMs`, any other error is thrown.
 */
export async function ensureTopics(admin: Admin, topics: FairwayTopics, partitions = 6, timeoutMs = 30_000): Promise<void> {
  const names = Object.values(topics);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const existing = new Set(await admin.listTopics());
      const wanted: ITopicConfig[] = names.filter((topic) => !existing.has(topic)).map((topic) => ({ topic, numPartitions: partitions }));
      if (wanted.length > 0) await admin.createTopics({ topics: wanted, waitForLeaders: true });
      await admin.fetchTopicMetadata({ topics: names });
      return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      // Another process may have created them between listTopics and createTopics: check again.
      const transient = type === 'TOPIC_ALREADY_EXISTS' || type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE';
      if (!transient || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
