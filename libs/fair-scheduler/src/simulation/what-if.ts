import { FairSchedulerError } from '../errors';
import type { ScheduledJob } from './discrete-event';
import { runSimulation } from './discrete-event';
import { FairwayPolicy } from './fairway-policy';
import { FifoPolicy } from './fifo-policy';
import type { FluidJob } from './fluid-ideal';
import { computeFluidIdeal } from './fluid-ideal';
import { checkFinishBound, summarizeIdeal, summarizeSchedule } from './metrics';
import type { RunSummary } from './metrics';
import type { SchedulingPolicy } from './policy';
import { RoundRobinPolicy } from './round-robin-policy';
import type { SimulationConfig, TraceJob } from './trace';

/** Policies the simulator CLI knows by name. */
export const POLICY_NAMES = ['fairway', 'fifo', 'round-robin'] as const;

/** One of {@link POLICY_NAMES}. */
export type PolicyName = (typeof POLICY_NAMES)[number];

/** Builds a fresh policy instance for `config`. */
export function createPolicy(name: PolicyName, config: SimulationConfig): SchedulingPolicy {
  switch (name) {
    case 'fairway':
      return new FairwayPolicy(config);
    case 'fifo':
      return new FifoPolicy(config);
    case 'round-robin':
      return new RoundRobinPolicy(config);
  }
}

/** Everything one what-if run produces. */
export interface WhatIfResult {
  readonly schedule: ScheduledJob[];
  readonly summary: RunSummary;
  readonly ideal: RunSummary;
  readonly idealJobs: ReadonlyMap<string, FluidJob>;
  /** Jobs finishing after fluid-ideal finish + the largest job cost (the classic WFQ slack). */
  readonly bound: { readonly slackMs: number; readonly jobsOverBound: number; readonly worstExcessMs: number };
}

/**
 * Runs `trace` under `config` with `policy`, and the fluid ideal beside it. The same entry serves
 * the CLI, the benchmarks and the tests.
 *
 * @throws FairSchedulerError `INVALID_CONFIG` when some job can never run (e.g. its class has no tier).
 */
export function runWhatIf(trace: readonly TraceJob[], config: SimulationConfig, policy: SchedulingPolicy): WhatIfResult {
  const { schedule, neverRan } = runSimulation(trace, policy);
  if (neverRan.length > 0) {
    throw new FairSchedulerError(
      'INVALID_CONFIG',
      `${neverRan.length} job(s) never ran under policy ${policy.name}, e.g. '${neverRan[0]?.id}' of class '${neverRan[0]?.jobClass}'`,
    );
  }
  const idealJobs = computeFluidIdeal(trace, config);
  const slackMs = trace.reduce((max, job) => Math.max(max, job.cost), 0);
  return {
    schedule,
    summary: summarizeSchedule(policy.name, schedule, config),
    ideal: summarizeIdeal(idealJobs),
    idealJobs,
    bound: { slackMs, ...checkFinishBound(schedule, idealJobs, slackMs) },
  };
}
