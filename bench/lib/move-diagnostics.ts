/**
 * What a benchmark's sessions wait on, phase by phase (bench:move --diagnose): PostgreSQL's own
 * account of every non-idle session of the benchmark's databases (pg_stat_activity's state and wait
 * event, polled), the CPU of each group of sessions and of the benchmark's Node process
 * (/proc/<pid>/stat), the machine's CPU split (/proc/stat: user, system, I/O wait, idle) and the
 * Node event loop's lag (a 10-ms timer's lateness: a writer's latency includes it).
 *
 * Labels are set with mark(): each sample counts for the label current when it was taken.
 */
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';
import { processCpuMs } from './process-cpu';

/** One label's account. */
export interface PhaseDiagnosis {
  seconds: number;
  /** Polls of pg_stat_activity in the phase. */
  polls: number;
  /**
   * For each session group (application_name, or the backend type of the server's own processes):
   * how many polls found one of its sessions in each `state wait_type:wait_event` (CPU when no
   * wait event: running or ready to run), per 100 polls.
   */
  sessions: Record<string, Record<string, number>>;
  /** CPU per group, in cores (CPU ms per ms of the phase). */
  cpuCores: Record<string, number>;
  /**
   * Time the group's processes spent runnable but waiting for a core (/proc/<pid>/schedstat's run
   * queue delay), ms per second of the phase, summed over the group: what CPU contention costs it.
   * The bench's Node process counts its main thread (the event loop the writers run on).
   */
  runQueueMsPerS: Record<string, number>;
  /** The machine's CPU time split, % of all cores. */
  machine: { userPct: number; systemPct: number; ioWaitPct: number; idlePct: number } | null;
  /** The Node event loop's lateness, ms: p50 / p99 / max of a 10-ms timer. */
  eventLoopLagMs: { p50: number; p99: number; max: number };
}

function machineTicks(): number[] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  return line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((v) => Number(v));
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/** CPU time and run-queue delay of a process so far, ms (0 when it is gone). */
function schedMs(pid: number | 'self'): { cpu: number; queued: number } {
  try {
    const [cpu, queued] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { cpu: (cpu ?? 0) / 1e6, queued: (queued ?? 0) / 1e6 };
  } catch {
    return { cpu: 0, queued: 0 };
  }
}

interface Mark {
  label: string;
  at: number;
  cpu: Map<number, number>;
  queued: Map<number, number>;
  nodeCpuMs: number;
  nodeQueuedMs: number;
  machine: number[];
}

/** Polls the sessions of databases named `<prefix>%` (and the server's WAL writer, checkpointer, background writer). */
export class ServerWaitSampler {
  private readonly marks: Mark[] = [];
  private readonly groups = new Map<number, string>();
  private readonly counts = new Map<string, Map<string, Map<string, number>>>();
  private readonly polls = new Map<string, number>();
  private readonly lags: Array<[string, number]> = [];
  private label = '';
  private timer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Processes that are not sessions of the server (the move's runner): pid -> group. */
  private readonly extra = new Map<number, string>();

  constructor(
    private readonly client: Client,
    private readonly databasePrefix: string,
    private readonly intervalMs = 20,
  ) {}

  start(label: string): void {
    this.mark(label);
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    let expected = performance.now() + 10;
    const lag = () => {
      const now = performance.now();
      this.lags.push([this.label, Math.max(0, now - expected)]);
      expected = now + 10;
      this.lagTimer = setTimeout(lag, 10);
    };
    this.lagTimer = setTimeout(lag, 10);
  }

  /** Counts the CPU and run-queue delay of process `pid` (not a session of the server) as `group`. */
  addProcess(pid: number, group: string): void {
    this.groups.set(pid, group);
    this.extra.set(pid, group);
    const current = this.marks[this.marks.length - 1];
    current?.cpu.set(pid, processCpuMs(pid));
    current?.queued.set(pid, schedMs(pid).queued);
  }

  /** From now on, samples count for `label` (a label marked again adds the new stretch to its account). */
  mark(label: string): void {
    if (label === this.label) return;
    const cpu = new Map<number, number>();
    const queued = new Map<number, number>();
    for (const pid of this.groups.keys()) {
      cpu.set(pid, processCpuMs(pid));
      queued.set(pid, schedMs(pid).queued);
    }
    this.marks.push({
      label,
      at: performance.now(),
      cpu,
      queued,
      nodeCpuMs: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000,
      nodeQueuedMs: schedMs('self').queued,
      machine: machineTicks(),
    });
    this.label = label;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { rows } = await this.client.query<{ pid: number; grp: string; state: string | null; wait: string | null }>(
        `SELECT pid, CASE WHEN backend_type = 'client backend' THEN coalesce(nullif(application_name, ''), 'client') ELSE backend_type END AS grp,
                state, CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS wait
           FROM pg_stat_activity
          WHERE pid <> pg_backend_pid()
            AND (datname LIKE $1 OR backend_type IN ('walwriter', 'checkpointer', 'background writer'))`,
        [`${this.databasePrefix}%`],
      );
      const label = this.label;
      this.polls.set(label, (this.polls.get(label) ?? 0) + 1);
      let byGroup = this.counts.get(label);
      if (!byGroup) this.counts.set(label, (byGroup = new Map()));
      for (const row of rows) {
        if (!this.groups.has(row.pid)) {
          this.groups.set(row.pid, row.grp);
          // A session first seen now counts its CPU from now in the current label.
          const current = this.marks[this.marks.length - 1];
          current?.cpu.set(row.pid, processCpuMs(row.pid));
          current?.queued.set(row.pid, schedMs(row.pid).queued);
        }
        const idleBackground = row.state === null && row.wait !== null;
        if (row.state === 'idle' || idleBackground) continue;
        const key = `${row.state ?? 'running'} ${row.wait ?? 'CPU'}`;
        let states = byGroup.get(row.grp);
        if (!states) byGroup.set(row.grp, (states = new Map()));
        states.set(key, (states.get(key) ?? 0) + 1);
      }
    } catch {
      // A missed poll is a missed sample.
    } finally {
      this.polling = false;
    }
  }

