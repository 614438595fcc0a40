import { seededRandom } from '@fairway/fair-scheduler/simulation/quota-scenarios';
import type { SimulationConfig, TraceJob } from '@fairway/fair-scheduler/simulation/trace';

/** A fairness benchmark scenario: a trace, its config, and which tenants count as "light". */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly config: SimulationConfig;
  readonly trace: TraceJob[];
  readonly light: ReadonlySet<string>;
  /** Tenants with equal weight that stay backlogged: Jain's index is reported over them. */
  readonly equalWeight: ReadonlySet<string>;
}

/** Small deterministic PRNG (mulberry32) so every run benchmarks the same traces: the simulator's own. */
const prng = seededRandom;

const SLOTS = 8;

function job(id: string, t: number, tenant: string, cost: number, jobClass = 'default'): TraceJob {
  return { id, t, tenant, jobClass, cost, estimate: cost, priority: 0 };
}

/** One tenant submits 100x the jobs of nine others, its jobs 10x longer. */
function flood(): Scenario {
  const rnd = prng(1);
  const trace: TraceJob[] = [];
  for (let k = 0; k < 1000; k++) trace.push(job(`flood-${k}`, Math.floor(rnd() * 1000), 'flood', 100));
  const light = new Set<string>();
  for (let i = 0; i < 9; i++) {
    light.add(`light${i}`);
    for (let k = 0; k < 10; k++) trace.push(job(`light${i}-${k}`, Math.floor(rnd() * 12_000), `light${i}`, 10));
  }
  return {
    name: 'flood',
    description: '1 tenant with 1000 jobs of 100 ms vs 9 tenants with 10 jobs of 10 ms, 8 slots',
    config: { tiers: { default: { slots: SLOTS } }, tenants: {}, defaults: {} },
    trace,
    light,
    equalWeight: new Set(),
  };
}

/** Three tenants with weights 1:2:5, all backlogged from t=0. */
function weighted(): Scenario {
  const rnd = prng(2);
  const trace: TraceJob[] = [];
  const weights: Record<string, number> = { w1: 1, w2: 2, w5: 5 };
  for (const [tenant, weight] of Object.entries(weights)) {
    for (let k = 0; k < 400 * weight; k++) trace.push(job(`${tenant}-${k}`, 0, tenant, 5 + Math.floor(rnd() * 46)));
  }
  return {
    name: 'weights-1-2-5',
    description: 'weights 1:2:5, 400 x weight jobs of 5-50 ms each, all queued at t=0, 8 slots',
    config: {
      tiers: { default: { slots: SLOTS } },
      tenants: Object.fromEntries(Object.entries(weights).map(([t, weight]) => [t, { weight }])),
      defaults: {},
    },
    trace,
    light: new Set(Object.keys(weights)),
    equalWeight: new Set(),
  };
}

/** One tenant spreads its backlog over ten job types; four others use one type each. */
function spread(): Scenario {
  const rnd = prng(3);
  const trace: TraceJob[] = [];
  for (let k = 0; k < 1000; k++) trace.push(job(`spread-${k}`, 0, 'spreader', 10 + Math.floor(rnd() * 20), `type${k % 10}`));
  const light = new Set<string>();
  for (let i = 0; i < 4; i++) {
    light.add(`single${i}`);
    for (let k = 0; k < 250; k++) trace.push(job(`single${i}-${k}`, 0, `single${i}`, 10 + Math.floor(rnd() * 20), 'type0'));
  }
  return {
    name: 'many-job-types',
    description: '1 tenant with 1000 jobs over 10 job types vs 4 tenants with 250 jobs of one type, equal weights, 8 slots',
    config: { tiers: { default: { slots: SLOTS } }, tenants: {}, defaults: {} },
    trace,
    light,
    equalWeight: new Set([...light, 'spreader']),
  };
}

/** 10,000 short-lived tenants arriving and leaving over two backlogged background tenants. */
function churn(): Scenario {
  const rnd = prng(4);
  const trace: TraceJob[] = [];
  for (const tenant of ['bg0', 'bg1']) {
    for (let k = 0; k < 500; k++) trace.push(job(`${tenant}-${k}`, 0, tenant, 50));
  }
  const light = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const tenant = `visitor${i}`;
    light.add(tenant);
    const arrival = Math.floor(rnd() * 20_000);
    trace.push(job(`${tenant}-0`, arrival, tenant, 5));
    trace.push(job(`${tenant}-1`, arrival + Math.floor(rnd() * 50), tenant, 5));
  }
  return {
    name: 'tenant-churn-10k',
    description: '10,000 tenants arriving over 20 s with 2 jobs of 5 ms each, over 2 tenants with 500 queued jobs of 50 ms, 8 slots',
    config: { tiers: { default: { slots: SLOTS } }, tenants: {}, defaults: {} },
    trace,
    light,
    equalWeight: new Set(['bg0', 'bg1']),
  };
}

/** All benchmark scenarios, built deterministically. */
export function buildScenarios(): Scenario[] {
  return [flood(), weighted(), spread(), churn()];
}
