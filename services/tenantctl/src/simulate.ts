import { readFileSync, writeFileSync } from 'node:fs';
import { parseSimulationConfig, parseTrace } from '@fairway/fair-scheduler/simulation/trace';
import { createPolicy, POLICY_NAMES, runWhatIf, type PolicyName } from '@fairway/fair-scheduler/simulation/what-if';
import { CliError, ExitCode } from './exit-codes';

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} file '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ExitCode.usage);
  }
}

/**
 * Runs the fair-scheduler simulator (the same code as `npm run simulate`, tools/simulator) on a
 * trace and a config, in this process, and returns its JSON summary.
 */
export async function runSimulation(options: { trace: string; config: string; policy: string; out?: string }): Promise<unknown> {
  if (!(POLICY_NAMES as readonly string[]).includes(options.policy))
    throw new CliError(`--policy must be one of ${POLICY_NAMES.join(', ')} (got '${options.policy}')`, ExitCode.usage);
  try {
    const trace = parseTrace(read(options.trace, 'trace'), options.trace);
    const config = parseSimulationConfig(JSON.parse(read(options.config, 'config')));
    const result = runWhatIf(trace, config, createPolicy(options.policy as PolicyName, config));
    if (options.out) {
      const lines = [...result.schedule]
        .sort((a, b) => a.start - b.start)
        .map((j) => JSON.stringify({ id: j.id, tenant: j.tenant, start: j.start, finish: j.finish }));
      writeFileSync(options.out, lines.join('\n') + (lines.length > 0 ? '\n' : ''));
    }
    return { policy: options.policy, summary: result.summary, ideal: result.ideal, bound: result.bound };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message, ExitCode.usage);
  }
}
