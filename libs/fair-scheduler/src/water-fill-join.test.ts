import fc from 'fast-check';
import { waterFillShortcuts } from './internal/tier-clock';
import { runSimulation } from './simulation/discrete-event';
import type { ScheduledJob } from './simulation/discrete-event';
import { FairwayPolicy } from './simulation/fairway-policy';
import { randomQuotaScenario } from './simulation/random-scenarios';
import type { SimulationConfig, TraceJob } from './simulation/trace';

// A lane joining a dense tier skips the full water-fill when its answer is known
// (TierState.refillJoined): that must change the cost only, never the order. Every job must start
// at the same instant in the same tier with the shortcut as without it.

function schedule(config: SimulationConfig, trace: readonly TraceJob[], shortcut: boolean): ScheduledJob[] {
  waterFillShortcuts.joins = shortcut;
  try {
    return runSimulation(trace, new FairwayPolicy(config)).schedule;
  } finally {
    waterFillShortcuts.joins = true;
  }
}

/** Half the scenarios get weights with a fraction (the shortcut then falls back to the full fill). */
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
    const tenants: SimulationConfig['tenants'] = {};
    for (const [tenant, quota] of Object.entries(scenario.config.tenants)) tenants[tenant] = { ...quota, weight: (quota.weight ?? 1) * 0.7 };
    return { ...scenario, config: { ...scenario.config, tenants } };
  });

describe('the water-fill shortcut for a lane joining a dense tier', () => {
  it('dispatches every job at the same instant in the same tier as the full water-fill', () => {
    fc.assert(
      fc.property(scenarios, ({ config, trace }) => {
        const full = schedule(config, trace, false);
        const shortcut = schedule(config, trace, true);
        expect(shortcut.map((job) => `${job.id}@${job.start}:${job.tier}`)).toEqual(full.map((job) => `${job.id}@${job.start}:${job.tier}`));
      }),
      { numRuns: 400, seed: 20261207 },
    );
  });
});
