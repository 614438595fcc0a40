/**
 * Steady load through the edges, as clients behind a load balancer send it: a command every
 * 1/rate seconds, each with an Idempotency-Key, retried with the same key until the edge answers
 * 202 (a client's retry after a 503 cannot create a second job). Requests alternate between the edge
 * replicas; a refused connection goes to the next replica at once, as a load balancer's passive
 * health check does. Every answer is recorded with its time, for the per-fault accounting; a long
 * run that needs only totals (the soak) passes `keepHistory: false` and reads the counters.
 */
import { randomUUID } from 'node:crypto';

/** One answer of an edge (or a transport failure, status 0). */
export interface Answer {
  at: number;
  status: number;
  edge: number;
}

/** One command: its key, and when (if ever) the edge acknowledged it. */
export interface Command {
  key: string;
  tenant: string;
  sentAt: number;
  jobId?: string;
  ackedAt?: number;
  attempts: number;
}

/** Options for {@link SteadyLoad}. */
export interface SteadyLoadOptions {
  edgeUrls: string[];
  /** Bearer token per tenant id. */
  tokens: Map<string, string>;
  commandsPerSec: number;
  /** Synthetic job duration. */
  jobMs: number;
  /** Pause between retries of one command. */
  retryDelayMs?: number;
  /** A single request that takes longer is abandoned (and retried). */
  requestTimeoutMs?: number;
  /**
   * Commands offered and not yet acknowledged, at most: beyond it a tick offers nothing (counted in
   * `notOffered`), as a client pool of that size would. Without a bound, retries pile up on an edge
   * that is slow and the load itself keeps it down.
   */
  maxOutstanding?: number;
  /**
   * Keep every command and every answer in `commands` and `answers` (default true: the fault suite's
   * accounting reads them). False: only the counters (`offered`, `answersByStatus`) are kept, so the
   * generator's memory stays flat over a long run (the soak's 30 minutes are ~110,000 commands).
   */
  keepHistory?: boolean;
}

/** Generates steady load and keeps every command and every answer (or, without history, counts them). */
export class SteadyLoad {
  readonly commands: Command[] = [];
  readonly answers: Answer[] = [];
  /** Commands offered so far (with or without history). */
  offered = 0;
  /** Answers so far by HTTP status (0: a transport failure), with or without history. */
  readonly answersByStatus = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private next = 0;
  private stopping = false;
  /** Ticks that offered no command because `maxOutstanding` were waiting. */
  notOffered = 0;
  private readonly tenants: string[];

  constructor(private readonly options: SteadyLoadOptions) {
    this.tenants = [...options.tokens.keys()];
  }

  start(): void {
    const interval = 1_000 / this.options.commandsPerSec;
    let due = performance.now();
    const tick = () => {
      const now = performance.now();
      // Catch up on ticks a busy event loop delayed, so the offered rate stays the one asked for.
      while (due <= now && !this.stopping) {
        due += interval;
        if (this.inFlight.size >= (this.options.maxOutstanding ?? this.options.commandsPerSec * 5)) {
          this.notOffered += 1;
          continue;
        }
        const command = this.submit();
        this.inFlight.add(command);
        void command.finally(() => this.inFlight.delete(command));
      }
      if (!this.stopping) this.timer = setTimeout(tick, Math.max(0, due - performance.now()));
    };
    tick();
  }

  /** Stops offering new commands and waits until every command in flight was acknowledged (or gave up). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await Promise.all([...this.inFlight]);
  }

  /** Commands offered and not yet acknowledged. */
  get waiting(): number {
    return this.inFlight.size;
  }

  private get keepHistory(): boolean {
    return this.options.keepHistory ?? true;
  }

  private record(answer: Answer): void {
    this.answersByStatus.set(answer.status, (this.answersByStatus.get(answer.status) ?? 0) + 1);
    if (this.keepHistory) this.answers.push(answer);
  }

  private async submit(): Promise<void> {
    const tenant = this.tenants[this.offered % this.tenants.length]!;
    const command: Command = { key: randomUUID(), tenant, sentAt: Date.now(), attempts: 0 };
    this.offered += 1;
    if (this.keepHistory) this.commands.push(command);
    const body = JSON.stringify({ type: 'synthetic', params: { ms: this.options.jobMs } });
    const giveUpAt = Date.now() + 120_000;
    let transportFailures = 0;
    while (Date.now() < giveUpAt) {
      const edge = this.next++ % this.options.edgeUrls.length;
      command.attempts += 1;
      let status = 0;
      let retryAfterMs = 0;
      try {
        const res = await fetch(`${this.options.edgeUrls[edge]}/v1/jobs`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.options.tokens.get(tenant)}`,
            'content-type': 'application/json',
            'idempotency-key': command.key,
          },
          body,
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
        });
        status = res.status;
        retryAfterMs = Number(res.headers.get('retry-after') ?? 0) * 1_000;
        const answer = (await res.json().catch(() => ({}))) as { id?: string };
        this.record({ at: Date.now(), status, edge });
        if (status === 202) {
          command.ackedAt = Date.now();
          command.jobId = answer.id;
          return;
        }
      } catch {
        // Refused connection, reset or timeout: recorded as status 0; the next replica is tried at
        // once, and only after every replica failed in a row does the client pause.
        this.record({ at: Date.now(), status: 0, edge });
        transportFailures += 1;
        if (transportFailures % this.options.edgeUrls.length !== 0) continue;
        await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 200));
        continue;
      }
      transportFailures = 0;
      // A refusal that a retry cannot change (400, 401, 422...) ends the command unacknowledged.
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) return;
      // As a well-behaved client: no sooner than Retry-After says (capped at 2 s, so the suite
      // still sees the moment the edge accepts again).
      await new Promise((resolve) => setTimeout(resolve, Math.max(this.options.retryDelayMs ?? 200, Math.min(retryAfterMs, 2_000))));
    }
  }
}
