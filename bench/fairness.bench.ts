/**
 * Fairness benchmark: runs each scenario through Fairway and three baselines in virtual time and
 * compares them with the fluid ideal (water-filled GPS) computed for the same trace. Besides the
 * four original scenarios, three of the shapes of issue #15 (quotas in use): a capped tenant beside
 * an uncapped one, and a tenant flooding two of three tiers with lending, with exact estimates and
 * with estimates off by up to x2. For every scenario and policy: jobs over `fluid finish + L_max`
 * (L_max the largest job of the whole trace, as before) and over `fluid finish + L_max of the job's
 * tier` (its own class and the classes it lends to), with the worst excess.
 *
 *   npm run -s bench:fairness -- --json [--random 10000 [--seed 20261206]]
 *
 * `--random N` also draws N random traces of each shape the property tests of issue #15 use (caps,
 * one or three tiers, lending, weights, estimates off by up to x4) and counts, per shape, the traces
 * with a job over `fluid finish + L_max of its tier` for Fairway and for a clairvoyant order (the
 * queued job the fluid ideal of the whole trace finishes first, future arrivals included: what no
 * online scheduler can know). A trace the clairvoyant order cannot keep within the bound is one no
 * ordering by the ideal fixes.
 *
 * Units are in the key names (Ms = milliseconds, Pct = percent). Nothing here is timed on the wall
 * clock, so the figures are the same on every machine.
 */
import { parseArgs } from 'node:util';
import { runSimulation } from '@fairway/fair-scheduler/simulation/discrete-event';
import { FairwayPolicy } from '@fairway/fair-scheduler/simulation/fairway-policy';
import { FifoPolicy } from '@fairway/fair-scheduler/simulation/fifo-policy';
import { computeFluidIdeal } from '@fairway/fair-scheduler/simulation/fluid-ideal';
import {
  checkFinishBound,
  checkMisestimateBound,
  checkTierFinishBound,
  jainIndex,
  percentile,
  summarizeSchedule,
  tierLmax,
} from '@fairway/fair-scheduler/simulation/metrics';
import type { FluidJob } from '@fairway/fair-scheduler/simulation/fluid-ideal';
import type { SchedulingPolicy } from '@fairway/fair-scheduler/simulation/policy';
import { cappedWhaleScenario, multiTierFloodScenario } from '@fairway/fair-scheduler/simulation/quota-scenarios';
import type { QuotaScenario } from '@fairway/fair-scheduler/simulation/quota-scenarios';
import { RoundRobinPolicy } from '@fairway/fair-scheduler/simulation/round-robin-policy';
import { ClairvoyantPolicy } from '@fairway/fair-scheduler/simulation/clairvoyant-policy';
import { randomQuotaScenario, type RandomScenarioShape } from '@fairway/fair-scheduler/simulation/random-scenarios';
import fc from 'fast-check';
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

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, random: { type: 'string', default: '0' }, seed: { type: 'string', default: '20261206' } },
  strict: true,
});
const randomRuns = Number(values.random);
const seed = Number(values.seed);
if (!Number.isInteger(randomRuns) || randomRuns < 0) throw new Error(`--random must be a whole number of traces, got "${values.random}"`);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}"`);

/** The shapes of water-filled-bound.test.ts; `exactOnly`: the bound is checked for exact estimators. */
const RANDOM_SHAPES: ReadonlyArray<{ name: string; shape: RandomScenarioShape; exactOnly: boolean }> = [
  { name: 'caps, one tier of 1-8 slots', shape: { caps: true, tiers: false, misestimate: 1, maxJobs: 100 }, exactOnly: false },
  { name: 'no caps, one tier of 1-8 slots', shape: { caps: false, tiers: false, misestimate: 1, maxJobs: 100 }, exactOnly: false },
  { name: 'caps, three tiers, lending or not', shape: { caps: true, tiers: true, misestimate: 1, maxJobs: 100 }, exactOnly: false },
  { name: 'no caps, three tiers, lending or not', shape: { caps: false, tiers: true, misestimate: 1, maxJobs: 100 }, exactOnly: false },
  {
    name: 'caps, three tiers, half the tenants misestimating up to x4 (bound checked for the others)',
    shape: { caps: true, tiers: true, misestimate: 4, maxJobs: 100 },
    exactOnly: true,
  },
];

const catchAll = (config: { tiers: Readonly<Record<string, unknown>> }): boolean => config.tiers['default'] !== undefined;

