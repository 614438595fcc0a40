import { Option, type Command } from 'commander';
import type { IsolationModel } from '@fairway/db';
import { CliError, ExitCode } from '../exit-codes';
import { duration, progressBar } from '../render';
import { durationMs, type CommandContext } from './context';

const MODELS = ['pooled', 'schema', 'database'] as const satisfies readonly IsolationModel[];

/** A move as the admin API reports it (GET /admin/v1/tenants/{id}/moves/{moveId}). */
export interface MoveAnswer {
  id: string;
  tenantId: string;
  state: 'running' | 'done' | 'failed' | 'rolled-back';
  phase: string;
  source: { model: string };
  target: { model: string; server?: string };
  copied: number;
  sourceRows: number | null;
  caughtUp: number;
  catchUpPasses: number;
  switched: boolean;
  fenceMs: number | null;
  verified: { rows: number; digest: string; changedAfterSwitch: number } | null;
  phaseMs: Record<string, number>;
  graceUntil: string | null;
  error: string | null;
}

/** One line of progress: the phase, and during the copy a bar of records copied. */
export function moveProgressLine(move: MoveAnswer): string {
  const phase = move.phase.padEnd(8);
  if (move.phase === 'copy' || (move.phase === 'catch-up' && move.sourceRows)) {
    return `${phase} ${progressBar(move.copied, Math.max(move.sourceRows ?? 0, move.copied))} records`;
  }
  if (move.phase === 'catch-up') return `${phase} ${move.caughtUp} changes applied in ${move.catchUpPasses} passes`;
  if (move.phase === 'grace')
    return `${phase} switched (fence ${move.fenceMs} ms, ${move.verified?.rows ?? 0} rows verified); old copy kept until ${move.graceUntil}`;
  return `${phase}${move.switched ? ` (switched, fence ${move.fenceMs} ms)` : ''}`;
}

/** The final summary of a move. */
export function moveSummary(move: MoveAnswer): string {
  const where = `${move.source.model} -> ${move.target.model}`;
  if (move.state === 'rolled-back')
    return `move ${move.id} of ${move.tenantId} (${where}) was rolled back: ${move.error}; the tenant stays ${move.source.model}`;
  if (move.state === 'failed') return `move ${move.id} of ${move.tenantId} (${where}) FAILED: ${move.error}`;
  const phases = Object.entries(move.phaseMs)
    .map(([name, ms]) => `${name} ${duration(ms)}`)
    .join(', ');
  const state =
    move.state === 'done'
      ? 'done, old copy removed'
      : move.phase === 'grace'
        ? `switched, old copy kept until ${move.graceUntil}`
        : `running, phase ${move.phase}${move.switched ? ' (switched)' : ''}`;
  return (
    `move ${move.id} of ${move.tenantId} (${where}): ${state}; ${move.copied} records copied, ${move.caughtUp} changes caught up, ` +
    `write fence ${move.fenceMs} ms, ${move.verified?.rows ?? 0} rows verified (digest ${move.verified?.digest ?? '-'}); ${phases}`
  );
}

/**
 * A refused start, said for an operator at a terminal: a tenant already moving (409
 * TENANT_MOVE_CONFLICT) gets the command that follows the running move.
 */
export function moveRefused(err: unknown, tenant: string): unknown {
  if (!(err instanceof CliError) || err.code !== 'TENANT_MOVE_CONFLICT') return err;
  const hint = /already moving/.test(err.message) ? `\nfollow the running move with: tenantctl tenants move-status ${tenant}` : '';
  return new CliError(`${err.message}${hint}`, err.exitCode, err.code);
}

/**
 * `tenants move <tenant> --to pooled|schema|database`: starts a live move through the admin API and
 * follows it, a progress bar on stderr (redrawn in place on a terminal, a line per change
 * otherwise), until the switch is verified (or, with --wait-cleanup, the old copy removed). The
 * final state goes to stdout (JSON under --json). A rolled-back or failed move exits 1.
 */
