import fc from 'fast-check';
import { waterFillShortcuts } from './internal/tier-clock';
import { runSimulation } from './simulation/discrete-event';
import type { ScheduledJob } from './simulation/discrete-event';
import { FairwayPolicy } from './simulation/fairway-policy';
import { cappedWhaleScenario, multiTierFloodScenario } from './simulation/quota-scenarios';
import { randomQuotaScenario } from './simulation/random-scenarios';
import type { SimulationConfig, TraceJob } from './simulation/trace';
import type { TenantQuota } from './types';

// A dense tier skips the full water-fill when its answer is known (a lane joining, or GPS finishing
// jobs: TierState.refillJoined, refillChanged): that must change the cost only, never the order.
// Every job must start at the same instant in the same tier with the shortcuts as without them.

function schedule(config: SimulationConfig, trace: readonly TraceJob[], shortcuts: boolean): ScheduledJob[] {
  waterFillShortcuts.enabled = shortcuts;
  try {
    return runSimulation(trace, new FairwayPolicy(config)).schedule;
  } finally {
    waterFillShortcuts.enabled = true;
  }
}

/** Half the scenarios get weights with a fraction (the shortcuts then fall back to the full fill). */
const scenarios = fc
  .tuple(
    fc.oneof(
      randomQuotaScenario({ caps: true, tiers: false, misestimate: 1, maxJobs: 120 }),
      randomQuotaScenario({ caps: false, tiers: false, misestimate: 1, maxJobs: 120 }),
      randomQuotaScenario({ caps: true, tiers: true, misestimate: 4, maxJobs: 120 }),
      randomQuotaScenario({ caps: false, tiers: true, misestimate: 1, maxJobs: 120 }),
    ),
    fc.boolean(),
  )
  .map(([scenario, fractional]) => {
    if (!fractional) return scenario;
    const tenants: Record<string, Partial<TenantQuota>> = {};
    for (const [tenant, quota] of Object.entries(scenario.config.tenants)) tenants[tenant] = { ...quota, weight: (quota.weight ?? 1) * 0.7 };
    return { ...scenario, config: { ...scenario.config, tenants } };
  });

describe('the water-fill shortcuts of a dense tier', () => {
  it('dispatches every job at the same instant in the same tier as the full water-fill', () => {
    fc.assert(
      fc.property(scenarios, ({ config, trace }) => {
        const full = schedule(config, trace, false);
        const shortcuts = schedule(config, trace, true);
        expect(shortcuts.map((job) => `${job.id}@${job.start}:${job.tier}`)).toEqual(full.map((job) => `${job.id}@${job.start}:${job.tier}`));
      }),
      { numRuns: 400, seed: 20261207 },
    );
  });
});

describe('the water-fill shortcuts on the quota scenarios of bench:fairness', () => {
  it.each([
    ['capped-whale', cappedWhaleScenario()],
    ['multi-tier-flood', multiTierFloodScenario()],
    ['multi-tier-flood, estimates off up to x4', multiTierFloodScenario(16, 4)],
  ])('%s: every job starts at the same instant in the same tier as with the full water-fill', (_name, scenario) => {
    const full = schedule(scenario.config, scenario.trace, false);
    const shortcuts = schedule(scenario.config, scenario.trace, true);
    expect(shortcuts.map((job) => `${job.id}@${job.start}:${job.tier}`)).toEqual(full.map((job) => `${job.id}@${job.start}:${job.tier}`));
  });
});
