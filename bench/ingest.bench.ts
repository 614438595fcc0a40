/**
 * Ingest benchmark: commands per second from Kafka into the durable per-tenant queues.
 *
 *   npm run -s bench:ingest -- --json [--messages 60000] [--tenants 200] [--rounds 3] [--coalesce] [--only fairway|bare-kafkajs-insert]
 *
 * One run, three sides, each a fresh consumer group reading the same 6-partition topic from the
 * beginning (partitions consumed 3 at a time, as the scheduler does), timed from the first fetched
 * batch to the last message made durable:
 *   kafkajs-consume-only   a bare kafkajs consumer that reads and drops (the ceiling)
 *   bare-kafkajs-insert    a bare kafkajs consumer writing the SAME rows into the SAME `jobs` table
 *                          (the migrations' schema: its indexes, constraints and row-level security,
 *                          as the scheduler's role) with no validation: JSON.parse, pick the columns,
 *                          one plain `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING` per batch
 *   fairway                the scheduler's CommandIngestor: parse + validate every message, tenant
 *                          from its own headers, catalog check, idempotent insert keyed by job id and
 *                          (tenant, idempotency key), dead-letters, offsets committed after commit
 * The two inserting sides never share a table: each has its own database prepared by the same
 * migrations, and its `jobs` table is truncated before each of its rounds, so both always insert into
 * an equally empty table. Rounds alternate which side goes first (round 1 bare first, round 2
 * fairway first, ...), so neither always pays for the other's aftermath (autovacuum, checkpoints).
 * At the end the two tables must hold the same rows (a checksum of every inserted column).
 * Beside the throughput, each side reports the CPU it cost per command: this process (the consumer,
 * node) and the PostgreSQL backends of its database (from /proc; Linux, same host). On a shared
 * machine the throughput moves with everyone's load, the CPU per command much less.
 * --coalesce produces the commands as the edge publishes them (a tenant's commands of one send as one
 * record, here 5,000-command sends); figures stay commands per second.
 * Everything lives in throw-away databases and a topic that are removed at the end.
 * Progress goes to stderr, JSON to stdout.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { Client, type Pool } from 'pg';
import { createPool, prepareDatabase, upsertTenant } from '@fairway/db';
import { jobTypes, type JobType } from '@fairway/jobs';
import {
  coalesceCommandMessages,
  CommandHeader,
  commandMessage,
  createIdempotentProducer,
  createKafka,
  GroupCommitPublisher,
  topicNames,
} from '@fairway/kafka';
import { createLogger } from '@fairway/telemetry';
import type { TenantId } from '@fairway/tenant-context';
import { CommandIngestor } from '../services/scheduler/src/ingest';
import { JobStore } from '../services/scheduler/src/job-store';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BROKERS = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const progress = (msg: string) => process.stderr.write(`[ingest] ${msg}\n`);

const SIDES = ['bare-kafkajs-insert', 'fairway'] as const;
type Side = (typeof SIDES)[number];

/** Runs a consumer group over `topic` until `target` records are done; returns the seconds it took. */
async function timeConsumer(
  kafka: Kafka,
  topic: string,
  target: number,
  eachBatch: (p: EachBatchPayload) => Promise<number>,
  concurrency = 3,
): Promise<number> {
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

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) a process has used, or undefined when /proc cannot tell. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** CPU (ms) used so far by each PostgreSQL backend connected to `db`'s database. */
async function backendsCpuMs(db: SideDatabase): Promise<Map<number, number>> {
  const { rows } = await db.owner.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) out.set(pid, ms);
  }
  return out;
}

/** A command body as produced, read without any validation. */
interface RawCommand {
  jobId: string;
  type: string;
  params: Record<string, unknown>;
  priority?: number;
  idempotencyKey?: string;
  requestHash?: string;
  acceptedAt: string;
}

/**
 * The baseline's batch handler: what a team would write with kafkajs and pg and nothing else. The
 * row is exactly the one the ingestor writes (the job class from the type's own function, the
 * trace headers as JSON); nothing is checked, so a bad message would fail the whole batch.
 */
