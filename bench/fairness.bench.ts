/**
 * Fairness benchmark: runs each scenario through Fairway and three baselines in virtual time and
 * compares them with the fluid ideal (water-filled GPS) computed for the same trace. Besides the
 * four original scenarios, three of the shapes of issue #15 (quotas in use): a capped tenant beside
 * an uncapped one, and a tenant flooding two of three tiers with lending, with exact estimates and
 * with estimates off by up to x2. For every scenario and policy: jobs over `fluid finish + L_max`
 * (L_max the largest job of the whole trace, as before) and over `fluid finish + L_max of the job's
 * tier` (its own class and the classes it lends to), with the worst excess.
 *
 *   npm run -s bench:fairness -- --json
 *
 * Units are in the key names (Ms = milliseconds, Pct = percent). Nothing here is timed on the wall
 * clock, so the figures are the same on every machine.
 */
import { parseArgs } from 'node:util';
import { runSimulation } from '@fairway/fair-scheduler/simulation/discrete-event';
import { FairwayPolicy } from '@fairway/fair-scheduler/simulation/fairway-policy';
import { FifoPolicy } from '@fairway/fair-scheduler/simulation/fifo-policy';
import { computeFluidIdeal } from '@fairway/fair-scheduler/simulation/fluid-ideal';
import { checkFinishBound, checkTierFinishBound, jainIndex, percentile, summarizeSchedule } from '@fairway/fair-scheduler/simulation/metrics';
import type { SchedulingPolicy } from '@fairway/fair-scheduler/simulation/policy';
import { cappedWhaleScenario, multiTierFloodScenario } from '@fairway/fair-scheduler/simulation/quota-scenarios';
import type { QuotaScenario } from '@fairway/fair-scheduler/simulation/quota-scenarios';
import { RoundRobinPolicy } from '@fairway/fair-scheduler/simulation/round-robin-policy';
import { BottleneckGroupModel } from './lib/fairness/bottleneck-group-model';
import { buildScenarios } from './lib/fairness/scenarios';
import type { Scenario } from './lib/fairness/scenarios';

/** Bottleneck.Group `maxConcurrent` per tenant in the baseline: a quarter of the 8 slots. */
const BOTTLENECK_MAX_CONCURRENT = 2;

function policies(scenario: Scenario): SchedulingPolicy[] {
  return [
    new FairwayPolicy(scenario.config),
    new FifoPolicy(scenario.config),
    new RoundRobinPolicy(scenario.config),
    new BottleneckGroupModel(scenario.config, BOTTLENECK_MAX_CONCURRENT),
  ];
}

function runScenario(scenario: Scenario): Record<string, unknown> {
  const ideal = computeFluidIdeal(scenario.trace, scenario.config);
  const slackMs = scenario.trace.reduce((max, job) => Math.max(max, job.cost), 0);
  const idealLight = [...ideal.values()].filter((job) => scenario.light.has(job.tenant)).map((job) => job.finish - job.arrival);
  const idealLightP99 = percentile(idealLight, 0.99);
  const results: Record<string, unknown> = {};
  for (const policy of policies(scenario)) {
    const { schedule, neverRan } = runSimulation(scenario.trace, policy);
    const summary = summarizeSchedule(policy.name, schedule, scenario.config);
    const light = schedule.filter((job) => scenario.light.has(job.tenant)).map((job) => job.finish - job.arrival);
    const lightP99 = percentile(light, 0.99);
    const bound = checkFinishBound(schedule, ideal, slackMs);
    const tierBound = checkTierFinishBound(schedule, ideal, scenario.config);
    const jainOver = scenario.equalWeight;
    results[policy.name] = {
      impl: policy.name,
      lightP99SojournMs: round(lightP99),
      lightP99SojournRatioToIdeal: round(lightP99 / idealLightP99, 3),
      lightP99SojournOverIdealMs: round(lightP99 - idealLightP99),
      jobsOverBound: bound.jobsOverBound,
      worstExcessOverBoundMs: round(bound.worstExcessMs),
      jobsOverTierBound: tierBound.jobsOverBound,
      worstExcessOverTierBoundMs: round(tierBound.worstExcessMs),
      worstExcessOverTierBoundLmax: round(tierBound.worstExcessLmax, 2),
      weightedShareErrorPct: round(summary.maxShareErrorPct, 2),
      jainIndexEqualWeight: jainOver.size === 0 ? null : round(jainIndex([...jainOver].map((tenant) => summary.tenants[tenant]?.shareRatio ?? 0)), 4),
      makespanMs: round(summary.makespanMs),
      jobsNeverRun: neverRan.length,
    };
  }
  return {
    name: scenario.name,
    description: scenario.description,
    jobs: scenario.trace.length,
    boundSlackMs: slackMs,
    bound: 'finish <= fluid-ideal (GPS) finish + largest job cost',
    tierBound: "finish <= fluid-ideal (water-filled GPS) finish + largest job cost among the classes that can hold a slot of the job's tier",
    policies: results,
    ideal: {
      impl: 'fluid-ideal-gps',
      lightP99SojournMs: round(idealLightP99),
      makespanMs: round(Math.max(...[...ideal.values()].map((job) => job.finish))),
    },
  };
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } }, strict: true });
/** The quota scenarios of issue #15, in the shape of the other scenarios (no Jain's index). */
function quotaScenario(scenario: QuotaScenario): Scenario {
  return { ...scenario, equalWeight: new Set() };
}

const scenarios = [
  ...buildScenarios(),
  quotaScenario(cappedWhaleScenario()),
  quotaScenario(multiTierFloodScenario()),
  quotaScenario(multiTierFloodScenario(16, 2)),
].map(runScenario);
if (values.json === true) {
  console.log(JSON.stringify({ scenarios }, null, 2));
} else {
  for (const scenario of scenarios) {
    console.log(`\n${String(scenario['name'])}: ${String(scenario['description'])}`);
    console.table(scenario['policies']);
    console.log('ideal', scenario['ideal']);
  }
}
