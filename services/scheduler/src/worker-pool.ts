import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import {
  clientCredentials,
  loadWorkerProto,
  type AssignmentCarrier,
  type JobAssignment,
  type RunRequest,
  type RunResponse__Output,
  type TransportSecurity,
  type WorkerClient,
} from '@fairway/grpc';

/** A job to run on a worker: its attempt, and its tenant and trace as the stream carries them. */
export interface WorkerJob {
  jobId: string;
  type: string;
  paramsJson: string;
  attempt: number;
  carrier: AssignmentCarrier;
}

/** What a worker answered for a successful attempt. */
export interface WorkerResult {
  /** The job's result as JSON text (stored as is). */
  resultJson: string;
  applied: boolean;
  /** The worker recorded the success in its effect's transaction; nothing is left to record. */
  completed: boolean;
  /** From the assignment's send to its outcome's arrival, in ms: how long the job held its slot. */
  runMs: number;
}

/** An attempt that did not succeed: the worker's Fairway error, or the stream's own failure. */
export class WorkerFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'WorkerFailure';
  }
}

interface Pending {
  /** The attempt sent: a late outcome of an earlier attempt of the same job never settles it. */
  attempt: number;
  resolve: (result: WorkerResult) => void;
  reject: (err: WorkerFailure) => void;
  timer: NodeJS.Timeout;
  link: Link;
  /** performance.now() when the assignment was queued for its message. */
  sentAt: number;
}

interface Waiting {
  job: WorkerJob;
  timeoutMs: number;
  resolve: (result: WorkerResult) => void;
  reject: (err: WorkerFailure) => void;
}

/** One `Worker/Run` stream to one address (several per address spread over its backends). */
interface Link {
  endpoint: Endpoint;
  stream: grpc.ClientDuplexStream<RunRequest, RunResponse__Output> | undefined;
  /** Slots granted and not yet used. */
  credit: number;
  /** What the worker at the other end advertised. */
  capacity: number;
  workerId: string;
  outbox: JobAssignment[];
  flushScheduled: boolean;
  retryMs: number;
}

interface Endpoint {
  address: string;
  client: WorkerClient;
  health: grpc.Client & {
    check?: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => void;
  };
  healthy: boolean;
  links: Link[];
}

interface Pool {
  endpoints: Endpoint[];
  waiting: Waiting[];
}

/** Options of {@link WorkerPools}. */
export interface WorkerPoolsOptions {
  /**
   * Streams per address. An address that resolves to several workers (dns:///workers:7061 behind a
   * Kubernetes headless Service) is spread over them by round_robin, one stream per backend: set this
   * to at least the number of workers behind the address.
   */
  streamsPerAddress?: number;
  /** Called when the capacity the workers advertise changes (a stream opened or closed). */
  onCapacity?: (capacity: WorkerCapacity) => void;
  /** Called when a stream fails, for logs. */
  onStreamError?: (address: string, err: Error) => void;
}

/** The capacity the connected workers advertise: in all, and per pool ('*' for the default pool). */
export interface WorkerCapacity {
  total: number;
  workers: Array<{ workerId: string; address: string; capacity: number; inUse: number }>;
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');
const MAX_RETRY_MS = 2_000;

/**
 * The workers the scheduler runs jobs on, in pools per capacity tier. Each address is reached over
 * long-lived `Worker/Run` streams with credit-based flow control: the worker grants slots, and no
 * stream ever carries more jobs than it was granted. A job for which no worker has a slot waits here
 * (in dispatch order) for the next grant. The jobs of one turn go to a worker in one message.
 *
 * Each endpoint is also checked with the standard gRPC health service: a worker that stops
 * answering SERVING is taken out of rotation until it answers again.
 */
export class WorkerPools {
  private readonly pools = new Map<string, Pool>();
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  /**
   * `pools` maps a tier name (or '*' for every other tier) to worker addresses. With mutual TLS the
   * scheduler presents its certificate and accepts only servers whose certificate says 'worker'.
   */
  constructor(
    pools: Readonly<Record<string, readonly string[]>>,
    security: TransportSecurity,
    private readonly options: WorkerPoolsOptions = {},
  ) {
    const Worker = loadWorkerProto().fairway.worker.v1.Worker;
    const credentials = clientCredentials(security, { expectServer: 'worker' });
    for (const [tier, addresses] of Object.entries(pools)) {
      const endpoints = addresses.map((address) => {
        let endpoint = this.endpoints.get(address);
        if (!endpoint) {
          endpoint = {
            address,
            client: new Worker(address, credentials, {
              // round_robin: each new stream of an address that resolves to many workers goes to the next one.
              'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
              'grpc.keepalive_time_ms': 10_000,
              'grpc.keepalive_timeout_ms': 5_000,
            }),
            health: new HealthClient(address, credentials),
            healthy: true,
            links: [],
          };
          this.endpoints.set(address, endpoint);
        }
        return endpoint;
      });
      this.pools.set(tier, { endpoints, waiting: [] });
    }
  }

