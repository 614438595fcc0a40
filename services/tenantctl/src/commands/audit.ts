import type { Command } from 'commander';
import { verifyDirect } from '../audit-verify';
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
