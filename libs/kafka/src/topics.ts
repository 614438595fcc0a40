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

/** Creates the topics that are missing (6 partitions each, the broker's replication factor). */
export async function ensureTopics(admin: Admin, topics: FairwayTopics, partitions = 6): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted: ITopicConfig[] = Object.values(topics)
    .filter((topic) => !existing.has(topic))
    .map((topic) => ({ topic, numPartitions: partitions }));
  if (wanted.length === 0) return;
  try {
    await admin.createTopics({ topics: wanted, waitForLeaders: true });
  } catch (err) {
    // Another process may have created them between listTopics and createTopics.
    if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
  }
}
