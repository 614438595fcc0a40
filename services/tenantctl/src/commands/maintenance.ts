import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes';
import { runMigration } from '../migrate';
import { keyValues } from '../render';
import { runSimulation } from '../simulate';
import { exportTrace, simulateRecordedTrace, whatIfText } from '../what-if';
import { durationMs, type CommandContext } from './context';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * `migrate` (tenants' data to the latest schema), `trace export` (the recorded workload) and
 * `simulate` (the fair core offline: a synthetic trace, or a what-if on a recorded one).
 */
export function maintenanceCommands(program: Command, { io, sub, client, print, globals }: CommandContext): void {
  sub(program, 'migrate', "migrate tenants' data to the latest schema, with a progress bar")
    .option('--tenant <tenant>', 'only this tenant')
    .option('--dry-run', 'report what would run')
    .option('--poll <duration>', 'how often to poll progress', durationMs, 500)
    .action(async (o: { tenant?: string; dryRun?: boolean; poll: number }, cmd: Command) => {
      const result = await runMigration(client(cmd), { ...o, adminUrl: globals(cmd).adminUrl, io, json: Boolean(globals(cmd).json) });
      print(cmd, result, () => `migration ${result.id} ${result.state}: ${result.done}/${result.total} tenants`);
      if (result.state !== 'succeeded')
        throw new CliError(`migration ${result.id} ${result.state}${result.error ? `: ${result.error}` : ''}`, ExitCode.failure);
    });

  const trace = sub(program, 'trace', 'the recorded workload of the jobs table, for simulate');
  sub(
    trace,
    'export',
    'write the finished jobs of a window as a trace (JSON lines: arrival, tenant, class, measured cost, wait; then an end line with the tiers and quotas)',
  )
    .requiredOption('--since <when>', 'start of the window: a duration back from --until (1h, 30m) or an ISO 8601 instant')
    .option('--until <when>', 'end of the window, ISO 8601 (default: now)')
    .option('--tenant <tenant>', 'only this tenant (repeatable)', collect)
    .addHelpText('after', '\nExample: npm run -s tenantctl -- trace export --since 1h > trace.jsonl')
    .action(async (o: { since: string; until?: string; tenant?: string[] }, cmd: Command) => {
      const { jobs } = await exportTrace(client(cmd), o, io);
      if (io.isTTY) io.err(`${jobs} job(s) written`);
    });

  sub(
    program,
    'simulate',
    'run the fair-scheduler simulator on a job trace (no admin API needed): a what-if on a recorded trace, or a synthetic trace with --config',
  )
    .requiredOption('--trace <file>', 'job trace, JSON lines: one `trace export` wrote, or a synthetic one with --config')
    .option(
      '--set <tenant:field=value>',
      'a proposed quota change on a recorded trace, e.g. acme:weight=3, globex:maxInFlight=2, acme:rate=unset (repeatable)',
      collect,
    )
    .option('--config <file>', 'tenants, quotas and tiers, JSON (a synthetic trace)')
    .option('--policy <policy>', 'with --config: fairway, fifo or round-robin', 'fairway')
    .option('--out <file>', 'with --config: write the schedule as JSON lines')
    .addHelpText('after', '\nExample: npm run -s tenantctl -- simulate --trace trace.jsonl --set acme:weight=3 --set globex:maxInFlight=2')
    .action(async (o: { trace: string; set?: string[]; config?: string; policy: string; out?: string }, cmd: Command) => {
      if (o.config === undefined) {
        const report = await simulateRecordedTrace(o.trace, o.set ?? []);
        print(cmd, report, () => whatIfText(report));
        return;
      }
      if (o.set !== undefined) throw new CliError('--set changes the quotas of a recorded trace; with --config, change the config file', ExitCode.usage);
      const result = await runSimulation({ ...o, config: o.config });
      print(cmd, result, () => {
        const r = result as { summary?: Record<string, unknown>; bound?: Record<string, unknown> };
        return keyValues([...Object.entries(r.summary ?? {}), ...Object.entries(r.bound ?? {}).map(([k, v]) => [`bound.${k}`, v] as const)]);
      });
    });
}
