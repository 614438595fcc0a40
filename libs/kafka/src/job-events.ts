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
  tenant: 'fairway-tenant-id',
  /** Number of events in the record (its value is a JSON array of them). */
  count: 'fairway-events',
} as const;

/** Options of a {@link JobEventLog}. */
export interface JobEventLogOptions {
  publisher: Publisher;
  /** Called when a send failed; job events follow the database, so a lost event never loses a job. */
  onError?: (err: unknown, events: number) => void;
}

/**
 * Publishes job state changes with the tenant as key and header, a tenant's events of one turn
 * (and of every turn while the previous send was in flight) in ONE record whose value is a JSON array of {@link JobEvent} in the order they happened (so per
 * tenant, events stay in order on one partition). Why: at thousands of jobs a second, a record per
 * state change (two per job) cost the scheduler and the broker more CPU than the job itself.
 *
 * Readers take `JSON.parse(value)` as an array (see {@link readJobEvents}).
 */
export class JobEventLog {
  private byTenant = new Map<string, JobEvent[]>();
  private scheduled = false;
  private sending: Promise<void> | undefined;

  constructor(private readonly options: JobEventLogOptions) {}

  /** Queues `event` for the record of its tenant in this turn. */
  publish(event: JobEvent): void {
    const list = this.byTenant.get(event.tenantId);
    if (list) list.push(event);
    else this.byTenant.set(event.tenantId, [event]);
    this.schedule();
  }

  /**
   * Sends what is queued, after the send in flight (so a tenant's events of every turn that passed
   * meanwhile share its record); resolves once everything queued before the call was acknowledged
   * or refused.
   */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    if (this.byTenant.size === 0) return;
    const sending = this.send();
    this.sending = sending;
    await sending;
    this.sending = undefined;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.sending || this.byTenant.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private send(): Promise<void> {
    const batch = this.byTenant;
    this.byTenant = new Map();
    const sends: Array<Promise<void>> = [];
    for (const [tenantId, events] of batch) {
      sends.push(
        this.options.publisher.publish(jobEventsMessage(tenantId, events)).catch((err: unknown) => this.options.onError?.(err, events.length)),
      );
    }
    return Promise.all(sends).then(() => undefined);
  }
}

/** The record carrying `events` of one tenant. */
export function jobEventsMessage(tenantId: string, events: readonly JobEvent[]): Message {
  return {
    key: tenantId,
    value: JSON.stringify(events),
    headers: { [JobEventHeader.tenant]: tenantId, [JobEventHeader.count]: String(events.length) },
  };
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
