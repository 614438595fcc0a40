import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes';
import { runMigration } from '../migrate';
import { keyValues } from '../render';
import { runSimulation } from '../simulate';
import { durationMs, type CommandContext } from './context';

/** `migrate` (tenants' data to the latest schema) and `simulate` (the fair core offline). */
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

  sub(program, 'simulate', 'run the fair-scheduler simulator on a job trace (no admin API needed)')
    .requiredOption('--trace <file>', 'job trace, JSON lines')
    .requiredOption('--config <file>', 'tenants, quotas and tiers, JSON')
    .option('--policy <policy>', 'fairway, fifo or round-robin', 'fairway')
    .option('--out <file>', 'write the schedule as JSON lines')
    .action(async (o: { trace: string; config: string; policy: string; out?: string }, cmd: Command) => {
      const result = await runSimulation(o);
      print(cmd, result, () => {
        const r = result as { summary?: Record<string, unknown>; bound?: Record<string, unknown> };
        return keyValues([...Object.entries(r.summary ?? {}), ...Object.entries(r.bound ?? {}).map(([k, v]) => [`bound.${k}`, v] as const)]);
      });
    });
}
