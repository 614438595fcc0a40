import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as scheduling from '@fairway/fair-scheduler';
import { CliError, ExitCode } from './exit-codes';

/** The simulator entry points, when @fairway/fair-scheduler exports them. */
interface SimulatorApi {
  parseTrace: (text: string, source?: string) => unknown[];
  parseSimulationConfig: (raw: unknown) => unknown;
  createPolicy: (name: string, config: unknown) => unknown;
  runWhatIf: (trace: unknown[], config: unknown, policy: unknown) => {
    schedule: ReadonlyArray<{ id: string; tenant: string; start: number; finish: number }>;
    summary: unknown;
    ideal: unknown;
    bound: unknown;
  };
  POLICY_NAMES: readonly string[];
}

function simulatorApi(): SimulatorApi | undefined {
  const lib = scheduling as unknown as Partial<SimulatorApi>;
  return typeof lib.runWhatIf === 'function' && typeof lib.parseTrace === 'function' ? (lib as SimulatorApi) : undefined;
}

function repoRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'scripts', 'run-ts.cjs'))) return dir;
  }
  throw new CliError('cannot find the Fairway checkout (scripts/run-ts.cjs) to run the simulator', ExitCode.failure);
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} file '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ExitCode.usage);
  }
}

/**
 * Runs the fair-scheduler simulator (the logic of libs/fair-scheduler/src/cli/simulate.ts) on a
 * trace and a config and returns its JSON summary. In-process through @fairway/fair-scheduler when
 * it exports the simulation API; otherwise through the simulator's own CLI, same inputs and output.
 */
export async function runSimulation(options: { trace: string; config: string; policy: string; out?: string }): Promise<unknown> {
  const api = simulatorApi();
  if (api) {
    if (!api.POLICY_NAMES.includes(options.policy)) throw new CliError(`--policy must be one of ${api.POLICY_NAMES.join(', ')} (got '${options.policy}')`, ExitCode.usage);
    try {
      const trace = api.parseTrace(read(options.trace, 'trace'), options.trace);
      const config = api.parseSimulationConfig(JSON.parse(read(options.config, 'config')));
      const result = api.runWhatIf(trace, config, api.createPolicy(options.policy, config));
      if (options.out) {
        const lines = [...result.schedule].sort((a, b) => a.start - b.start).map((j) => JSON.stringify({ id: j.id, tenant: j.tenant, start: j.start, finish: j.finish }));
        writeFileSync(options.out, lines.join('\n') + (lines.length > 0 ? '\n' : ''));
      }
      return { policy: options.policy, summary: result.summary, ideal: result.ideal, bound: result.bound };
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError((err as Error).message, ExitCode.usage);
    }
  }
  const root = repoRoot();
  const args = ['--trace', options.trace, '--config', options.config, '--policy', options.policy, ...(options.out ? ['--out', options.out] : [])];
  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'run-ts.cjs'), path.join(root, 'libs', 'fair-scheduler', 'src', 'cli', 'simulate.ts'), ...args], {
    cwd: process.cwd(),
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    const message = (run.stderr || run.stdout).trim().split('\n')[0] ?? 'the simulator failed';
    throw new CliError(message.replace(/^simulate: /, ''), run.status === 2 ? ExitCode.usage : ExitCode.failure);
  }
  return JSON.parse(run.stdout) as unknown;
}
