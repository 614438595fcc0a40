import { runTenantMove, staleMoves, takeOverMove, type RunMoveOptions, type TenantMoveDeps, type TenantMoveStatus } from './tenant-move';

/** Options of a {@link MoveSweeper}. */
export interface MoveSweeperOptions {
  /** A move whose heartbeat is older than this is taken over (default 30 s). */
  staleAfterMs?: number;
  /** How often stale moves are looked for (default 5 s). */
  intervalMs?: number;
  /** Passed to every run (batch size, heartbeat...). */
  run?: Omit<RunMoveOptions, 'signal'>;
  onFinished?: (status: TenantMoveStatus) => void;
  onError?: (err: Error, moveId: string) => void;
}

/**
 * Runs moves in this process, and resumes those whose runner died: every `intervalMs` it looks for
 * running moves with a stale heartbeat, claims each with a new run id (one replica wins the claim)
 * and runs it from its recorded phase. Every control-plane replica runs one; `stop()` aborts this
 * replica's runs at their next step, leaving them to another replica (or the next start).
 */
export class MoveSweeper {
  private readonly abort = new AbortController();
  private readonly running = new Map<string, { runId: string; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: TenantMoveDeps,
    private readonly options: MoveSweeperOptions = {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.options.intervalMs ?? 5_000);
    this.timer.unref();
  }

  /**
   * Runs `moveId` as `runId` in the background (after startTenantMove, a takeover or a rollback
   * request). A new run id for a move this replica runs already (a rollback requested during the
   * grace period) starts once the current runner left, which it does at its next step since it no
   * longer owns the move; without this the rollback waited for a stale-heartbeat takeover.
   */
  run(moveId: string, runId: string): void {
    const current = this.running.get(moveId);
    if (current?.runId === runId || this.abort.signal.aborted) return;
    const done: Promise<void> = (current?.done ?? Promise.resolve())
      .then(() => runTenantMove(this.deps, moveId, runId, { ...this.options.run, signal: this.abort.signal }))
      .then((status) => {
        if (status.state !== 'running') this.options.onFinished?.(status);
      })
      .catch((err: Error) => this.options.onError?.(err, moveId))
      .finally(() => {
        if (this.running.get(moveId)?.done === done) this.running.delete(moveId);
      });
    this.running.set(moveId, { runId, done });
  }

  /** One look for stale moves; claims and runs each it wins. */
  async sweep(): Promise<void> {
    try {
      const staleAfterMs = this.options.staleAfterMs ?? 30_000;
      for (const move of await staleMoves(this.deps.ownerPool, staleAfterMs)) {
        if (this.running.has(move.id)) continue;
        const runId = await takeOverMove(this.deps.ownerPool, move.id, staleAfterMs);
        if (runId) this.run(move.id, runId);
      }
    } catch (err) {
      this.options.onError?.(err as Error, '*');
    }
  }

  /** Moves this replica is running now. */
  active(): string[] {
    return [...this.running.keys()];
  }

  /** Stops sweeping and stops this replica's runs at their next step; waits for them to leave. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }
}
