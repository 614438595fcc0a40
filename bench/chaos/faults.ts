/**
 * The faults of the chaos suite. Each injects its fault and undoes it (restarts what it killed, as a
 * supervisor would), resolving once the undo is done; what it measured on the way (the broker's
 * start time) comes back as details. Targets are the longest time without a 202 the fault may cause.
 */
import type { ChaosStack } from './chaos-stack';
import type { PrivateKafka, PrivatePostgres, PrivateRedis } from './private-infra';

/** What a fault acts on. */
export interface FaultContext {
  stack: ChaosStack;
  kafka: PrivateKafka;
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  /** Seconds the broker stays down. */
  brokerOutageSec: number;
  /** Seconds Redis stays down. */
  redisOutageSec: number;
  /** Seconds a worker stays stopped (SIGSTOP). */
  hangSec: number;
  progress: (msg: string) => void;
}

/** One fault. */
export interface Fault {
  name: string;
  description: string;
  inject: (ctx: FaultContext) => Promise<Record<string, number>>;
  /** The longest time without a 202 this fault may cause, given what inject measured; undefined: no target set. */
  targetUnavailabilityMs?: (details: Record<string, number>, ctx: FaultContext) => number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** kill -9 of one service and its restart; the restart's duration comes back as restartMs. */
function killAndRestart(service: 'scheduler-a' | 'worker-1' | 'edge-1'): Fault['inject'] {
  return async ({ stack }) => {
    await stack.kill(service);
    return { restartMs: await stack.start(service) };
  };
}

/** Every fault, in the order the suite injects them. */
export const FAULTS: readonly Fault[] = [
  {
    name: 'scheduler-kill',
    description: 'kill -9 of scheduler replica a (replica b serves on), then its restart',
    inject: killAndRestart('scheduler-a'),
    targetUnavailabilityMs: () => 2_000,
  },
  {
    name: 'worker-kill',
    description: 'kill -9 of worker-1 (worker-2 serves on), then its restart',
    inject: killAndRestart('worker-1'),
    targetUnavailabilityMs: () => 2_000,
  },
  {
    name: 'broker-kill',
    description: 'kill -9 of the Kafka broker, down for the outage, then restarted',
    inject: async ({ kafka, brokerOutageSec, progress }) => {
      const killedAt = Date.now();
      await kafka.kill();
      progress(`broker killed; restarting in ${brokerOutageSec} s`);
      await sleep(Math.max(0, killedAt + brokerOutageSec * 1_000 - Date.now()));
      const outageMs = Date.now() - killedAt;
      const { brokerStartMs, commandMs } = await kafka.start();
      progress(`broker ready ${(brokerStartMs / 1000).toFixed(1)} s after its JVM started (${(commandMs / 1000).toFixed(1)} s after the start command)`);
      return { outageMs, brokerStartMs, startCommandMs: commandMs };
    },
    // The target: the outage, the broker's start, and 2 s for the edge to notice. The start
    // counted is the whole start command's: the broker is not back for clients before it returns.
    targetUnavailabilityMs: (d) => (d['outageMs'] ?? 0) + (d['startCommandMs'] ?? 0) + 2_000,
  },
  {
    name: 'edge-kill',
    description: 'kill -9 of edge-1 behind the client-side balancer (edge-2 serves on), then its restart',
    inject: killAndRestart('edge-1'),
    targetUnavailabilityMs: () => 2_000,
  },
  {
    name: 'worker-hang',
    description: 'SIGSTOP of worker-1 (its connections stay open, it answers nothing), SIGCONT after the hang',
    inject: async ({ stack, hangSec }) => {
      stack.signal('worker-1', 'SIGSTOP');
      await sleep(hangSec * 1_000);
      stack.signal('worker-1', 'SIGCONT');
      return { hangMs: hangSec * 1_000 };
    },
    targetUnavailabilityMs: () => 2_000,
  },
  {
    name: 'redis-down',
    description: "kill -9 of the edges' Redis, down for the outage, then restarted empty (no persistence)",
    inject: async ({ redis, redisOutageSec }) => {
      await redis.kill();
      await sleep(redisOutageSec * 1_000);
      await redis.start();
      return { outageMs: redisOutageSec * 1_000 };
    },
    // The edge falls back to per-replica limits and to PostgreSQL for Idempotency-Keys: no gap.
    targetUnavailabilityMs: () => 2_000,
  },
  {
    name: 'postgres-restart',
    description: 'immediate shutdown of PostgreSQL (no checkpoint, like a crash), crash recovery and restart',
    inject: async ({ postgres }) => {
      const started = Date.now();
      await postgres.restart();
      return { restartMs: Date.now() - started };
    },
  },
];
