import { IndexedHeap } from '../internal/indexed-heap';
import type { HeapItem } from '../internal/indexed-heap';
import type { SchedulingPolicy } from './policy';
import type { TraceJob } from './trace';

/** One line of SCHEDULE.jsonl plus what the metrics need. */
export interface ScheduledJob {
  readonly id: string;
  readonly tenant: string;
  readonly jobClass: string;
  /** Tier whose slot the job held. */
  readonly tier: string;
  readonly arrival: number;
  readonly start: number;
  readonly finish: number;
  readonly cost: number;
}

/** Hooks for tests: observe every decision and the state after each event instant. */
export interface SimulationObserver {
  onDispatch?(job: TraceJob, tier: string, now: number): void;
  onComplete?(job: TraceJob, now: number): void;
  /** Called once per event instant, after all completions, arrivals and decisions at `now`. */
  afterInstant?(now: number): void;
}

class Running implements HeapItem {
  heapIndex = -1;
  constructor(
    readonly job: TraceJob,
    readonly tier: string,
    readonly start: number,
    readonly finish: number,
    readonly seq: number,
  ) {}
}

/** Result of a run: every job's schedule, in completion order, and any job that never ran. */
export interface SimulationResult {
  readonly schedule: ScheduledJob[];
  readonly neverRan: TraceJob[];
}

/**
 * Runs `trace` through `policy` in virtual time (discrete-event simulation, no sleeping). At each
 * event instant: completions first (they free slots), then arrivals, then decisions until the
 * policy has none. The next instant is the earliest of next arrival, next completion and the
 * policy's token wake-up.
 */
export function runSimulation(trace: readonly TraceJob[], policy: SchedulingPolicy, observer: SimulationObserver = {}): SimulationResult {
  const arrivals = trace
    .map((job, index) => ({ job, index }))
    .sort((a, b) => a.job.t - b.job.t || a.index - b.index)
    .map(({ job }) => job);
  const running = new IndexedHeap<Running>((a, b) => (a.finish !== b.finish ? a.finish < b.finish : a.seq < b.seq));
  const schedule: ScheduledJob[] = [];
  const started = new Set<string>();
  let next = 0;
  let seq = 0;
  let now = 0;
  for (;;) {
    const arrivalAt = next < arrivals.length ? (arrivals[next] as TraceJob).t : Infinity;
    const completionAt = running.peek()?.finish ?? Infinity;
    const wakeAt = policy.nextWakeAt(now) ?? Infinity;
    const at = Math.min(arrivalAt, completionAt, wakeAt > now ? wakeAt : Infinity);
    if (at === Infinity) break;
    now = Math.max(now, at);
    for (let top = running.peek(); top !== undefined && top.finish <= now; top = running.peek()) {
      running.pop();
      policy.complete(top.job, now);
      observer.onComplete?.(top.job, now);
      schedule.push({
        id: top.job.id,
        tenant: top.job.tenant,
        jobClass: top.job.jobClass,
        tier: top.tier,
        arrival: top.job.t,
        start: top.start,
        finish: top.finish,
        cost: top.job.cost,
      });
    }
    for (; next < arrivals.length && (arrivals[next] as TraceJob).t <= now; next++) {
      policy.enqueue(arrivals[next] as TraceJob, now);
    }
    for (let decision = policy.dispatchNext(now); decision !== undefined; decision = policy.dispatchNext(now)) {
      started.add(decision.job.id);
      observer.onDispatch?.(decision.job, decision.tier, now);
      running.push(new Running(decision.job, decision.tier, now, now + decision.job.cost, seq++));
    }
    observer.afterInstant?.(now);
  }
  return { schedule, neverRan: trace.filter((job) => !started.has(job.id)) };
}
