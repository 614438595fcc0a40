import type { Pool } from 'pg';

/** Why a read that wanted the replica ran on the primary. */
export type ReplicaFallbackReason = 'lag' | 'unavailable';

/** Where one read runs. */
export type ReadTarget = { on: 'replica'; pool: Pool; lagMs: number } | { on: 'primary'; pool: Pool; reason: ReplicaFallbackReason };

/** Options of a {@link ReadReplica}. */
export interface ReadReplicaOptions {
  /** The catalog database on the primary, as the same role. */
  primaryPool: Pool;
  /** The same database on the hot standby, as the same role (roles and RLS replicate with the data). */
  replicaPool: Pool;
  /** The URL of `replicaPool`: tenant databases on the standby are reached by replacing its database. */
  replicaUrl: string;
  /** The staleness a read accepts unless it names its own (ms). */
  maxLagMs: number;
  /** The replica's state is probed at most this often (default 200 ms); reads in between share it. */
  probeIntervalMs?: number;
  /** Told of every read that fell back to the primary (a metric: fairway_replica_fallbacks_total). */
  onFallback?: (reason: ReplicaFallbackReason) => void;
  /** Told of every probe's lag, or null when the replica did not answer (a gauge). */
  onLag?: (lagMs: number | null) => void;
}

interface ReplicaState {
  available: boolean;
  lagMs: number;
  at: number;
}

/**
 * The standby's replay lag, from the standby itself: 0 while it has replayed all the WAL it
 * received and its WAL receiver streams; otherwise the age of the last transaction it replayed
 * (pg_last_xact_replay_timestamp), an upper bound of how stale a read there is. A standby that
 * lost its primary (not streaming) is as stale as its last replayed transaction, however idle.
 */
const LAG_SQL = `
  SELECT pg_is_in_recovery() AS standby,
         CASE
           WHEN NOT pg_is_in_recovery() THEN 0
           WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0
           ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000, 1e9)
         END::float8 AS lag_ms`;

/**
 * Chooses primary or replica for each staleness-tolerant read: the replica while its lag is at
 * most the read's `maxLagMs`, else the primary (reason `lag`), and the primary while the replica
 * does not answer (reason `unavailable`). Both fallbacks are told to `onFallback`.
 *
 * The lag is probed on the standby at most every `probeIntervalMs` and shared by the reads in
 * between, so a report flood does not double its queries; a read may therefore see up to
 * `maxLagMs + probeIntervalMs` of staleness, which docs/data-isolation.md states.
 */
export class ReadReplica {
  private state: ReplicaState | undefined;
  private probing: Promise<ReplicaState> | undefined;
  private readonly probeIntervalMs: number;

  constructor(private readonly options: ReadReplicaOptions) {
    this.probeIntervalMs = options.probeIntervalMs ?? 200;
  }

  /** The standby's URL (tenant databases on it are reached by replacing the database). */
  get replicaUrl(): string {
    return this.options.replicaUrl;
  }

  /** The staleness a read accepts by default, ms. */
  get maxLagMs(): number {
    return this.options.maxLagMs;
  }

  /** Where a read that accepts `maxLagMs` of staleness runs now. */
  async choose(maxLagMs = this.options.maxLagMs): Promise<ReadTarget> {
    const state = await this.current();
    if (!state.available) return this.fallback('unavailable');
    if (state.lagMs > maxLagMs) return this.fallback('lag');
    return { on: 'replica', pool: this.options.replicaPool, lagMs: state.lagMs };
  }

  /** Forgets the last probe: the next read probes again (after a replica connection failed). */
  markUnavailable(): void {
    this.state = { available: false, lagMs: Infinity, at: Date.now() };
  }

  /** Tells the listener that a read fell back, for callers that found out themselves (a failed connection). */
  fallback(reason: ReplicaFallbackReason): ReadTarget {
    this.options.onFallback?.(reason);
    return { on: 'primary', pool: this.options.primaryPool, reason };
  }

  private async current(): Promise<ReplicaState> {
    const state = this.state;
    if (state && Date.now() - state.at < this.probeIntervalMs) return state;
    this.probing ??= this.probe().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async probe(): Promise<ReplicaState> {
    let next: ReplicaState;
    try {
      const { rows } = await this.options.replicaPool.query<{ standby: boolean; lag_ms: number }>(LAG_SQL);
      next = { available: true, lagMs: Math.max(0, Number(rows[0]?.lag_ms ?? Infinity)), at: Date.now() };
    } catch {
      next = { available: false, lagMs: Infinity, at: Date.now() };
    }
    this.options.onLag?.(next.available ? next.lagMs : null);
    this.state = next;
    return next;
  }
}
