/**
 * CPU time of groups of processes over a window, from /proc/<pid>/stat (utime + stime, every thread
 * of the process). Linux only; reading another user's /proc entries needs root or the same user.
 *
 * Processes that come and go inside the window (a PostgreSQL backend per new pool connection) are
 * polled every `intervalMs`: a process born in the window counts from zero, one that exits counts up
 * to its last poll, so at most one interval of a vanished process is missed.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A process as the groups see it: its pid, its `comm` and its command line (process title). */
export interface ProcessInfo {
  pid: number;
  comm: string;
  title: string;
}

/** Decides which group a process belongs to; undefined means none. */
export type ProcessClassifier = (proc: ProcessInfo) => string | undefined;

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

interface Tracked {
  group: string;
  /** Field 22 of stat: a reused pid has another start time and is a new process. */
  startTime: string;
  firstTicks: number;
  lastTicks: number;
}

function readStat(pid: number): { ticks: number; startTime: string; comm: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may hold spaces: the fields after it start at the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // After comm: state(3) ... utime(14) stime(15) ... starttime(22), i.e. indexes 11, 12 and 19.
  return { ticks: Number(fields[11]) + Number(fields[12]), startTime: fields[19] ?? '', comm };
}

function readTitle(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** Milliseconds of CPU (user + system) a process has used so far; 0 when it is gone. */
export function processCpuMs(pid: number): number {
  const stat = readStat(pid);
  return stat ? (stat.ticks * 1000) / TICKS_PER_SECOND : 0;
}

/**
 * Samples the CPU of process groups over a window: `start()`, the work, `stop()` returns CPU ms per
 * group. `comms` limits the scan to processes of those names (cheap: the command line is read only
 * for them), and `pids` names processes by pid whatever their name.
 */
export class ProcessCpuSampler {
  private readonly tracked = new Map<number, Tracked>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: { comms: readonly string[]; classify: ProcessClassifier; pids?: Record<number, string>; intervalMs?: number }) {}

  start(): void {
    this.tracked.clear();
    this.poll(true);
    this.timer = setInterval(() => this.poll(false), this.options.intervalMs ?? 500);
    this.timer.unref();
  }

  /** Stops polling; CPU ms of each group over the window. */
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.poll(false);
    const totals: Record<string, number> = {};
    for (const entry of this.tracked.values()) {
      totals[entry.group] = (totals[entry.group] ?? 0) + ((entry.lastTicks - entry.firstTicks) * 1000) / TICKS_PER_SECOND;
    }
    return totals;
  }

  private poll(initial: boolean): void {
    const wanted = new Set(this.options.comms);
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      const stat = readStat(pid);
      if (!stat) continue;
      const known = this.tracked.get(pid);
      if (known && known.startTime === stat.startTime) {
        known.lastTicks = stat.ticks;
        continue;
      }
      const byPid = this.options.pids?.[pid];
      const group = byPid ?? (wanted.has(stat.comm) ? this.options.classify({ pid, comm: stat.comm, title: readTitle(pid) }) : undefined);
      if (group === undefined) continue;
      // A process seen at the start counts from there; one born later counts from zero.
      this.tracked.set(pid, { group, startTime: stat.startTime, firstTicks: initial ? stat.ticks : 0, lastTicks: stat.ticks });
    }
  }
}

/**
 * Sorts the system PostgreSQL server's processes: `postgres` (client backends connected to one of
 * `databases`, plus the server's own processes, the postmaster, WAL writer, checkpointer and
 * autovacuum, which every database shares) and `postgresOther` (backends of other databases: other
 * people's sessions on the same server). Uses the process title PostgreSQL sets
 * (`postgres: 15/main: user database host(port) state`).
 */
export function postgresClassifier(databases: readonly string[]): ProcessClassifier {
  const mine = new Set(databases);
  return ({ comm, title }) => {
    if (comm !== 'postgres') return undefined;
    const backend = /^postgres: (?:[^:]+: )?(\S+) (\S+) (?:\S+\(\d+\)|\[local\])/.exec(title);
    if (!backend) return 'postgres';
    return mine.has(backend[2] ?? '') ? 'postgres' : 'postgresOther';
  };
}
