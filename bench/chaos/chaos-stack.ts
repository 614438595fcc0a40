/**
 * The services of the chaos suite's stack, started with the same launcher as `npm run up` and the
 * end-to-end tests (scripts/lib/services.cjs): a control plane, two workers, two scheduler replicas
 * and two edge replicas, on the suite's own Kafka, PostgreSQL and Redis.
 */
import type { ChildProcess } from 'node:child_process';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
const { startService, stopService, stackDefinition, freePort } = require('../../scripts/lib/services.cjs') as {
  startService: (
    definition: ServiceDefinition,
    options?: { timeoutMs?: number; onLine?: (line: string, name: string, raw: string) => void },
  ) => Promise<ServiceHandle>;
  stopService: (handle: ServiceHandle, graceMs?: number) => Promise<void>;
  stackDefinition: (infra: object, options: { ports: Record<string, number>; env?: Record<string, string> }) => ServiceDefinition[];
  freePort: () => Promise<number>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

interface ServiceDefinition {
  name: string;
  entry: string;
  env: Record<string, string>;
  nodeArgs?: string[];
}

/** A running service process. */
export interface ServiceHandle {
  name: string;
  child: ChildProcess;
  lines: string[];
}

/** What the services need of the infrastructure (ensureInfra's answer). */
export interface StackInfra {
  brokers: string;
  urls: { owner: string; app: string; scheduler: string };
  topicPrefix: string;
  redisUrl: string;
}

/** The processes the suite may kill, in start order. */
export const SERVICE_NAMES = ['control-plane', 'worker-1', 'worker-2', 'scheduler-a', 'scheduler-b', 'edge-1', 'edge-2'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** A stack whose processes can be killed, hung and restarted by name. */
export class ChaosStack {
  private readonly definitions = new Map<ServiceName, ServiceDefinition>();
  private readonly handles = new Map<ServiceName, ServiceHandle>();
  readonly edgeUrls: string[] = [];

  private constructor(private readonly onLine: (line: string, name: string) => void) {}

  /**
   * Starts every service. `env` goes to every service (scheduler timings, plan limits).
   * `onLine` sees each output line of each process (the suite keeps the edges' for diagnosis).
   */
  static async start(infra: StackInfra, env: Record<string, string>, onLine: (line: string, name: string) => void): Promise<ChaosStack> {
    const stack = new ChaosStack(onLine);
    const ports: Record<string, number> = {};
    for (const name of ['admin', 'control-plane', 'scheduler-admin', 'worker-1', 'worker-2', 'edge']) ports[name] = await freePort();
    const templates = new Map(stackDefinition(infra, { ports, env }).map((d) => [d.name, d]));
    const template = (name: string): ServiceDefinition => {
      const found = templates.get(name);
      if (!found) throw new Error(`scripts/lib/services.cjs defines no ${name}`);
      return found;
    };
    stack.definitions.set('control-plane', template('control-plane'));
    stack.definitions.set('worker-1', template('worker-1'));
    stack.definitions.set('worker-2', template('worker-2'));
    for (const replica of ['scheduler-a', 'scheduler-b'] as const) {
      const base = template('scheduler');
      // Replica a serves the SchedulerAdmin port the control plane calls; b its own.
      const adminPort = replica === 'scheduler-a' ? ports['scheduler-admin']! : await freePort();
      stack.definitions.set(replica, { ...base, name: replica, env: { ...base.env, REPLICA_ID: replica, SCHEDULER_ADMIN_PORT: String(adminPort) } });
    }
    for (const replica of ['edge-1', 'edge-2'] as const) {
      const base = template('edge');
      const port = replica === 'edge-1' ? ports['edge']! : await freePort();
      stack.definitions.set(replica, { ...base, name: replica, env: { ...base.env, EDGE_PORT: String(port) } });
      stack.edgeUrls.push(`http://127.0.0.1:${port}`);
    }
    try {
      // In dependency order, the replicas of a step together: the control plane (the workers'
      // KeyService), the workers, the schedulers (which call the workers), the edges.
      const steps: ServiceName[][] = [['control-plane'], ['worker-1', 'worker-2'], ['scheduler-a', 'scheduler-b'], ['edge-1', 'edge-2']];
      for (const step of steps) {
        const started = await Promise.allSettled(step.map((name) => stack.start(name)));
        const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  /** Starts (or restarts) `name`; resolves once it logged "ready". Returns the milliseconds it took. */
  async start(name: ServiceName): Promise<number> {
    const definition = this.definitions.get(name);
    if (!definition) throw new Error(`no service ${name}`);
    const started = Date.now();
    const handle = await startService(definition, { timeoutMs: 90_000, onLine: (_line, service, raw) => this.onLine(raw, service) });
    this.handles.set(name, handle);
    return Date.now() - started;
  }

  /** The process id of service `name` while it runs (the soak samples its RSS). */
  pid(name: ServiceName): number | undefined {
    return this.running(name)?.pid;
  }

  private running(name: ServiceName): ChildProcess | undefined {
    const child = this.handles.get(name)?.child;
    return child && child.exitCode === null && child.signalCode === null ? child : undefined;
  }

  /** kill -9: no shutdown hook runs. Resolves once the process is gone. */
  async kill(name: ServiceName): Promise<void> {
    const child = this.running(name);
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** SIGSTOP (`hang: true`) or SIGCONT: the process stays, its sockets stay open, it answers nothing. */
  signal(name: ServiceName, signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.running(name)?.kill(signal);
  }

  /** Stops every service (a stopped one is continued first, so SIGTERM can reach it). */
  async stop(): Promise<void> {
    const handles = [...this.handles.values()].reverse();
    for (const handle of handles) if (handle.child.exitCode === null) handle.child.kill('SIGCONT');
    await Promise.all(handles.map((h) => stopService(h, 5_000)));
  }
}
