import type { TenantQuota } from '../types';
import type { SimulationConfig, TraceJob } from './trace';

/**
 * Deterministic traces of the shapes in issue #15, where operators use quotas: a capped tenant
 * beside an uncapped one on a shared tier, and a tenant flooding two of three tiers with lending.
 * Shared by the unit tests (which pin their outcome) and `bench:fairness` (which prints it).
 */
export interface QuotaScenario {
  readonly name: string;
  readonly description: string;
  readonly config: SimulationConfig;
  readonly trace: TraceJob[];
  /** Tenants whose sojourn the benchmark reports as "light". */
  readonly light: ReadonlySet<string>;
}

/** mulberry32: a small seeded PRNG, so every run builds the same trace. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function traceJob(id: string, t: number, tenant: string, cost: number, jobClass: string, estimate = cost): TraceJob {
  return { id, t, tenant, jobClass, cost, estimate, priority: 0 };
}

/**
 * 8 slots; a "whale" capped at `maxInFlight: 3` and an uncapped "shark", 1,500 jobs of 20-80 ms
 * each arriving over 15 s (together slightly more than the tier can serve); five light tenants
 * with bursts of 1-4 short jobs over 20 s.
 */
export function cappedWhaleScenario(seed = 15): QuotaScenario {
  const rnd = seededRandom(seed);
  const trace: TraceJob[] = [];
  const uniform = (low: number, high: number): number => low + Math.floor(rnd() * (high - low + 1));
  for (const tenant of ['whale', 'shark']) {
    for (let k = 0; k < 1500; k++) trace.push(traceJob(`${tenant}-${k}`, uniform(0, 15_000), tenant, uniform(20, 80), 'default'));
  }
  const light = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const tenant = `light${i}`;
    light.add(tenant);
    for (let burst = 0; burst < 40; burst++) {
      const at = uniform(0, 20_000);
      const jobs = uniform(1, 4);
      for (let k = 0; k < jobs; k++) trace.push(traceJob(`${tenant}-${burst}-${k}`, at, tenant, uniform(5, 40), 'default'));
    }
  }
  const tenants: Record<string, Partial<TenantQuota>> = { whale: { maxInFlight: 3 } };
  return {
    name: 'capped-whale',
    description: 'whale (maxInFlight 3) and shark with 1,500 jobs of 20-80 ms each over 15 s, 5 light tenants with bursts of 5-40 ms jobs, 8 slots',
    config: { tiers: { default: { slots: 8 } }, tenants, defaults: {} },
    trace,
    light,
  };
}

/**
 * Three tiers (interactive 2, standard 3 lending to interactive, heavy 2); one tenant floods
 * heavy and standard, a reporter sends a heavy job and a batch of 15 standard jobs every 5 s, eight interactive apps send
 * short bursts; `misestimate` > 1 makes the flooder's estimates wrong by up to that factor
 * either way (costs stay the same).
 */
export function multiTierFloodScenario(seed = 16, misestimate = 1): QuotaScenario {
  const rnd = seededRandom(seed);
  const trace: TraceJob[] = [];
  const uniform = (low: number, high: number): number => low + Math.floor(rnd() * (high - low + 1));
  const skew = (cost: number): number => (misestimate === 1 ? cost : Math.round(cost * misestimate ** (2 * rnd() - 1)));
  for (let k = 0; k < 400; k++) {
    const cost = uniform(150, 600);
    trace.push(traceJob(`flood-h${k}`, uniform(0, 4_000), 'flooder', cost, 'heavy', skew(cost)));
  }
  for (let k = 0; k < 900; k++) {
    const cost = uniform(40, 160);
    trace.push(traceJob(`flood-s${k}`, uniform(0, 4_000), 'flooder', cost, 'standard', skew(cost)));
  }
  for (let k = 0; k < 12; k++) {
    const at = 500 + k * 5_000;
    trace.push(traceJob(`report-h${k}`, at, 'reporter', uniform(200, 500), 'heavy'));
    for (let part = 0; part < 15; part++) trace.push(traceJob(`report-s${k}-${part}`, at, 'reporter', uniform(40, 120), 'standard'));
  }
  const light = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const tenant = `app${i}`;
    light.add(tenant);
    for (let burst = 0; burst < 60; burst++) {
      const at = uniform(0, 60_000);
      const jobs = uniform(1, 3);
      for (let k = 0; k < jobs; k++) trace.push(traceJob(`${tenant}-${burst}-${k}`, at, tenant, uniform(5, 30), 'interactive'));
    }
  }
  return {
    name: misestimate === 1 ? 'multi-tier-flood' : `multi-tier-flood-misestimate-x${misestimate}`,
    description:
      'interactive 2, standard 3 (lends to interactive), heavy 2; a flooder with 400 heavy and 900 standard jobs in 4 s, a reporter with 1 heavy + 15 standard jobs every 5 s, 8 interactive apps' +
      (misestimate === 1 ? '' : `; the flooder's estimates off by up to x${misestimate} either way`),
    config: {
      tiers: { interactive: { slots: 2 }, standard: { slots: 3, lendTo: ['interactive'] }, heavy: { slots: 2 } },
      tenants: {},
      defaults: {},
    },
    trace,
    light,
  };
}
