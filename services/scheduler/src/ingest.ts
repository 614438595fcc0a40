import type { Consumer, EachBatchPayload, Message } from 'kafkajs';
import { unstorableJson, unstorableText, unstorableTimestamp } from '@fairway/db';
import { toFairwayError } from '@fairway/errors';
import { validateJob, type ValidatedJob } from '@fairway/jobs';
import { deadLetterMessage, readCommandMessage, type CommandSource, type GroupCommitPublisher } from '@fairway/kafka';
import type { Logger } from '@fairway/telemetry';
import { extractKafkaHeaders, type KafkaHeaders } from '@fairway/tenant-context';
import type { JobStore, NewJob, QueuedJob } from './job-store';

/**
 * Why PostgreSQL could not store `job` as it is, or undefined. The command is valid, but one such
 * row would fail the insert of its whole batch, again on every redelivery, and stall the partition:
 * it is dead-lettered instead. (The other columns are checked formats: uuid, tenant id, job type.)
 * What this does not foresee, PostgreSQL still refuses row by row (see CommandIngestor.insert).
 */

/** PostgreSQL's class 22, "data exception": a value the column cannot take, whatever is retried. */
function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}
function unstorableReason(job: NewJob): string | undefined {
  const reason = (what: string, found: string) => `the command's ${what} holds ${found}, which PostgreSQL cannot store`;
  let found = unstorableTimestamp(job.acceptedAt);
  if (found !== undefined) return reason('acceptedAt', found);
  found = job.idempotencyKey === undefined ? undefined : unstorableText(job.idempotencyKey);
  if (found !== undefined) return reason('idempotencyKey', found);
  found = job.requestHash === undefined ? undefined : unstorableText(job.requestHash);
  if (found !== undefined) return reason('requestHash', found);
  found = unstorableJson(job.params);
  if (found !== undefined) return reason('params', found);
  for (const name in job.traceHeaders) {
    found = unstorableText(job.traceHeaders[name] as string);
    if (found !== undefined) return reason(`trace header ${name}`, found);
  }
  return undefined;
}

/**
 * Rows per insert statement. A Kafka batch can hold tens of thousands of commands; inserting them
 * in chunks keeps few of them alive at a time, which the garbage collector would otherwise copy and
 * promote (bench:ingest), and hands the first jobs to the dispatcher sooner.
 */
const INSERT_CHUNK = 1_000;

/** Counters the ingest reports to metrics. */
export interface IngestHooks {
  onIngested?: (tenantId: string, count: number) => void;
  onDeadLettered?: (reason: string) => void;
  /** Messages between the batch's last offset and the partition's high watermark. */
  onLag?: (partition: number, lag: number) => void;
}

/**
 * Drains the commands topic into the durable job queues as fast as PostgreSQL accepts it: one
 * batched, idempotent insert per Kafka batch, offsets resolved only after the rows (and any
 * dead-letter records) are durable. Ingest never waits on execution.
 */
export class CommandIngestor {
  constructor(
    private readonly store: JobStore,
    private readonly deadLetters: GroupCommitPublisher,
    private readonly log: Logger,
    private readonly onDurable: (jobs: QueuedJob[]) => void,
    private readonly hooks: IngestHooks = {},
  ) {}

