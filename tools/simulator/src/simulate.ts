/**
 * Simulator CLI: runs a job trace through a scheduling policy in virtual time and prints a JSON
 * summary beside the fluid ideal. It lives outside libs/fair-scheduler because it reads files and
 * sets the exit code: the core itself does no I/O (eslint.config.mjs bans Node built-ins there).
 *
 *   npm run -s simulate -- --trace TRACE.jsonl --config CONFIG.json [--policy fairway|fifo|round-robin] [--out SCHEDULE.jsonl]
 *
 * Exit codes: 0 done, 2 bad arguments or input files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FairSchedulerError } from '@fairway/fair-scheduler';
import { parseSimulationConfig, parseTrace } from '@fairway/fair-scheduler/simulation/trace';
import { createPolicy, POLICY_NAMES, runWhatIf } from '@fairway/fair-scheduler/simulation/what-if';
import type { PolicyName } from '@fairway/fair-scheduler/simulation/what-if';

const USAGE = 'usage: simulate --trace TRACE.jsonl --config CONFIG.json [--policy fairway|fifo|round-robin] [--out SCHEDULE.jsonl]';

class UsageError extends Error {}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} file '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function main(argv: readonly string[]): void {
  let values: { trace?: string; config?: string; policy?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        trace: { type: 'string' },
        config: { type: 'string' },
        policy: { type: 'string', default: 'fairway' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  if (values.trace === undefined) throw new UsageError('--trace is required');
  if (values.config === undefined) throw new UsageError('--config is required');
  const policyName = values.policy ?? 'fairway';
  if (!(POLICY_NAMES as readonly string[]).includes(policyName)) {
    throw new UsageError(`--policy must be one of ${POLICY_NAMES.join(', ')} (got '${policyName}')`);
  }
  const trace = parseTrace(readText(values.trace, 'trace'), values.trace);
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(readText(values.config, 'config'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`config file '${values.config}' is not JSON: ${(error as Error).message}`);
  }
  const config = parseSimulationConfig(rawConfig);
  const result = runWhatIf(trace, config, createPolicy(policyName as PolicyName, config));
  if (values.out !== undefined) {
    const lines = [...result.schedule]
      .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1))
      .map((job) => JSON.stringify({ id: job.id, tenant: job.tenant, start: job.start, finish: job.finish }));
    writeFileSync(values.out, lines.join('\n') + (lines.length > 0 ? '\n' : ''));
  }
  console.log(JSON.stringify({ policy: result.summary.policy, summary: result.summary, ideal: result.ideal, bound: result.bound }, null, 2));
}

try {
  main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof FairSchedulerError) {
    console.error(`simulate: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