  /** Opens the streams to every worker (each reconnects by itself when it fails). */
  start(): void {
    const streams = Math.max(1, this.options.streamsPerAddress ?? 1);
    for (const endpoint of this.endpoints.values()) {
      for (let i = 0; i < streams; i += 1) {
        const link: Link = { endpoint, stream: undefined, credit: 0, capacity: 0, workerId: '', outbox: [], flushScheduled: false, retryMs: 100 };
        endpoint.links.push(link);
        this.open(link);
      }
    }
  }

  /**
   * The capacity the connected workers advertise. A worker reached over several streams (several
   * per address, or one address listed in several pools) counts once: it grants each stream its
   * whole capacity and shares its slots among them.
   */
  capacity(): WorkerCapacity {
    const byWorker = new Map<string, WorkerCapacity['workers'][number]>();
    for (const endpoint of this.endpoints.values()) {
      for (const link of endpoint.links) {
        if (!link.stream || link.capacity === 0) continue;
        const key = link.workerId || `${endpoint.address}#${endpoint.links.indexOf(link)}`;
        const seen = byWorker.get(key);
        const inUse = link.capacity - link.credit;
        if (seen) seen.inUse = Math.min(seen.capacity, seen.inUse + inUse);
        else byWorker.set(key, { workerId: link.workerId, address: endpoint.address, capacity: link.capacity, inUse });
      }
    }
    const workers = [...byWorker.values()];
    return { total: workers.reduce((sum, w) => sum + w.capacity, 0), workers };
  }

  /** Checks every endpoint once; returns the addresses now out of rotation. */
  async checkHealth(timeoutMs = 1_000): Promise<string[]> {
    await Promise.all(
      [...this.endpoints.values()].map(
        (endpoint) =>
          new Promise<void>((resolve) => {
            endpoint.health.check?.({ service: '' }, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
              const healthy = !err && res?.status === 'SERVING';
              const back = healthy && !endpoint.healthy;
              endpoint.healthy = healthy;
              if (back) this.drainAll();
              resolve();
            });
          }),
      ),
    );
    return [...this.endpoints.values()].filter((e) => !e.healthy).map((e) => e.address);
  }

  /**
   * Runs one attempt on a worker of `tier`'s pool that has a slot, or waits for one. Rejects with a
   * WorkerFailure: the worker's error, `WORKER_UNAVAILABLE` when the stream broke, or
   * `DEADLINE_EXCEEDED` after `timeoutMs` (both retriable).
   */
  execute(tier: string, job: WorkerJob, timeoutMs: number): Promise<WorkerResult> {
    const pool = this.pools.get(tier) ?? this.pools.get('*');
    if (!pool || pool.endpoints.length === 0)
      return Promise.reject(new WorkerFailure('NO_WORKER_POOL', `no worker pool for tier '${tier}'; set WORKER_POOLS`, false));
    if (this.closed) return Promise.reject(new WorkerFailure('WORKER_UNAVAILABLE', 'the scheduler is shutting down', true));
    return new Promise<WorkerResult>((resolve, reject) => {
      const link = this.pick(pool);
      if (link) this.send(link, job, timeoutMs, resolve, reject);
      else pool.waiting.push({ job, timeoutMs, resolve, reject });
    });
  }

  /** Closes every stream; attempts still out are reported WORKER_UNAVAILABLE. */
  close(): void {
    this.closed = true;
    for (const endpoint of this.endpoints.values()) {
      for (const link of endpoint.links) link.stream?.end();
      endpoint.client.close();
      endpoint.health.close();
    }
    for (const pool of this.pools.values()) {
      for (const w of pool.waiting.splice(0)) w.reject(new WorkerFailure('WORKER_UNAVAILABLE', 'the scheduler is shutting down', true));
    }
  }

  /**
   * The link this turn's jobs already go to while it has credit, else the one with the most credit
   * among the pool's live, healthy endpoints. Filling one link before the next keeps a turn's jobs
   * in one message: each message (and each of the worker's turns, its commit and its answer) costs
   * about as much as the no-op jobs it carries, and spreading a turn's jobs over every worker
   * split the pipeline into many small waves that never merged again (bench:dispatch at 24
   * slots on two workers: 5.2 jobs a message spread, 11.8 kept whole).
   */
  private pick(pool: Pool): Link | undefined {
    let best: Link | undefined;
    for (const endpoint of pool.endpoints) {
      if (!endpoint.healthy) continue;
      for (const link of endpoint.links) {
        if (!link.stream || link.credit <= 0) continue;
        if (link.outbox.length > 0) return link;
        if (!best || link.credit > best.credit) best = link;
      }
    }
    return best;
  }

