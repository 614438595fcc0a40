import fc from 'fast-check';
import { runSimulation } from './simulation/discrete-event';
import { FairwayPolicy } from './simulation/fairway-policy';
import { summarizeSchedule } from './simulation/metrics';
import { runWhatIf } from './simulation/what-if';
import type { SimulationConfig, TraceJob } from './simulation/trace';
import type { TenantQuota } from './types';

const TIERED = { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 1 } };

interface Scenario {
  readonly config: SimulationConfig;
  readonly trace: TraceJob[];
}

/** Random tiers, tenants and quotas (optionally with rates), and a random trace over them. */
function scenario(options: { rates: boolean; caps: boolean; tiered: boolean; priorities: boolean; maxJobs: number }): fc.Arbitrary<Scenario> {
  const quota = fc.record(
    {
      weight: fc.integer({ min: 1, max: 5 }),
      maxInFlight: options.caps ? fc.integer({ min: 1, max: 3 }) : fc.constant(undefined),
      rate: options.rates ? fc.integer({ min: 1, max: 20 }) : fc.constant(undefined),
      burst: options.rates ? fc.integer({ min: 1, max: 4 }) : fc.constant(undefined),
    },
    { requiredKeys: ['weight'] },
  );
  const tiers = options.tiered
    ? fc.constant<SimulationConfig['tiers']>(TIERED)
    : fc.integer({ min: 1, max: 6 }).map((slots) => ({ default: { slots } }));
  return fc
    .record({ tiers, quotas: fc.array(quota, { minLength: 2, maxLength: 6 }) })
    .chain(({ tiers, quotas }) => {
      const classes = Object.keys(tiers)[0] === 'default' ? ['a', 'b'] : Object.keys(tiers);
      const jobArb = fc.record({
        t: fc.integer({ min: 0, max: 2000 }),
        tenant: fc.integer({ min: 0, max: quotas.length - 1 }),
        jobClass: fc.constantFrom(...classes),
        cost: fc.integer({ min: 1, max: 200 }),
        priority: options.priorities ? fc.integer({ min: 0, max: 2 }) : fc.constant(0),
      });
      return fc.array(jobArb, { minLength: 1, maxLength: options.maxJobs }).map((jobs) => {
        const tenants: Record<string, Partial<TenantQuota>> = {};
        quotas.forEach((q, i) => {
          tenants[`t${i}`] = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
        });
        const trace = jobs.map((j, i) => ({ ...j, id: `j${i}`, tenant: `t${j.tenant}`, estimate: j.cost }));
        return { config: { tiers, tenants, defaults: {} }, trace };
      });
    });
}

const anyScenario = fc.oneof(
  scenario({ rates: true, caps: true, tiered: true, priorities: true, maxJobs: 60 }),
  scenario({ rates: true, caps: true, tiered: false, priorities: true, maxJobs: 60 }),
);