export function moveCommands(program: Command, context: CommandContext): void {
  const { sub, io, print } = context;
  const tenants = program.commands.find((c) => c.name() === 'tenants') ?? sub(program, 'tenants', 'tenants');
  sub(tenants, 'move', 'move a tenant to another isolation model while it keeps writing')
    .argument('<tenant>', 'tenant id')
    .addOption(new Option('--to <model>', 'the isolation model to move to').choices(MODELS).makeOptionMandatory())
    .option('--db-server <name>', "for --to database: the server (default 'local')")
    .option('--grace <duration>', 'keep the old copy this long after the switch (default: the control plane’s TENANT_MOVE_GRACE)')
    .option('--reason <text>', 'why, for the audit trail')
    .option('--no-wait', 'start the move and print it, without following it')
    .option('--wait-cleanup', 'follow the move until the old copy is removed (after the grace period)')
    .option('--poll <duration>', 'how often to ask for progress', durationMs, 500)
    .action(
      async (
        id: string,
        o: { to: IsolationModel; dbServer?: string; grace?: string; reason?: string; wait: boolean; waitCleanup?: boolean; poll: number },
        cmd: Command,
      ) => {
        const api = context.client(cmd);
        const json = context.globals(cmd).json;
        const base = `/tenants/${encodeURIComponent(id)}/moves`;
        let move: MoveAnswer;
        try {
          move = await api.request<MoveAnswer>('POST', `${base}${o.reason ? `?reason=${encodeURIComponent(o.reason)}` : ''}`, {
            to: o.to,
            ...(o.dbServer ? { dbServer: o.dbServer } : {}),
            ...(o.grace ? { grace: o.grace } : {}),
          });
        } catch (err) {
          throw moveRefused(err, id);
        }
        io.err(`move ${move.id} of ${id}: ${move.source.model} -> ${move.target.model} started`);
        if (o.wait) {
          let last = '';
          const tty = io.errTTY === true;
          const draw = () => {
            const line = moveProgressLine(move);
            if (line === last) return;
            io.err(tty && last !== '' ? `\x1b[1A\x1b[2K${line}` : line);
            last = line;
          };
          draw();
          const following = () => move.state === 'running' && (o.waitCleanup === true || move.phase !== 'grace');
          while (following()) {
            await new Promise((resolve) => setTimeout(resolve, o.poll));
            move = await api.request<MoveAnswer>('GET', `${base}/${move.id}`);
            draw();
          }
        }
        print(cmd, move, () => moveSummary(move));
        if (!json && move.state === 'running' && o.wait) io.err(`follow the removal with: tenantctl tenants move-status ${id} ${move.id}`);
        if (move.state === 'rolled-back' || move.state === 'failed') throw new CliError(`the move did not complete: ${move.error}`, ExitCode.failure);
      },
    );

  sub(tenants, 'move-rollback', 'during its grace period, move the tenant back to its old copy with every write made since')
    .argument('<tenant>', 'tenant id')
    .argument('<move>', 'move id')
    .option('--reason <text>', 'why, for the audit trail')
    .option('--poll <duration>', 'how often to ask for progress', durationMs, 500)
    .action(async (id: string, moveId: string, o: { reason?: string; poll: number }, cmd: Command) => {
      const api = context.client(cmd);
      const path = `/tenants/${encodeURIComponent(id)}/moves/${encodeURIComponent(moveId)}`;
      let move = await api.request<MoveAnswer>('POST', `${path}/rollback${o.reason ? `?reason=${encodeURIComponent(o.reason)}` : ''}`);
      io.err(`rolling back move ${move.id} of ${id}`);
      while (move.state === 'running') {
        await new Promise((resolve) => setTimeout(resolve, o.poll));
        move = await api.request<MoveAnswer>('GET', path);
      }
      print(cmd, move, () => moveSummary(move));
      if (move.state !== 'rolled-back') throw new CliError(`the rollback did not complete: ${move.error}`, ExitCode.failure);
    });

  sub(tenants, 'move-status', "a tenant's moves, or one move")
    .argument('<tenant>', 'tenant id')
    .argument('[move]', 'move id (default: the latest)')
    .action(async (id: string, moveId: string | undefined, cmd: Command) => {
      const api = context.client(cmd);
      const base = `/tenants/${encodeURIComponent(id)}/moves`;
      let move: MoveAnswer | undefined;
      if (moveId) move = await api.request<MoveAnswer>('GET', `${base}/${encodeURIComponent(moveId)}`);
      else move = (await api.request<{ moves: MoveAnswer[] }>('GET', base)).moves[0];
      if (!move) throw new CliError(`tenant ${id} has never been moved`, ExitCode.notFound);
      const found = move;
      print(cmd, found, () => `${moveSummary(found)}\n${found.state === 'running' ? moveProgressLine(found) : ''}`.trimEnd());
    });
}
