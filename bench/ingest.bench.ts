/**
 * Ingest benchmark: commands per second from Kafka into the durable per-tenant queues.
 *
 *   npm run -s bench:ingest -- --json [--messages 60000] [--tenants 200] [--coalesce]
 *
 * One run, three sides, each a fresh consumer group reading the same 6-partition topic from the
 * beginning, timed from the first fetched batch to the last message made durable:
 *   kafkajs-consume-only   a bare kafkajs consumer that reads and drops (the ceiling)
 *   bare-kafkajs-insert    a bare kafkajs consumer doing the same batched insert into a plain table
 *   fairway                the scheduler's CommandIngestor: parse + validate every message, tenant
 *                          from its own headers, catalog check, idempotent insert keyed by job id and
 *                          (tenant, idempotency key), dead-letters, offsets committed after commit
 * --coalesce produces the commands as the edge publishes them (a tenant's commands of one send as one
 * record, here 5,000-command sends); figures stay commands per second.
 * Everything lives in a throw-away database and topic that are removed at the end.
 * Progress goes to stderr, JSON to stdout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { Client } from 'pg';
import { createPool, prepareDatabase, upsertTenant } from '@fairway/db';
import { coalesceCommandMessages, CommandHeader, commandMessage, createIdempotentProducer, createKafka, GroupCommitPublisher, topicNames } from '@fairway/kafka';
import { createLogger } from '@fairway/telemetry';
import type { TenantId } from '@fairway/tenant-context';
import { CommandIngestor } from '../services/scheduler/src/ingest';
import { JobStore } from '../services/scheduler/src/job-store';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BROKERS = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const progress = (msg: string) => process.stderr.write(`[ingest] ${msg}\n`);

/** Runs a consumer group over `topic` until `target` records are done; returns the seconds it took. */
async function timeConsumer(kafka: Kafka, topic: string, target: number, eachBatch: (p: EachBatchPayload) => Promise<number>, concurrency = 3): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-ingest-${randomUUID()}`, maxWaitTimeInMs: 50 });
  let done = 0;
  let started = 0;
  const reporter = setInterval(() => progress(`  ${done}/${target}`), 2_000);
  let finish: (value: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => progress('  consumer group joined'));
  consumer.on(consumer.events.CRASH, (event) => progress(`  consumer crashed: ${String(event.payload.error)}`));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: concurrency,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      if (started === 0) started = performance.now();
      // Read `done` after the await: partitions run concurrently, and `done += await ...` would
      // add to the value read before another partition's batch finished.
      const handled = await eachBatch(payload);
      done += handled;
      if (done >= target) finish(performance.now());
    },
  });
  const ended = await finished;
  clearInterval(reporter);
  await consumer.disconnect();
  return (ended - started) / 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, messages: { type: 'string' }, tenants: { type: 'string' }, coalesce: { type: 'boolean' } } });
  const total = Number(values.messages ?? 60_000);
  const tenantCount = Number(values.tenants ?? 200);
  const database = `fairway_bench_ingest_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${database}`;
  progress(`preparing database ${database}`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'bench-ingest-owner', max: 4 });
  const schedulerPool = createPool({ connectionString: prepared.urls.scheduler, applicationName: 'bench-ingest', max: 8 });
  const kafka = createKafka({ brokers: BROKERS, clientId: 'bench-ingest' });
  const topics = topicNames(`bench-ingest-${randomBytes(3).toString('hex')}`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 6 })), waitForLeaders: true });

  try {
    const tenants: TenantId[] = [];
    for (let i = 0; i < tenantCount; i += 1) {
      const id = `bench-${i}` as TenantId;
      await upsertTenant(owner, { id });
      tenants.push(id);
    }
    await owner.query('CREATE TABLE bench_ingest_bare (id uuid PRIMARY KEY, tenant_id text NOT NULL, body jsonb NOT NULL)');
    await owner.query('GRANT INSERT, SELECT ON bench_ingest_bare TO fairway_scheduler');

    progress(`producing ${total} commands for ${tenantCount} tenants`);
    const producer = createIdempotentProducer(kafka);
    await producer.connect();
    for (let sent = 0; sent < total; sent += 5_000) {
      const messages = [];
      for (let i = sent; i < Math.min(total, sent + 5_000); i += 1) {
        const tenant = tenants[i % tenants.length] as TenantId;
        messages.push(
          commandMessage(tenant, { jobId: randomUUID(), type: 'synthetic', params: { ms: 10 }, priority: 0, idempotencyKey: `k-${i}`, acceptedAt: new Date().toISOString() }, {
            traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
          }),
        );
      }
      // --coalesce: as the edge publishes, a tenant's commands of one send as one record.
      await producer.send({ topic: topics.commands, messages: values.coalesce ? coalesceCommandMessages(messages) : messages, acks: -1 });
    }

    const offsets = await admin.fetchTopicOffsets(topics.commands);
    const records = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    progress(`topic holds ${records} records`);
    progress('kafkajs-consume-only ...');
    const consumeOnlySeconds = await timeConsumer(kafka, topics.commands, records, async ({ batch, resolveOffset }) => {
      resolveOffset(batch.lastOffset());
      return batch.messages.length;
    });

    progress('bare-kafkajs-insert ...');
    const bareSeconds = await timeConsumer(kafka, topics.commands, records, async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      const ids: string[] = [];
      const tenantIds: string[] = [];
      const bodies: string[] = [];
      for (const message of batch.messages) {
        const body = message.value?.toString() ?? '{}';
        const tenantId = message.key?.toString() ?? '';
        // A coalesced record is a JSON array of {trace, body}: one row per command, no validation.
        const commands = message.headers?.[CommandHeader.batch] === undefined ? [JSON.parse(body) as { jobId: string }] : (JSON.parse(body) as Array<{ body: { jobId: string } }>).map((entry) => entry.body);
        for (const command of commands) {
          ids.push(command.jobId);
          tenantIds.push(tenantId);
          bodies.push(commands.length === 1 ? body : JSON.stringify(command));
        }
      }
      await schedulerPool.query('INSERT INTO bench_ingest_bare SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) ON CONFLICT DO NOTHING', [ids, tenantIds, bodies]);
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
      return batch.messages.length;
    });

    progress('fairway CommandIngestor ...');
    const deadLetterProducer = createIdempotentProducer(kafka);
    await deadLetterProducer.connect();
    const ingestor = new CommandIngestor(
      new JobStore(schedulerPool, 'bench'),
      new GroupCommitPublisher({ producer: deadLetterProducer, topic: topics.commandsDeadLetter }),
      createLogger('bench-ingest', 'silent'),
      () => undefined,
    );
    const fairwaySeconds = await timeConsumer(kafka, topics.commands, records, (payload) => ingestor.handleBatch(payload));
    await deadLetterProducer.disconnect();
    await producer.disconnect();
    const { rows } = await schedulerPool.query<{ n: string }>('SELECT count(*) AS n FROM jobs');

    const result = {
      benchmark: 'ingest',
      messages: total,
      records,
      coalesced: values.coalesce === true,
      tenants: tenantCount,
      partitions: 6,
      // Commands (not records) per second: with --coalesce a record carries several.
      results: [
        { impl: 'fairway', cmdsPerSec: Math.round(total / fairwaySeconds), durableRows: Number(rows[0]?.n ?? 0) },
        { impl: 'bare-kafkajs-insert', cmdsPerSec: Math.round(total / bareSeconds) },
        { impl: 'kafkajs-consume-only', cmdsPerSec: Math.round(total / consumeOnlySeconds) },
      ],
      ratios: { fairwayVsBareInsert: +(bareSeconds / fairwaySeconds).toFixed(2), fairwayVsConsumeOnly: +(consumeOnlySeconds / fairwaySeconds).toFixed(2) },
    };
    console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    await owner.end();
    await schedulerPool.end();
    const server = new Client({ connectionString: ADMIN });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[ingest] failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