describe('FairScheduler invariants over random traces and configs', () => {
  it('never dispatches more than maxInFlight jobs for one tenant or more jobs than a tier has slots', () => {
    fc.assert(
      fc.property(anyScenario, ({ config, trace }) => {
        const tenantRunning = new Map<string, number>();
        const tierRunning = new Map<string, number>();
        const tierOf = new Map<string, string>();
        runSimulation(trace, new FairwayPolicy(config), {
          onDispatch(job, tier) {
            tierOf.set(job.id, tier);
            tenantRunning.set(job.tenant, (tenantRunning.get(job.tenant) ?? 0) + 1);
            tierRunning.set(tier, (tierRunning.get(tier) ?? 0) + 1);
            expect(tenantRunning.get(job.tenant)).toBeLessThanOrEqual(config.tenants[job.tenant]?.maxInFlight ?? Infinity);
            expect(tierRunning.get(tier)).toBeLessThanOrEqual(config.tiers[tier]?.slots ?? 0);
            const home = Object.keys(config.tiers)[0] === 'default' ? 'default' : job.jobClass;
            expect(tier === home || (config.tiers[tier]?.lendTo ?? []).includes(home)).toBe(true);
          },
          onComplete(job) {
            tenantRunning.set(job.tenant, (tenantRunning.get(job.tenant) ?? 0) - 1);
            const tier = tierOf.get(job.id) as string;
            tierRunning.set(tier, (tierRunning.get(tier) ?? 0) - 1);
          },
        });
      }),
      { numRuns: 150 },
    );
  });

  it('never dispatches faster than the token bucket allows', () => {
    fc.assert(
      fc.property(anyScenario, ({ config, trace }) => {
        const starts = new Map<string, number[]>();
        runSimulation(trace, new FairwayPolicy(config), {
          onDispatch(job, _tier, now) {
            starts.set(job.tenant, [...(starts.get(job.tenant) ?? []), now]);
          },
        });
        for (const [tenant, times] of starts) {
          const quota = config.tenants[tenant];
          if (quota?.rate === undefined) continue;
          const burst = quota.burst ?? Math.max(1, quota.rate);
          // Any window [times[i], times[j]] holds at most burst + rate * length jobs.
          for (let i = 0; i < times.length; i++) {
            for (let j = i; j < times.length; j++) {
              const allowance = burst + (quota.rate * ((times[j] as number) - (times[i] as number))) / 1000;
              expect(j - i + 1).toBeLessThanOrEqual(allowance + 1e-6);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('runs every job eventually', () => {
    fc.assert(
      fc.property(anyScenario, ({ config, trace }) => {
        const { schedule, neverRan } = runSimulation(trace, new FairwayPolicy(config));
        expect(neverRan).toEqual([]);
        expect(schedule).toHaveLength(trace.length);
      }),
      { numRuns: 150 },
    );
  });

  it('is work-conserving: no slot idles while a job that may use it waits', () => {
    fc.assert(
      fc.property(anyScenario, ({ config, trace }) => {
        const policy = new FairwayPolicy(config);
        const catchAll = Object.keys(config.tiers)[0] === 'default';
        const arrived = [...trace].sort((a, b) => a.t - b.t);
        const waiting = new Set<TraceJob>();
        const tenantRunning = new Map<string, number>();
        const tierRunning = new Map<string, number>();
        const tierOf = new Map<string, string>();
        let next = 0;
        runSimulation(trace, policy, {
          onDispatch(job, tier) {
            waiting.delete(job);
            tierOf.set(job.id, tier);
            tenantRunning.set(job.tenant, (tenantRunning.get(job.tenant) ?? 0) + 1);
            tierRunning.set(tier, (tierRunning.get(tier) ?? 0) + 1);
          },
          onComplete(job) {
            tenantRunning.set(job.tenant, (tenantRunning.get(job.tenant) ?? 0) - 1);
            const tier = tierOf.get(job.id) as string;
            tierRunning.set(tier, (tierRunning.get(tier) ?? 0) - 1);
          },
          afterInstant(now) {
            for (; next < arrived.length && (arrived[next] as TraceJob).t <= now; next++) {
              const job = arrived[next] as TraceJob;
              if (!tierOf.has(job.id)) waiting.add(job);
            }
            for (const job of waiting) {
              const quota = config.tenants[job.tenant];
              if ((tenantRunning.get(job.tenant) ?? 0) >= (quota?.maxInFlight ?? Infinity)) continue;
              if (quota?.rate !== undefined) {
                // Token state is the scheduler's own; cross-check that it says so.
                const state = policy.scheduler.explain(job.tenant, now).state;
                expect(['no-tokens', 'tier-full', 'behind-others', 'at-max-in-flight']).toContain(state);
                continue;
              }
              const home = catchAll ? 'default' : job.jobClass;
              const usable = Object.entries(config.tiers).filter(
                ([name, tier]) => name === home || (tier.lendTo ?? []).includes(home),
              );
              for (const [name, tier] of usable) expect(tierRunning.get(name) ?? 0).toBe(tier.slots);
            }
          },
        });
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the normalised service of any two backlogged tenants within c_i/w_i + c_j/w_j', () => {
    const backlog = scenario({ rates: false, caps: false, tiered: false, priorities: true, maxJobs: 80 }).map(({ config, trace }) => ({
      config,
      trace: trace.map((job) => ({ ...job, t: 0 })),
    }));
    fc.assert(
      fc.property(backlog, ({ config, trace }) => {
        const queued = new Map<string, number>();
        const maxCost = new Map<string, number>();
        for (const job of trace) {
          queued.set(job.tenant, (queued.get(job.tenant) ?? 0) + 1);
          maxCost.set(job.tenant, Math.max(maxCost.get(job.tenant) ?? 0, job.cost));
        }
        const service = new Map<string, number>();
        const weight = (tenant: string): number => config.tenants[tenant]?.weight ?? 1;
        runSimulation(trace, new FairwayPolicy(config), {
          onDispatch(job) {
            service.set(job.tenant, (service.get(job.tenant) ?? 0) + job.cost);
            queued.set(job.tenant, (queued.get(job.tenant) ?? 0) - 1);
            // Compare pairs still backlogged after this decision (this tenant's is included).
            const backlogged = [...queued].filter(([tenant, n]) => n > 0 || tenant === job.tenant).map(([t]) => t);
            for (const i of backlogged) {
              for (const j of backlogged) {
                const lag = (service.get(i) ?? 0) / weight(i) - (service.get(j) ?? 0) / weight(j);
                const bound = (maxCost.get(i) as number) / weight(i) + (maxCost.get(j) as number) / weight(j);
                expect(lag).toBeLessThanOrEqual(bound + 1e-9);
              }
            }
          },
        });
      }),
      { numRuns: 150 },
    );
  });

  it('finishes every job no later than its fluid-ideal (GPS) finish plus the largest job cost, without rate limits', () => {
    const noRates = scenario({ rates: false, caps: false, tiered: false, priorities: false, maxJobs: 120 });
    fc.assert(
      fc.property(noRates, ({ config, trace }) => {
        const result = runWhatIf(trace, config, new FairwayPolicy(config));
        expect(result.bound.jobsOverBound).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('gives long backlogged tenants shares within 2% of their weights', () => {
    const long = fc.record({
      weights: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }),
      slots: fc.integer({ min: 1, max: 4 }),
      costs: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 50, maxLength: 50 }),
    });
    fc.assert(
      fc.property(long, ({ weights, slots, costs }) => {
        const tenants: Record<string, Partial<TenantQuota>> = {};
        const trace: TraceJob[] = [];
        weights.forEach((weight, i) => {
          tenants[`t${i}`] = { weight };
          for (let k = 0; k < 600 * weight; k++) {
            const cost = costs[(k * 7 + i) % costs.length] as number;
            trace.push({ id: `t${i}-${k}`, t: 0, tenant: `t${i}`, jobClass: 'default', cost, estimate: cost, priority: 0 });
          }
        });
        const config: SimulationConfig = { tiers: { default: { slots } }, tenants, defaults: {} };
        const summary = summarizeSchedule('fairway', runSimulation(trace, new FairwayPolicy(config)).schedule, config);
        expect(summary.maxShareErrorPct).toBeLessThanOrEqual(2);
      }),
      { numRuns: 10 },
    );
  });
});
