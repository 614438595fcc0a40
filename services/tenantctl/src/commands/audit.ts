import type { Command } from 'commander';
import { verifyDirect, writeCheckpointDirect } from '../audit-verify';
import { CliError, ExitCode } from '../exit-codes';
import { table, text } from '../render';
import { positiveInteger, type CommandContext } from './context';

/** `audit verify|list`: the tamper-evident audit trail. */
export function auditCommands(program: Command, { io, sub, client, print }: CommandContext): void {
  const audit = sub(program, 'audit', 'read and verify the tamper-evident audit trail');
  sub(audit, 'verify', 'check every hash link of the audit chains, and that no chain was deleted or cut back since a signed checkpoint')
    .option('--tenant <tenant>', "only this tenant's chain")
    .option('--checkpoints <file>', 'the signed checkpoint file (JSON lines) the control plane writes (AUDIT_CHECKPOINT_FILE); needs --key and --database-url')
    .option('--key <file>', "the checkpoints' Ed25519 public key, PEM (env: AUDIT_CHECKPOINT_PUBLIC_KEY, a path or the PEM itself)")
    .option('--database-url <url>', 'read the chains directly, read-only (fairway_app suffices), instead of through the admin API (env: AUDIT_DATABASE_URL)')
    .addHelpText(
      'after',
      '\nExample: npm run -s tenantctl -- audit verify --checkpoints /backup/audit-checkpoints.jsonl --key audit-checkpoint.pub.pem --database-url postgres://fairway_app@db/fairway',
    )
    .action(async (o: { tenant?: string; checkpoints?: string; key?: string; databaseUrl?: string }, cmd: Command) => {
      const databaseUrl = o.databaseUrl ?? io.env['AUDIT_DATABASE_URL'];
      const key = o.key ?? io.env['AUDIT_CHECKPOINT_PUBLIC_KEY'];
      if (o.checkpoints !== undefined && databaseUrl === undefined) {
        // The admin plane is what a checkpoint guards against: it is not asked whether it is honest.
        throw new CliError('--checkpoints reads the chains directly: give --database-url (or AUDIT_DATABASE_URL), a read-only connection', ExitCode.usage);
      }
      if (databaseUrl !== undefined) {
        const { report, text: line } = await verifyDirect({
          databaseUrl,
          ...(o.tenant === undefined ? {} : { tenant: o.tenant }),
          ...(o.checkpoints === undefined ? {} : { checkpoints: o.checkpoints }),
          ...(key === undefined ? {} : { key }),
        });
        print(cmd, report, () => line);
        if (!report.ok) throw new CliError('the audit trail failed verification', ExitCode.failure);
        return;
      }
      const query = o.tenant ? `?tenant=${encodeURIComponent(o.tenant)}` : '';
      const result = await client(cmd).request<{ ok: boolean; chains?: number; entries?: number; firstBroken?: unknown }>('GET', `/audit/verify${query}`);
      print(cmd, result, () =>
        result.ok
          ? `audit trail verified: ${result.chains ?? '?'} chain(s), ${result.entries ?? '?'} entries, every link intact`
          : `AUDIT TRAIL BROKEN after ${result.entries ?? '?'} entries: first bad link ${text(result.firstBroken)}`,
      );
      if (!result.ok) throw new CliError('the audit trail failed verification', ExitCode.failure);
    });
  sub(audit, 'checkpoint', 'sign the head of every audit chain and append it to a checkpoint file kept outside the database')
    .option('--file <file>', 'the checkpoint file (JSON lines), created if missing (env: AUDIT_CHECKPOINT_FILE)')
    .option('--key <file>', 'the Ed25519 private key, PEM (env: AUDIT_CHECKPOINT_KEY, a path or the PEM itself)')
    .option('--database-url <url>', 'read the chain heads, read-only (fairway_app suffices) (env: AUDIT_DATABASE_URL)')
    .addHelpText(
      'after',
      '\nExample (what the shipped CronJob runs every minute): npm run -s tenantctl -- audit checkpoint --file /var/lib/fairway/audit/checkpoints.jsonl',
    )
    .action(async (o: { file?: string; key?: string; databaseUrl?: string }, cmd: Command) => {
      const file = o.file ?? io.env['AUDIT_CHECKPOINT_FILE'];
      const key = o.key ?? io.env['AUDIT_CHECKPOINT_KEY'];
      const databaseUrl = o.databaseUrl ?? io.env['AUDIT_DATABASE_URL'];
      const missing = [
        file === undefined && '--file (AUDIT_CHECKPOINT_FILE)',
        key === undefined && '--key (AUDIT_CHECKPOINT_KEY)',
        databaseUrl === undefined && '--database-url (AUDIT_DATABASE_URL)',
      ].filter(Boolean);
      if (missing.length > 0) throw new CliError(`audit checkpoint needs ${missing.join(', ')}`, ExitCode.usage);
      const written = await writeCheckpointDirect({ file: file!, key: key!, databaseUrl: databaseUrl! });
      print(cmd, written, () => `checkpoint of ${written.chains} chain(s) at ${written.at} appended to ${written.file}`);
    });
  sub(audit, 'list', 'list audit entries')
    .option('--tenant <tenant>', 'only this tenant')
    .option('--action <action>', 'only this action, e.g. quota.set')
    .option('--actor <actor>', 'only this operator')
    .option('--limit <n>', 'at most n entries', positiveInteger, 50)
    .action(async (o: { tenant?: string; action?: string; actor?: string; limit: number }, cmd: Command) => {
      const params = new URLSearchParams();
      for (const key of ['tenant', 'action', 'actor'] as const) if (o[key]) params.set(key, o[key] as string);
      params.set('limit', String(o.limit));
      const body = await client(cmd).request<{ entries: Array<Record<string, unknown>> }>('GET', `/audit?${params.toString()}`);
      print(cmd, body, () =>
        body.entries.length === 0
          ? 'no audit entries'
          : table(body.entries, [
              { header: 'AT', value: (e) => text(e['at'] ?? e['createdAt']) },
              { header: 'ACTOR', value: (e) => text(e['actor']) },
              { header: 'ACTION', value: (e) => text(e['action']) },
              { header: 'TARGET', value: (e) => text(e['target']) },
            ]),
      );
    });
}