  /**
   * Subscribes `consumer` to `topic` and runs until the consumer stops. Partitions are consumed
   * concurrently: their inserts overlap in PostgreSQL while each partition keeps its order.
   */
  async run(consumer: Consumer, topic: string, partitionsConsumedConcurrently = 3): Promise<void> {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently,
      eachBatchAutoResolve: false,
      autoCommitInterval: 1_000,
      eachBatch: async (payload) => {
        await this.handleBatch(payload);
      },
    });
  }

  /**
   * Processes one Kafka batch; returns how many of its messages were made durable as jobs or as
   * dead-letter records (the ingest benchmark counts them).
   */
  async handleBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<number> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return 0;
    // The catalog is asked first, for every tenant the batch's headers name, so that each command is
    // accepted or dead-lettered as it is read and nothing of it but its row outlives the loop: a
    // batch holds thousands of commands, and whatever each one keeps alive across the insert is
    // copied and promoted by the garbage collector (the largest cost left in bench:ingest).
    // A header that names no valid tenant is refused by readCommandMessage below.
    const named = new Set<string>();
    for (const message of batch.messages) {
      const tenantId = extractKafkaHeaders(message.headers as KafkaHeaders | undefined);
      if (tenantId !== undefined) named.add(tenantId);
    }
    const statuses = await this.store.tenantStatuses([...named]);
    const accepted: NewJob[] = [];
    const rejected: Message[] = [];
    const origin = { topic: batch.topic, partition: batch.partition };
    const deadLetter = (source: CommandSource, reason: string) => rejected.push(deadLetterMessage(source, origin, reason));
    // A row PostgreSQL refused: its command is found again in the batch (rare, so nothing is kept
    // for it on the way) and dead-lettered as it came.
    const refused = (job: NewJob, reason: string) => {
      const source = sourceOf(batch.messages, job.id);
      if (source) deadLetter(source, reason);
    };
    // Messages are read one by one with the tenant taken from each message's own headers:
    // eachBatch does not restore any per-message context, and one batch mixes tenants. A message may
    // carry several commands of its tenant (the edge coalesces them); each is its own job, and a bad
    // one is dead-lettered alone.
    for (const message of batch.messages) {
      for (const read of readCommandMessage(message)) {
        if ('error' in read) {
          deadLetter(read.source, read.error.reason);
          continue;
        }
        const { tenantId, body, traceHeaders } = read.command;
        let job: ValidatedJob;
        try {
          job = validateJob(body.type, body.params);
        } catch (err) {
          deadLetter(read.source, `${toFairwayError(err).code}: ${(err as Error).message}`);
          continue;
        }
        const row: NewJob = {
          id: body.jobId,
          tenantId,
          type: job.type,
          jobClass: job.jobClass,
          params: job.params,
          priority: body.priority,
          idempotencyKey: body.idempotencyKey,
          requestHash: body.requestHash,
          traceHeaders,
          acceptedAt: body.acceptedAt,
          partition: batch.partition,
        };
        const unstorable = unstorableReason(row);
        if (unstorable !== undefined) {
          deadLetter(read.source, unstorable);
          continue;
        }
        // A suspended tenant's commands are kept (they wait until it resumes); an unknown or
        // deleted tenant's are dead-lettered with the reason.
        const status = statuses.get(tenantId);
        if (status === 'active' || status === 'suspended' || status === 'provisioning') {
          accepted.push(row);
          if (accepted.length >= INSERT_CHUNK) await this.insert(accepted.splice(0), refused);
        } else {
          deadLetter(read.source, `${status === undefined ? 'unknown' : status} tenant '${tenantId}'`);
        }
      }
    }
    await this.insert(accepted, refused);

    // Dead letters are acknowledged before the offsets move, so a rejected message is never lost.
    await Promise.all(rejected.map((message) => this.deadLetters.publish(message)));
    for (const message of rejected) {
      const reason = String(message.headers?.['fairway-dlq-reason'] ?? 'unknown');
      this.hooks.onDeadLettered?.(reason);
      this.log.warn({ reason, topic: batch.topic, partition: batch.partition }, 'command dead-lettered');
    }
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
    this.hooks.onLag?.(batch.partition, Math.max(0, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1));
    return batch.messages.length;
  }

  /**
   * Inserts one chunk of a batch's accepted rows and hands the dispatcher those it inserted. When
   * PostgreSQL refuses a value of the chunk (a data exception the checks above did not foresee), the
   * chunk is inserted row by row and each refused row goes to `refused`: one bad command must not
   * fail its batch on every redelivery and stall the partition. Any other error (the database is
   * down) fails the batch, which Kafka redelivers.
   */
  private async insert(rows: NewJob[], refused: (job: NewJob, reason: string) => void): Promise<void> {
    if (rows.length === 0) return;
    let inserted: QueuedJob[];
    try {
      inserted = await this.store.insertJobs(rows);
    } catch (err) {
      if (!isDataException(err)) throw err;
      inserted = [];
      const stored: NewJob[] = [];
      for (const row of rows) {
        try {
          inserted.push(...(await this.store.insertJobs([row])));
          stored.push(row);
        } catch (rowErr) {
          if (!isDataException(rowErr)) throw rowErr;
          refused(row, `PostgreSQL refused the command: ${(rowErr as Error).message}`);
        }
      }
      rows = stored;
    }
    if (this.hooks.onIngested) {
      const perTenant = new Map<string, number>();
      for (const job of rows) perTenant.set(job.tenantId, (perTenant.get(job.tenantId) ?? 0) + 1);
      for (const [tenant, count] of perTenant) this.hooks.onIngested(tenant, count);
    }
    if (inserted.length > 0) this.onDurable(inserted);
  }
}

/** The message (or batch entry) of `batch` that carries the command of job `jobId`. */
function sourceOf(messages: readonly CommandSource[], jobId: string): CommandSource | undefined {
  for (const message of messages) {
    for (const read of readCommandMessage(message)) {
      if ('command' in read && read.command.body.jobId === jobId) return read.source;
    }
  }
  return undefined;
}
