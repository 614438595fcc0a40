import { AuditAction, GLOBAL_CHAIN, type AuditEntryInput } from './audit-entry';

/** One failed authentication, as the edge saw it. Never pass the secret itself. */
export interface AuthFailure {
  /**
   * The tenant the failure is evidence about, ONLY when the edge knows the tenant exists (a revoked
   * or wrong-secret key of a known tenant, a token whose signature verified but whose tenant is
   * suspended). A tenant id the client merely claimed goes to 'global': otherwise a flood of made-up
   * ids would create a chain each.
   */
  tenant?: string;
  /** Why it failed, a short stable code: 'unknown-key', 'bad-signature', 'expired', 'revoked', ... */
  reason: string;
  /** A NON-secret identifier of the credential: an API key's public prefix, a token's `kid`/`sub`. */
  credential?: string;
  /** The client's address. */
  remote?: string;
}

/** Options of AuthFailureAuditor. */
export interface AuthFailureAuditorOptions {
  /** Writes one entry, e.g. `(entry) => appendAudit(pool, entry)`. */
  append: (entry: AuditEntryInput) => Promise<unknown>;
  /** Time between flushes in milliseconds (start()); at least 1000. */
  intervalMs: number;
  /** The entries' actor (default 'edge'). */
  actor?: string;
  /** Distinct (chain, reason) groups kept per interval; beyond, failures count in ('global', 'overflow'). Default 1000. */
  maxGroups?: number;
  /** Distinct credentials and addresses kept as samples per group. Default 5. */
  maxSamples?: number;
  /** The clock (tests). */
  now?: () => Date;
  /** A flush that failed; its counts are kept and written with the next flush. */
  onError?: (err: unknown) => void;
}

interface Group {
  chain: string;
  reason: string;
  count: number;
  firstAt: Date;
  lastAt: Date;
  credentials: Set<string>;
  remotes: Set<string>;
  samplesDropped: number;
}

const CHAIN_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const OVERFLOW_REASON = 'overflow';

/** Printable, bounded text: the values come from unauthenticated clients. */
function clean(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const printable = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  return printable.length > max ? `${printable.slice(0, max)}…` : printable;
}

/**
 * Audits authentication failures at a bounded rate. The edge calls record() on every failure (no
 * I/O, O(1)); every interval, flush() writes ONE `auth.failure` entry per (chain, reason) with the
 * count, the first and last time, and a few sample credentials and addresses. A flood of failures
 * therefore costs at most `maxGroups` rows per interval, never a row per request. A flush that
 * fails keeps its counts for the next one, so failures are delayed, never lost silently (onError
 * reports it).
 */
export class AuthFailureAuditor {
  private groups = new Map<string, Group>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | undefined;
  private readonly actor: string;
  private readonly maxGroups: number;
  private readonly maxSamples: number;
  private readonly now: () => Date;

  constructor(private readonly options: AuthFailureAuditorOptions) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs < 1000) {
      throw new RangeError(`auth failure audit interval must be at least 1000 ms (got ${options.intervalMs})`);
    }
    this.actor = options.actor ?? 'edge';
    this.maxGroups = options.maxGroups ?? 1000;
    this.maxSamples = options.maxSamples ?? 5;
    if (!Number.isInteger(this.maxGroups) || this.maxGroups < 1) throw new RangeError(`maxGroups must be an integer >= 1 (got ${this.maxGroups})`);
    if (!Number.isInteger(this.maxSamples) || this.maxSamples < 0) throw new RangeError(`maxSamples must be an integer >= 0 (got ${this.maxSamples})`);
    this.now = options.now ?? (() => new Date());
  }

  /** Failures recorded and not yet written. */
  get pending(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.count;
    return n;
  }

  /** Counts one failure. Never throws, never waits. */
  record(failure: AuthFailure): void {
    const at = this.now();
    let chain = failure.tenant !== undefined && CHAIN_PATTERN.test(failure.tenant) ? failure.tenant : GLOBAL_CHAIN;
    let reason = clean(failure.reason || 'unspecified', 80);
    let key = `${chain}\n${reason}`;
    let group = this.groups.get(key);
    if (!group && this.groups.size >= this.maxGroups - 1) {
      // One slot is kept for the overflow group, so the map never exceeds maxGroups.
      chain = GLOBAL_CHAIN;
      reason = OVERFLOW_REASON;
      key = `${chain}\n${reason}`;
      group = this.groups.get(key);
    }
    if (!group) {
      group = { chain, reason, count: 0, firstAt: at, lastAt: at, credentials: new Set(), remotes: new Set(), samplesDropped: 0 };
      this.groups.set(key, group);
    }
    group.count += 1;
    if (at < group.firstAt) group.firstAt = at;
    if (at > group.lastAt) group.lastAt = at;
    this.sample(group, group.credentials, failure.credential);
    this.sample(group, group.remotes, failure.remote);
  }

  private sample(group: Group, into: Set<string>, value: string | undefined): void {
    if (value === undefined || value === '') return;
    const text = clean(value, 64);
    if (into.has(text)) return;
    if (into.size < this.maxSamples) into.add(text);
    else group.samplesDropped += 1;
  }

  /**
   * Writes one entry per group recorded since the last flush and returns how many were written.
   * Failures recorded during the flush wait for the next one. A concurrent call waits for the
   * flush in progress. Throws the first write error after putting the unwritten groups back.
   */
  async flush(): Promise<number> {
    if (this.flushing) return this.flushing;
    this.flushing = this.writeGroups().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writeGroups(): Promise<number> {
    const batch = [...this.groups.values()];
    this.groups = new Map();
    let written = 0;
    try {
      for (const group of batch) {
        await this.options.append(this.entryOf(group));
        written += 1;
      }
    } catch (err) {
      for (const group of batch.slice(written)) this.restore(group);
      throw err;
    }
    return written;
  }

  private restore(group: Group): void {
    const key = `${group.chain}\n${group.reason}`;
    const current = this.groups.get(key);
    if (!current) {
      this.groups.set(key, group);
      return;
    }
    current.count += group.count;
    if (group.firstAt < current.firstAt) current.firstAt = group.firstAt;
    if (group.lastAt > current.lastAt) current.lastAt = group.lastAt;
    for (const c of group.credentials) this.sample(current, current.credentials, c);
    for (const r of group.remotes) this.sample(current, current.remotes, r);
    current.samplesDropped += group.samplesDropped;
  }

  private entryOf(group: Group): AuditEntryInput {
    return {
      chain: group.chain,
      actor: this.actor,
      action: AuditAction.authFailure,
      target: group.reason,
      after: {
        reason: group.reason,
        count: group.count,
        firstAt: group.firstAt.toISOString(),
        lastAt: group.lastAt.toISOString(),
        credentialIds: [...group.credentials].sort(),
        remotes: [...group.remotes].sort(),
        ...(group.samplesDropped > 0 ? { samplesDropped: group.samplesDropped } : {}),
      },
    };
  }

  /** Flushes every interval until stop(). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.options.onError?.(err));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is pending (throws if that last write fails). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => undefined);
    await this.flush();
  }
}
