import { Command, CommanderError } from 'commander';
import { auditCommands } from './commands/audit';
import { backupCommands } from './commands/backup';
import { commandContext, DEFAULT_ADMIN_URL, type CliIo } from './commands/context';
import { keysCommands } from './commands/keys';
import { maintenanceCommands } from './commands/maintenance';
import { moveCommands } from './commands/move';
import { queryTimeoutsCommands } from './commands/query-timeouts';
import { quotasCommands } from './commands/quotas';
import { schedulerCommands } from './commands/scheduler';
import { tenantsCommands } from './commands/tenants';
import { CliError, ExitCode } from './exit-codes';

export { DEFAULT_ADMIN_URL, type CliIo } from './commands/context';

/**
 * The commander program, wired to `io`: the global options here, each command group in its own
 * module under src/commands. Actions throw {@link CliError}; {@link runCli} maps them.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command('tenantctl');
  program
    .description("Operate Fairway's tenants through the control plane's admin API.")
    .option('--admin-url <url>', `admin API base URL (env: ADMIN_URL, default ${DEFAULT_ADMIN_URL})`)
    .option('--token <jwt>', 'operator token (env: FAIRWAY_OPERATOR_TOKEN; mint one with `npm run -s token -- --operator`)')
    .option('--json', 'print JSON for scripts instead of tables')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 unauthorised, 5 unavailable.\nExample: npm run -s tenantctl -- quotas set acme --weight 3 --max-in-flight 8',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  const context = commandContext(io);
  for (const group of [tenantsCommands, keysCommands, quotasCommands, queryTimeoutsCommands, schedulerCommands, maintenanceCommands, auditCommands])
    group(program, context);
  // backup, restore, offboard: sub-commands of `tenants`, in a module of their own.
  backupCommands(program, context);
  // move: a sub-command of `tenants` too.
  moveCommands(program, context);
  return program;
}

/**
 * Runs tenantctl with `argv` (the arguments after the program name) and returns the exit code.
 * Never calls process.exit, so tests run it in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    if (argv.length === 0) {
      io.out(program.helpInformation().replace(/\n$/, ''));
      return ExitCode.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are "errors" to commander; they are a success to the operator.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (err instanceof CliError) {
      io.err(`tenantctl: ${err.message}`);
      return err.exitCode;
    }
    io.err(`tenantctl: ${(err as Error).message}`);
    return ExitCode.failure;
  }
}