  private send(link: Link, job: WorkerJob, timeoutMs: number, resolve: (r: WorkerResult) => void, reject: (e: WorkerFailure) => void): void {
    link.credit -= 1;
    const timer = setTimeout(() => {
      if (this.pending.get(job.jobId)?.timer !== timer) return;
      this.pending.delete(job.jobId);
      // The slot stays taken until the worker says the attempt ended.
      reject(
        new WorkerFailure(
          'DEADLINE_EXCEEDED',
          `worker ${link.workerId || link.endpoint.address} did not answer for job ${job.jobId} within ${timeoutMs} ms`,
          true,
        ),
      );
    }, timeoutMs);
    timer.unref();
    this.pending.set(job.jobId, { attempt: job.attempt, resolve, reject, timer, link, sentAt: performance.now() });
    const { carrier } = job;
    link.outbox.push({
      jobId: job.jobId,
      type: job.type,
      paramsJson: job.paramsJson,
      attempt: job.attempt,
      tenantId: carrier.tenantId,
      traceparent: carrier.traceparent,
      tracestate: carrier.tracestate,
      baggage: carrier.baggage,
      timeoutMs,
    });
    if (!link.flushScheduled) {
      link.flushScheduled = true;
      // Every job this turn sends to the worker goes in one message.
      setImmediate(() => this.flush(link));
    }
  }

  private flush(link: Link): void {
    link.flushScheduled = false;
    if (link.outbox.length === 0) return;
    const jobs = link.outbox;
    link.outbox = [];
    if (!link.stream) {
      for (const job of jobs)
        this.fail(
          job.jobId as string,
          new WorkerFailure('WORKER_UNAVAILABLE', `the stream to ${link.endpoint.address} closed before job ${job.jobId} was sent`, true),
        );
      return;
    }
    link.stream.write({ jobs });
  }

  private open(link: Link): void {
    if (this.closed) return;
    const stream = link.endpoint.client.run();
    link.stream = stream;
    stream.on('data', (message: RunResponse__Output) => {
      const announced = message.capacity > 0;
      if (announced) {
        link.capacity = message.capacity;
        link.workerId = message.workerId;
        link.retryMs = 100;
      }
      for (const outcome of message.outcomes) {
        const pending = this.pending.get(outcome.jobId);
        if (!pending || pending.link !== link || pending.attempt !== outcome.attempt) continue;
        this.pending.delete(outcome.jobId);
        clearTimeout(pending.timer);
        if (outcome.error) pending.reject(new WorkerFailure(outcome.error.code, outcome.error.message, outcome.error.retriable));
        else
          pending.resolve({
            resultJson: outcome.resultJson || '{}',
            applied: outcome.applied,
            completed: outcome.completed,
            runMs: performance.now() - pending.sentAt,
          });
      }
      if (message.grant > 0) link.credit += message.grant;
      // After the grant: the first message's slots are free, not in use.
      if (announced) this.options.onCapacity?.(this.capacity());
      if (message.grant > 0) this.drain(link);
    });
    let ended = false;
    const broken = (err?: Error) => {
      if (ended) return;
      ended = true;
      if (link.stream === stream) link.stream = undefined;
      const hadCapacity = link.capacity > 0;
      link.credit = 0;
      link.capacity = 0;
      if (err && !this.closed) this.options.onStreamError?.(link.endpoint.address, err);
      for (const [jobId, pending] of this.pending) {
        if (pending.link !== link) continue;
        this.pending.delete(jobId);
        clearTimeout(pending.timer);
        pending.reject(
          new WorkerFailure('WORKER_UNAVAILABLE', `the stream to worker ${link.workerId || link.endpoint.address} broke: ${err?.message ?? 'closed'}`, true),
        );
      }
      if (hadCapacity) this.options.onCapacity?.(this.capacity());
      if (this.closed) return;
      const delay = link.retryMs;
      link.retryMs = Math.min(MAX_RETRY_MS, link.retryMs * 2);
      setTimeout(() => this.open(link), delay).unref();
    };
    stream.on('error', (err: Error) => broken(err));
    stream.on('end', () => broken());
  }

  private fail(jobId: string, err: WorkerFailure): void {
    const pending = this.pending.get(jobId);
    if (!pending) return;
    this.pending.delete(jobId);
    clearTimeout(pending.timer);
    pending.reject(err);
  }

  /** Sends waiting jobs of the pools `link` serves while it has credit. */
  private drain(link: Link): void {
    for (const pool of this.pools.values()) {
      if (pool.waiting.length === 0 || !pool.endpoints.includes(link.endpoint)) continue;
      while (pool.waiting.length > 0) {
        const next = this.pick(pool);
        if (!next) break;
        const w = pool.waiting.shift() as Waiting;
        this.send(next, w.job, w.timeoutMs, w.resolve, w.reject);
      }
    }
  }

  private drainAll(): void {
    for (const endpoint of this.endpoints.values()) for (const link of endpoint.links) if (link.credit > 0) this.drain(link);
  }
}

/**
 * Parses WORKER_POOLS: `heavy=h1:7062;standard|interactive=h2:7061,h3:7061` (tiers separated by
 * `|`, pools by `;`), falling back to WORKER_ADDRESSES for every tier ('*').
 */
export function parseWorkerPools(spec: string | undefined, fallback: readonly string[]): Record<string, string[]> {
  const pools: Record<string, string[]> = { '*': [...fallback] };
  for (const part of (spec ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [tiers, addresses] = part.split('=');
    if (!tiers || !addresses) throw new Error(`WORKER_POOLS: '${part}' is not <tier>[|<tier>]=<host:port>[,<host:port>]`);
    for (const tier of tiers.split('|'))
      pools[tier.trim()] = addresses
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean);
  }
  return pools;
}