  /** Stops polling and closes the client. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.lagTimer);
    await this.client.end().catch(() => undefined);
  }

  /** Stops and returns each label's account (all its stretches), in the order the labels were first marked. */
  stop(): Record<string, PhaseDiagnosis> {
    clearInterval(this.timer);
    clearTimeout(this.lagTimer);
    this.mark('(end)');
    interface Sum {
      ms: number;
      cpu: Record<string, number>;
      queued: Record<string, number>;
      machine: number[];
    }
    const sums = new Map<string, Sum>();
    for (let i = 0; i + 1 < this.marks.length; i += 1) {
      const from = this.marks[i] as Mark;
      const to = this.marks[i + 1] as Mark;
      let sum = sums.get(from.label);
      if (!sum) sums.set(from.label, (sum = { ms: 0, cpu: {}, queued: {}, machine: [] }));
      sum.ms += to.at - from.at;
      const add = (into: Record<string, number>, group: string, v: number) => (into[group] = (into[group] ?? 0) + Math.max(0, v));
      add(sum.cpu, 'bench node process', to.nodeCpuMs - from.nodeCpuMs);
      add(sum.queued, 'bench node process', to.nodeQueuedMs - from.nodeQueuedMs);
      for (const [pid, first] of from.cpu) {
        const group = this.groups.get(pid) ?? '?';
        add(sum.cpu, group, (to.cpu.get(pid) ?? first) - first);
        const q = from.queued.get(pid) ?? 0;
        add(sum.queued, group, (to.queued.get(pid) ?? q) - q);
      }
      to.machine.forEach((v, k) => (sum.machine[k] = (sum.machine[k] ?? 0) + v - (from.machine[k] ?? 0)));
    }
    const out: Record<string, PhaseDiagnosis> = {};
    for (const [label, sum] of sums) {
      const perMs = (values: Record<string, number>, scale: number, digits: number) =>
        Object.fromEntries(Object.entries(values).map(([g, v]) => [g, +((scale * v) / sum.ms).toFixed(digits)]));
      const d = sum.machine;
      const total = d.reduce((a, b) => a + b, 0);
      // /proc/stat: user nice system idle iowait irq softirq steal ...
      const pct = (v: number) => +((100 * v) / total).toFixed(1);
      const machine =
        total > 0
          ? {
              userPct: pct((d[0] ?? 0) + (d[1] ?? 0)),
              systemPct: pct((d[2] ?? 0) + (d[5] ?? 0) + (d[6] ?? 0)),
              ioWaitPct: pct(d[4] ?? 0),
              idlePct: pct(d[3] ?? 0),
            }
          : null;
      const polls = this.polls.get(label) ?? 0;
      const sessions: Record<string, Record<string, number>> = {};
      for (const [group, states] of this.counts.get(label) ?? new Map<string, Map<string, number>>()) {
        sessions[group] = Object.fromEntries(
          [...states.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, polls > 0 ? +((100 * n) / polls).toFixed(1) : 0]),
        );
      }
      const lag = this.lags
        .filter(([l]) => l === label)
        .map(([, v]) => v)
        .sort((a, b) => a - b);
      out[label] = {
        seconds: +(sum.ms / 1000).toFixed(1),
        polls,
        sessions,
        cpuCores: perMs(sum.cpu, 1, 3),
        runQueueMsPerS: perMs(sum.queued, 1000, 1),
        machine,
        eventLoopLagMs: { p50: +quantile(lag, 0.5).toFixed(1), p99: +quantile(lag, 0.99).toFixed(1), max: +(lag[lag.length - 1] ?? 0).toFixed(1) },
      };
    }
    return out;
  }
}
