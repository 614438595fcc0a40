import type { Message } from 'kafkajs';
import type { Publisher } from './group-commit-publisher';

/** One state change of a job, as published to `<prefix>.job-events`. */
export interface JobEvent {
  jobId: string;
  tenantId: string;
  state: string;
  attempt: number;
  error?: string | undefined;
  /** ISO-8601 time the scheduler saw the change. */
  at: string;
}

/** Headers of a job-events record. */
export const JobEventHeader = {
  /** Number of events in the record (its value is a JSON array of them). */
  count: 'fairway-events',
  /** The tenants whose events the record carries, comma-separated, in first-event order. */
  tenants: 'fairway-tenant-ids',
} as const;

/** Options of a {@link JobEventLog}. */
export interface JobEventLogOptions {
  publisher: Publisher;
  /** Partitions of the job-events topic: a tenant's events always go to {@link jobEventPartition}. */
  partitions: number;
  /** Most events one record carries (default 1,000). */
  maxEventsPerRecord?: number;
  /**
   * How long events wait for more before a send (default 0: the end of the turn). Events follow the
   * database and nothing waits for them, so a few milliseconds buy far fewer, larger sends.
   */
  lingerMs?: number;
  /** Called when a send failed; job events follow the database, so a lost event never loses a job. */
  onError?: (err: unknown, events: number) => void;
}

/**
 * Publishes job state changes in batches: the events of one turn (and of every turn while the
 * previous send was in flight) go out as ONE record per partition, its value a JSON array of
 * {@link JobEvent} in the order they happened. Each tenant's events always go to the same partition
 * ({@link jobEventPartition}, a hash of the tenant id), so a tenant's events stay in order; each
 * event names its tenant, and the `fairway-tenant-ids` header lists the record's tenants so a
 * consumer can skip a record without parsing it.
 *
 * Why: at thousands of jobs a second, a record per state change (two per job) cost the scheduler
 * (kafkajs' encoding) and the broker more CPU than the job itself, and with many tenants a record
 * per tenant was still about a record per event.
 *
 * Readers take `JSON.parse(value)` as an array (see {@link readJobEvents}).
 */
export class JobEventLog {
  private byPartition = new Map<number, JobEvent[]>();
  private scheduled = false;
  private sending: Promise<void> | undefined;

  constructor(private readonly options: JobEventLogOptions) {}

  /** Queues `event` for the record of its partition in the next send. */
  publish(event: JobEvent): void {
    const partition = jobEventPartition(event.tenantId, this.options.partitions);
    const list = this.byPartition.get(partition);
    if (list) list.push(event);
    else this.byPartition.set(partition, [event]);
    this.schedule();
  }

  /**
   * Sends what is queued, after the send in flight (so a tenant's events of every turn that passed
   * meanwhile share its record); resolves once everything queued before the call was acknowledged
   * or refused.
   */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    if (this.byPartition.size === 0) return;
    const sending = this.send();
    this.sending = sending;
    await sending;
    this.sending = undefined;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.sending || this.byPartition.size === 0) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.flush();
    };
    const linger = this.options.lingerMs ?? 0;
    if (linger > 0) setTimeout(go, linger).unref();
    else setImmediate(go);
  }

  private send(): Promise<void> {
    const batch = this.byPartition;
    this.byPartition = new Map();
    const max = this.options.maxEventsPerRecord ?? 1_000;
    const sends: Array<Promise<void>> = [];
    for (const [partition, events] of batch) {
      for (let i = 0; i < events.length; i += max) {
        const slice = events.length <= max ? events : events.slice(i, i + max);
        sends.push(this.options.publisher.publish(jobEventsMessage(partition, slice)).catch((err: unknown) => this.options.onError?.(err, slice.length)));
      }
    }
    return Promise.all(sends).then(() => undefined);
  }
}

/** The record carrying `events` (all of whose tenants hash to `partition`). */
export function jobEventsMessage(partition: number, events: readonly JobEvent[]): Message {
  const tenants = [...new Set(events.map((e) => e.tenantId))];
  return {
    partition,
    value: JSON.stringify(events),
    headers: { [JobEventHeader.count]: String(events.length), [JobEventHeader.tenants]: tenants.join(',') },
  };
}

/** The job-events partition of a tenant: FNV-1a of its id, modulo the partitions. Stable across replicas. */
export function jobEventPartition(tenantId: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < tenantId.length; i += 1) {
    hash ^= tenantId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % Math.max(1, partitions);
}

/** The events of a job-events record; an empty list when the value is not a JSON array. Never throws. */
export function readJobEvents(value: Buffer | string | null): JobEvent[] {
  if (value === null) return [];
  try {
    const parsed: unknown = JSON.parse(value.toString());
    return Array.isArray(parsed) ? (parsed as JobEvent[]) : [];
  } catch {
    return [];
  }
}
