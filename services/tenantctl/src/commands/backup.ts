import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import type { IsolationModel } from '@fairway/db';
import { downloadArchive, uploadArchive, type Downloaded, type TransferProgress } from '../archive-transfer';
import { CliError, ExitCode } from '../exit-codes';
import type { CommandContext } from './context';

const MODELS = ['pooled', 'schema', 'database'] as const satisfies readonly IsolationModel[];

/** What the admin API answers a restore with. */
interface RestoreAnswer {
  tenant: { id: string; status: string; isolationModel: string };
  from: { tenantId: string; archiveId: string; createdAt: string; model: string };
  rows: Record<string, number>;
  skipped: Record<string, number>;
  auditEntries: number;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Writes the archive to `file` through `<file>.partial`, synced and renamed only once it is whole,
 * so an interrupted backup never leaves a file that looks like an archive; to stdout without a file.
 */
async function saveArchive(context: CommandContext, cmd: Command, path: string, file: string | undefined, progress: TransferProgress): Promise<Downloaded> {
  const options = context.globals(cmd);
  const admin = { baseUrl: options.adminUrl, ...(options.token ? { token: options.token } : {}) };
  if (file === undefined || file === '-') {
    if (context.io.isTTY) throw new CliError('refusing to write an archive to a terminal: redirect stdout (> acme.fwbak) or pass --output', ExitCode.usage);
    const downloaded = await downloadArchive(admin, path, process.stdout as Writable, { end: false, onProgress: progress });
    // A zero-length write's callback runs once everything queued before it reached the pipe: the
    // archive is whole on the reader's side before tenantctl reports success and exits.
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    return downloaded;
  }
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { mode: 0o600 });
  try {
    const downloaded = await downloadArchive(admin, path, out, { end: true, onProgress: progress });
    const handle = await open(partial, 'r');
    await handle.sync();
    await handle.close();
    await rename(partial, file);
    return downloaded;
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/**
 * `tenants backup|restore|offboard`: an encrypted archive of everything of a tenant, streamed from
 * the control plane (which alone holds the owner role and the KEK); a restore into any isolation
 * model; and offboarding as "export then delete". Added to the `tenants` group.
 */
export function backupCommands(program: Command, context: CommandContext): void {
  const { sub, io, print } = context;
  const tenants = program.commands.find((c) => c.name() === 'tenants') ?? sub(program, 'tenants', 'tenants');
  const progress =
    (what: string): TransferProgress =>
    (bytes) =>
      io.err(`${what}: ${mib(bytes)}`);

  sub(tenants, 'backup', 'write an encrypted archive of everything of a tenant (to stdout, or --output)')
    .argument('<tenant>', 'tenant id')
    .option('-o, --output <file>', 'the archive file (written whole or not at all)')
    .option('--reason <text>', 'why, for the audit trail')
    .action(async (id: string, o: { output?: string; reason?: string }, cmd: Command) => {
      const query = o.reason ? `?reason=${encodeURIComponent(o.reason)}` : '';
      const done = await saveArchive(context, cmd, `/tenants/${encodeURIComponent(id)}/backup${query}`, o.output, progress(`backup of ${id}`));
      io.err(`backup of ${id}: archive ${done.header.archiveId}, ${mib(done.bytes)}, sha256 ${done.sha256}`);
    });

  sub(tenants, 'restore', 'restore a tenant from an archive, under its own id or --as, into any isolation model')
    .argument('<file>', "the archive ('-' for stdin)")
    .option('--as <tenant>', 'restore under this new tenant id (the archived id must otherwise be free)')
    .addOption(new Option('--model <model>', "isolation model of the restored tenant (default: the archive's)").choices(MODELS))
    .option('--db-server <name>', "for --model database: the server (default 'local')")
    .option('--reason <text>', 'why, for the audit trail')
    .action(async (file: string, o: { as?: string; model?: string; dbServer?: string; reason?: string }, cmd: Command) => {
      const options = context.globals(cmd);
      const query = new URLSearchParams({
        ...(o.as ? { as: o.as } : {}),
        ...(o.model ? { model: o.model } : {}),
        ...(o.dbServer ? { dbServer: o.dbServer } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      }).toString();
      const source = file === '-' ? process.stdin : createReadStream(file);
      const answer = await uploadArchive<RestoreAnswer>(
        { baseUrl: options.adminUrl, ...(options.token ? { token: options.token } : {}) },
        `/tenants/restore${query ? `?${query}` : ''}`,
        source,
        progress(`restore of ${file}`),
      );
      print(cmd, answer, () => {
        const rows = Object.entries(answer.rows)
          .map(([table, n]) => `${table} ${n}`)
          .join(', ');
        const skipped = Object.entries(answer.skipped).map(([table, n]) => `${table} ${n}`);
        return (
          `restored tenant ${answer.tenant.id} (${answer.tenant.isolationModel}, ${answer.tenant.status}) from ${answer.from.tenantId} ` +
          `(archive ${answer.from.archiveId} of ${answer.from.createdAt}): ${rows || 'no rows'}; ${answer.auditEntries} audit entries verified` +
          (skipped.length ? `; not restored under a new id: ${skipped.join(', ')}` : '')
        );
      });
    });

  sub(tenants, 'offboard', 'export then delete: write the archive, check it, then delete the tenant (needs --export and --yes)')
    .argument('<tenant>', 'tenant id')
    .requiredOption('--export <file>', 'where the archive goes (must not be stdout: it is checked before the deletion)')
    .option('--yes', 'confirm: the deletion cannot be undone')
    .option('--reason <text>', 'why, for the audit trail')
    .action(async (id: string, o: { export: string; yes?: boolean; reason?: string }, cmd: Command) => {
      if (!o.yes) throw new CliError(`refusing to offboard tenant ${id} without --yes`, ExitCode.usage);
      if (o.export === '-') throw new CliError('--export must name a file: the archive is kept and checked before the deletion', ExitCode.usage);
      const query = new URLSearchParams({ fence: 'offboarding', ...(o.reason ? { reason: o.reason } : {}) }).toString();
      const done = await saveArchive(context, cmd, `/tenants/${encodeURIComponent(id)}/backup?${query}`, o.export, progress(`export of ${id}`));
      io.err(`export of ${id}: archive ${done.header.archiveId}, ${mib(done.bytes)}, sha256 ${done.sha256}, kept in ${o.export}`);
      const tenant = await context
        .client(cmd)
        .request<{ id: string; status: string }>(
          'POST',
          `/tenants/${encodeURIComponent(id)}/offboard${o.reason ? `?reason=${encodeURIComponent(o.reason)}` : ''}`,
          {
            archiveId: done.header.archiveId,
            sha256: done.sha256,
          },
        );
      print(cmd, { tenant, export: { file: o.export, archiveId: done.header.archiveId, bytes: done.bytes, sha256: done.sha256 } }, () => {
        return `tenant ${tenant.id} is now ${tenant.status}; its archive ${done.header.archiveId} is in ${o.export}`;
      });
    });
}