function bareInsert(pool: Pool) {
  return async ({ batch, resolveOffset, commitOffsetsIfNecessary }: EachBatchPayload): Promise<number> => {
    const ids: string[] = [];
    const tenantIds: string[] = [];
    const types: string[] = [];
    const classes: string[] = [];
    const params: string[] = [];
    const priorities: number[] = [];
    const keys: Array<string | null> = [];
    const hashes: Array<string | null> = [];
    const traces: string[] = [];
    const acceptedAts: string[] = [];
    const partitions: number[] = [];
    const row = (tenantId: string, command: RawCommand, trace: Record<string, unknown>) => {
      ids.push(command.jobId);
      tenantIds.push(tenantId);
      types.push(command.type);
      classes.push(jobTypes[command.type as JobType].jobClass(command.params as never));
      params.push(JSON.stringify(command.params));
      priorities.push(command.priority ?? 0);
      keys.push(command.idempotencyKey ?? null);
      hashes.push(command.requestHash ?? null);
      traces.push(JSON.stringify(trace));
      acceptedAts.push(command.acceptedAt);
      partitions.push(batch.partition);
    };
    for (const message of batch.messages) {
      const tenantId = message.key?.toString() ?? '';
      const value = JSON.parse(message.value?.toString() ?? 'null') as unknown;
      if (message.headers?.[CommandHeader.batch] !== undefined) {
        // A coalesced record: a JSON array of {trace, body}, one row per command.
        for (const entry of value as Array<{ trace: Record<string, string>; body: RawCommand }>) row(tenantId, entry.body, entry.trace);
        continue;
      }
      const trace: Record<string, string> = {};
      for (const name of [CommandHeader.traceparent, CommandHeader.tracestate, CommandHeader.baggage]) {
        const header = message.headers?.[name];
        if (header !== undefined) trace[name] = header.toString();
      }
      row(tenantId, value as RawCommand, trace);
    }
    await pool.query(
      `INSERT INTO jobs (id, tenant_id, type, job_class, params, priority, idempotency_key, request_hash, trace_headers, accepted_at, partition)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::int[], $7::text[], $8::text[], $9::jsonb[], $10::timestamptz[], $11::int[])
       ON CONFLICT DO NOTHING`,
      [ids, tenantIds, types, classes, params, priorities, keys, hashes, traces, acceptedAts, partitions],
    );
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    return batch.messages.length;
  };
}

/** One side's throw-away database: the migrations' schema, the bench tenants, its pools. */
interface SideDatabase {
  name: string;
  owner: Pool;
  scheduler: Pool;
}