/** Per shape and policy: traces with a job over `fluid finish + L_max of its tier`, and the worst. */
function randomSweep(runs: number): Array<Record<string, unknown>> {
  return RANDOM_SHAPES.map(({ name, shape, exactOnly }, index) => {
    const samples = fc.sample(randomQuotaScenario(shape), { numRuns: runs, seed: seed + index });
    const tally = new Map<string, { tracesOver: number; jobsOver: number; worstExcessLmax: number; tracesOverIndexes: number[] }>();
    // With misestimates, also the bound that holds under them (every job, misestimators included):
    // the fluid ideal of the estimates + L_max + the underestimation of the jobs started before it.
    const misestimateTally = new Map<string, { tracesOver: number; jobsOver: number; worstExcessLmax: number; tracesOverIndexes: number[] }>();
    let done = 0;
    for (const [sample, { config, trace, misestimating }] of samples.entries()) {
      const ideal = computeFluidIdeal(trace, config);
      const estimatedIdeal =
        shape.misestimate > 1
          ? computeFluidIdeal(
              trace.map((job) => ({ ...job, cost: job.estimate })),
              config,
            )
          : undefined;
      for (const policy of [new FairwayPolicy(config), new ClairvoyantPolicy(config, ideal)]) {
        const { schedule } = runSimulation(trace, policy);
        // L_max from every job (a misestimator's long job holds a slot as long as anyone's); the
        // jobs counted are the exact estimators' only, when the shape says so.
        const lmax = tierLmax(schedule, config);
        let over = 0;
        let worst = 0;
        for (const job of schedule) {
          if (exactOnly && misestimating.has(job.tenant)) continue;
          const slack = lmax.get(catchAll(config) ? 'default' : job.jobClass) as number;
          const fluid = (ideal.get(job.id) as FluidJob).finish;
          const excess = job.finish - (fluid + slack);
          if (excess > 1e-6 * Math.max(1, fluid)) over += 1;
          if (slack > 0) worst = Math.max(worst, excess / slack);
        }
        const entry = tally.get(policy.name) ?? { tracesOver: 0, jobsOver: 0, worstExcessLmax: 0, tracesOverIndexes: [] };
        if (over > 0) entry.tracesOver += 1;
        if (over > 0 && entry.tracesOverIndexes.length < 20) entry.tracesOverIndexes.push(sample);
        entry.jobsOver += over;
        entry.worstExcessLmax = Math.max(entry.worstExcessLmax, worst);
        tally.set(policy.name, entry);
        if (estimatedIdeal !== undefined) {
          const bound = checkMisestimateBound(schedule, trace, estimatedIdeal, config, (job) => !misestimating.has(job.tenant));
          const misestimate = misestimateTally.get(policy.name) ?? { tracesOver: 0, jobsOver: 0, worstExcessLmax: -Infinity, tracesOverIndexes: [] };
          if (bound.jobsOverBound > 0) misestimate.tracesOver += 1;
          if (bound.jobsOverBound > 0 && misestimate.tracesOverIndexes.length < 20) misestimate.tracesOverIndexes.push(sample);
          misestimate.jobsOver += bound.jobsOverBound;
          misestimate.worstExcessLmax = Math.max(misestimate.worstExcessLmax, bound.worstExcessLmax);
          misestimateTally.set(policy.name, misestimate);
        }
      }
      done += 1;
      if (done % 1000 === 0) process.stderr.write(`[fairness] ${name}: ${done}/${runs} traces\n`);
    }
    return {
      shape: name,
      traces: runs,
      seed: seed + index,
      policies: [...tally].map(([impl, entry]) => ({ impl, ...entry, worstExcessLmax: round(entry.worstExcessLmax, 3) })),
      ...(misestimateTally.size === 0
        ? {}
        : {
            misestimateBound:
              "finish <= fluid finish of the estimates + L_max of its tier + others' underestimation of the jobs started on its slots before it; exact estimators' jobs",
            misestimatePolicies: [...misestimateTally].map(([impl, entry]) => ({ impl, ...entry, worstExcessLmax: round(entry.worstExcessLmax, 3) })),
          }),
    };
  });
}
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
const random = randomRuns > 0 ? randomSweep(randomRuns) : [];
if (values.json === true) {
  console.log(JSON.stringify(randomRuns > 0 ? { scenarios, random } : { scenarios }, null, 2));
} else {
  for (const scenario of scenarios) {
    console.log(`\n${String(scenario['name'])}: ${String(scenario['description'])}`);
    console.table(scenario['policies']);
    console.log('ideal', scenario['ideal']);
  }
  for (const shape of random) {
    console.log(`\nrandom: ${String(shape['shape'])} (${String(shape['traces'])} traces, seed ${String(shape['seed'])})`);
    console.table(shape['policies']);
    if (shape['misestimatePolicies'] !== undefined) {
      console.log(String(shape['misestimateBound']));
      console.table(shape['misestimatePolicies']);
    }
  }
}