async function prepareSideDatabase(database: string, tenants: readonly TenantId[]): Promise<SideDatabase> {
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${database}`;
  progress(`preparing database ${database}`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'bench-ingest-owner', max: 2 });
  const scheduler = createPool({ connectionString: prepared.urls.scheduler, applicationName: 'bench-ingest', max: 8 });
  for (const id of tenants) await upsertTenant(owner, { id });
  return { name: database, owner, scheduler };
}

/** The rows of `jobs` as both sides write them: count and a checksum over every inserted column. */
async function rowsDigest(db: SideDatabase): Promise<{ rows: number; digest: string }> {
  // As the scheduler's role: the table forces row-level security, and only that role's policy sees every tenant.
  const { rows } = await db.scheduler.query<{ n: string; digest: string | null }>(
    `SELECT count(*) AS n, md5(string_agg(concat_ws('|', id, tenant_id, type, job_class, params::text, priority, idempotency_key, request_hash,
            trace_headers::text, accepted_at, partition), ',' ORDER BY id)) AS digest FROM jobs`,
  );
  return { rows: Number(rows[0]?.n ?? 0), digest: rows[0]?.digest ?? '' };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      messages: { type: 'string' },
      tenants: { type: 'string' },
      rounds: { type: 'string' },
      coalesce: { type: 'boolean' },
      only: { type: 'string' },
    },
  });
  const total = Number(values.messages ?? 60_000);
  const tenantCount = Number(values.tenants ?? 200);
  const rounds = Math.max(1, Number(values.rounds ?? 3));
  if (values.only !== undefined && !(SIDES as readonly string[]).includes(values.only))
    throw new Error(`--only must be one of ${SIDES.join(', ')} (got '${values.only}')`);
  const sides = values.only === undefined ? SIDES : [values.only as Side];
  const prefix = `fairway_bench_ingest_${randomBytes(3).toString('hex')}`;
  const kafka = createKafka({ brokers: BROKERS, clientId: 'bench-ingest' });
  const topics = topicNames(`bench-ingest-${randomBytes(3).toString('hex')}`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 6 })), waitForLeaders: true });
  const databases = new Map<Side, SideDatabase>();

  try {
    const tenants = Array.from({ length: tenantCount }, (_, i) => `bench-${i}` as TenantId);
    for (const side of sides) databases.set(side, await prepareSideDatabase(`${prefix}_${side === 'fairway' ? 'fairway' : 'bare'}`, tenants));

    progress(`producing ${total} commands for ${tenantCount} tenants`);
    const producer = createIdempotentProducer(kafka);
    await producer.connect();
    for (let sent = 0; sent < total; sent += 5_000) {
      const messages = [];
      for (let i = sent; i < Math.min(total, sent + 5_000); i += 1) {
        const tenant = tenants[i % tenants.length] as TenantId;
        messages.push(
          commandMessage(
            tenant,
            { jobId: randomUUID(), type: 'synthetic', params: { ms: 10 }, priority: 0, idempotencyKey: `k-${i}`, acceptedAt: new Date().toISOString() },
            {
              traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
            },
          ),
        );
      }
      // --coalesce: as the edge publishes, a tenant's commands of one send as one record.
      await producer.send({ topic: topics.commands, messages: values.coalesce ? coalesceCommandMessages(messages) : messages, acks: -1 });
    }
    await producer.disconnect();

    const offsets = await admin.fetchTopicOffsets(topics.commands);
    const records = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    progress(`topic holds ${records} records`);
    progress('kafkajs-consume-only ...');
    const consumeOnlySeconds = await timeConsumer(kafka, topics.commands, records, async ({ batch, resolveOffset }) => {
      resolveOffset(batch.lastOffset());
      return batch.messages.length;
    });

    const deadLetterProducer = createIdempotentProducer(kafka);
    await deadLetterProducer.connect();
    const handlers: Record<Side, (db: SideDatabase) => (payload: EachBatchPayload) => Promise<number>> = {
      'bare-kafkajs-insert': (db) => bareInsert(db.scheduler),
      fairway: (db) => {
        const ingestor = new CommandIngestor(
          new JobStore(db.scheduler, 'bench'),
          new GroupCommitPublisher({ producer: deadLetterProducer, topic: topics.commandsDeadLetter }),
          createLogger('bench-ingest', 'silent'),
          () => undefined,
        );
        return (payload) => ingestor.handleBatch(payload);
      },
    };
    const seconds: Record<Side, number[]> = { 'bare-kafkajs-insert': [], fairway: [] };
    const cpu: Record<Side, { node: number[]; postgres: number[] }> = {
      'bare-kafkajs-insert': { node: [], postgres: [] },
      fairway: { node: [], postgres: [] },
    };
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const db = databases.get(side) as SideDatabase;
        // Each round of each side starts from an equally empty table.
        await db.owner.query('TRUNCATE jobs');
        progress(`round ${round + 1}: ${side} ...`);
        const nodeBefore = process.cpuUsage();
        const backendsBefore = await backendsCpuMs(db);
        seconds[side].push(await timeConsumer(kafka, topics.commands, records, handlers[side](db)));
        const node = process.cpuUsage(nodeBefore);
        // A backend that started during the round counts from zero; the pools keep theirs open
        // (30 s idle timeout), so none ends unseen.
        let postgresMs = 0;
        for (const [pid, ms] of await backendsCpuMs(db)) postgresMs += ms - (backendsBefore.get(pid) ?? 0);
        cpu[side].node.push((node.user + node.system) / total);
        cpu[side].postgres.push((postgresMs * 1000) / total);
      }
    }
    await deadLetterProducer.disconnect();

    const digests = new Map<Side, { rows: number; digest: string }>();
    for (const side of sides) digests.set(side, await rowsDigest(databases.get(side) as SideDatabase));
    const perSec = (s: number) => Math.round(total / s);
    const result = {
      benchmark: 'ingest',
      messages: total,
      records,
      coalesced: values.coalesce === true,
      tenants: tenantCount,
      partitions: 6,
      rounds,
      // Commands (not records) per second: with --coalesce a record carries several. commandsPerSec
      // is the median of the rounds; perRound lists each round in order.
      results: [
        ...sides.map((side) => ({
          impl: side,
          commandsPerSec: perSec(median(seconds[side])),
          perRound: seconds[side].map(perSec),
          // CPU microseconds per command, median of the rounds: this process, and its database's backends.
          cpuUsPerCommand: { node: +median(cpu[side].node).toFixed(1), postgres: +median(cpu[side].postgres).toFixed(1) },
          durableRows: digests.get(side)?.rows,
        })),
        { impl: 'kafkajs-consume-only', commandsPerSec: perSec(consumeOnlySeconds) },
      ],
      ratios:
        sides.length === 2
          ? {
              fairwayVsBareInsert: +(median(seconds['bare-kafkajs-insert']) / median(seconds.fairway)).toFixed(2),
              fairwayVsBareInsertPerRound: seconds.fairway.map((s, i) => +((seconds['bare-kafkajs-insert'][i] as number) / s).toFixed(2)),
              fairwayVsConsumeOnly: +(consumeOnlySeconds / median(seconds.fairway)).toFixed(2),
            }
          : {},
      sameRows: sides.length === 2 ? digests.get('fairway')?.digest === digests.get('bare-kafkajs-insert')?.digest : undefined,
    };
    console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    for (const db of databases.values()) {
      await db.owner.end();
      await db.scheduler.end();
    }
    const server = new Client({ connectionString: ADMIN });
    await server.connect();
    for (const db of databases.values()) await server.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
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
