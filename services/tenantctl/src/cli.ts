import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '@fairway/config';
import { AdminClient } from './admin-client';
import { verifyDirect } from './audit-verify';
import { CliError, ExitCode } from './exit-codes';
import { runMigration } from './migrate';
import { keyValues, table, text } from './render';
import { runSimulation } from './simulate';
import { renderTopFrame, TOP_SORT_KEYS, type CapacityView, type TenantStatsRow, type TopSortKey } from './top';

/** Where tenantctl reads and writes; the real process passes its own, tests capture. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (top redraws in place, migrate draws a bar). */
  isTTY?: boolean;
  /** Settles when the operator interrupts (Ctrl-C): `top` stops refreshing. */
  interrupted?: Promise<void>;
}

/** The admin API's default address (the control plane's ADMIN_PORT under `npm run up`). */
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8081';

interface GlobalOptions {
  adminUrl?: string;
  token?: string;
  json?: boolean;
}

/** A tenant as the admin API returns it. */
interface TenantView {
  id: string;
  displayName?: string;
  status?: string;
  plan?: string;
  isolationModel?: string;
  createdAt?: string;
}

/** A quota as the admin API returns it. */
interface QuotaView {
  tenantId: string;
  weight?: number;
  rate?: number | null;
  burst?: number | null;
  maxInFlight?: number | null;
  updatedAt?: string;
  updatedBy?: string;
}

const QUOTA_FIELDS = ['weight', 'rate', 'burst', 'maxInFlight'] as const;

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0 (got '${value}')`);
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected an integer >= 1 (got '${value}')`);
  return n;
}

function durationMs(value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms < 100) throw new RangeError('at least 100ms');
    return ms;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function tenantsTable(tenants: readonly TenantView[]): string {
  return table(tenants, [
    { header: 'TENANT', value: (t) => t.id },
    { header: 'STATUS', value: (t) => text(t.status) },
    { header: 'PLAN', value: (t) => text(t.plan) },
    { header: 'ISOLATION', value: (t) => text(t.isolationModel) },
    { header: 'NAME', value: (t) => text(t.displayName) },
    { header: 'CREATED', value: (t) => text(t.createdAt) },
  ]);
}

function quotaText(quota: QuotaView): string {
  return keyValues([
    ['tenant', quota.tenantId],
    ['weight', quota.weight],
    ['rate (jobs/s)', quota.rate ?? 'unlimited'],
    ['burst', quota.burst ?? 'default'],
    ['max in flight', quota.maxInFlight ?? 'unlimited'],
    ['updated', quota.updatedAt ? `${quota.updatedAt} by ${quota.updatedBy ?? '?'}` : undefined],
  ]);
}

const sleep = (ms: number, interrupted?: Promise<void>) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void interrupted?.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });

/** The commander program, wired to `io`. Actions throw {@link CliError}; {@link runCli} maps them. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('tenantctl');
  program
    .description("Operate Fairway's tenants through the edge's admin API.")
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

  // Flags win over the environment; the environment is io.env (not process.env) so tests own it.
  const globals = (command: Command) => {
    const o = command.optsWithGlobals<GlobalOptions>();
    const token = o.token ?? io.env['FAIRWAY_OPERATOR_TOKEN'];
    return { json: o.json === true, adminUrl: o.adminUrl ?? io.env['ADMIN_URL'] ?? DEFAULT_ADMIN_URL, ...(token ? { token } : {}) };
  };
  const client = (command: Command) => {
    const o = globals(command);
    return new AdminClient({ baseUrl: o.adminUrl, ...(o.token ? { token: o.token } : {}) });
  };
  /** Prints `value` as JSON under --json, else the human text `human()` makes. */
  const print = (command: Command, value: unknown, human: () => string) => io.out(globals(command).json ? JSON.stringify(value, null, 2) : human());
  const sub = (parent: Command, name: string, description: string) =>
    parent
      .command(name)
      .description(description)
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  // tenants
  const tenants = sub(program, 'tenants', 'list, create, suspend, resume and delete tenants');
  sub(tenants, 'list', 'list every tenant').action(async (_o, cmd: Command) => {
    const body = await client(cmd).request<{ tenants: TenantView[] } | TenantView[]>('GET', '/tenants');
    const list = Array.isArray(body) ? body : body.tenants;
    print(cmd, list, () => (list.length === 0 ? 'no tenants' : tenantsTable(list)));
  });
  sub(tenants, 'show', 'show one tenant')
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, _o, cmd: Command) => {
      const tenant = await client(cmd).request<TenantView>('GET', `/tenants/${encodeURIComponent(id)}`);
      print(cmd, tenant, () => tenantsTable([tenant]));
    });
  sub(tenants, 'create', 'create a tenant')
    .argument('<tenant>', 'tenant id: 1-63 lowercase letters, digits and dashes')
    .option('--display-name <name>', 'human name')
    .option('--plan <plan>', 'plan, e.g. standard')
    .option('--isolation-model <model>', 'pool, bridge or silo')
    .action(async (id: string, o: { displayName?: string; plan?: string; isolationModel?: string }, cmd: Command) => {
      const tenant = await client(cmd).request<TenantView>('POST', '/tenants', { id, ...o });
      print(cmd, tenant, () => `created tenant ${tenant.id} (${text(tenant.status)})`);
    });
  for (const [verb, description] of [
    ['suspend', 'suspend a tenant: its requests are refused and its queued jobs wait'],
    ['resume', 'resume a suspended tenant'],
  ] as const) {
    sub(tenants, verb, description)
      .argument('<tenant>', 'tenant id')
      .action(async (id: string, _o, cmd: Command) => {
        const tenant = await client(cmd).request<TenantView>('POST', `/tenants/${encodeURIComponent(id)}/${verb}`);
        print(cmd, tenant, () => `tenant ${tenant.id} is now ${text(tenant.status)}`);
      });
  }
  sub(tenants, 'delete', 'delete a tenant (offboarding; needs --yes)')
    .argument('<tenant>', 'tenant id')
    .option('--yes', 'confirm: this cannot be undone')
    .action(async (id: string, o: { yes?: boolean }, cmd: Command) => {
      if (!o.yes) throw new CliError(`refusing to delete tenant ${id} without --yes`, ExitCode.usage);
      const tenant = await client(cmd).request<TenantView>('DELETE', `/tenants/${encodeURIComponent(id)}`);
      print(cmd, tenant, () => `tenant ${tenant.id} is now ${text(tenant.status)}`);
    });

  // keys
  const keys = sub(program, 'keys', 'issue and revoke API keys');
  sub(keys, 'issue', 'issue an API key for a tenant (shown once)')
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, _o, cmd: Command) => {
      const key = await client(cmd).request<{ id: string; prefix: string; key: string }>('POST', `/tenants/${encodeURIComponent(id)}/api-keys`);
      print(cmd, key, () => `${keyValues([['key id', key.id], ['prefix', key.prefix], ['key', key.key]])}\n\nStore the key now: it is not shown again.`);
    });
  sub(keys, 'revoke', 'revoke an API key')
    .argument('<tenant>', 'tenant id')
    .argument('<key-id>', 'the key id printed by `keys issue`')
    .action(async (id: string, keyId: string, _o, cmd: Command) => {
      const revoked = await client(cmd).request<Record<string, unknown>>('DELETE', `/tenants/${encodeURIComponent(id)}/api-keys/${encodeURIComponent(keyId)}`);
      print(cmd, revoked, () => `revoked key ${keyId} of ${id}${revoked?.['revokedAt'] ? ` at ${text(revoked['revokedAt'])}` : ''}`);
    });

  // quotas
  const quotas = sub(program, 'quotas', "read and change a tenant's scheduling quota");
  sub(quotas, 'get', "show a tenant's quota")
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, _o, cmd: Command) => {
      const quota = await client(cmd).request<QuotaView>('GET', `/tenants/${encodeURIComponent(id)}/quota`);
      print(cmd, quota, () => quotaText(quota));
    });
  sub(quotas, 'set', "change a tenant's quota (only the fields given)")
    .argument('<tenant>', 'tenant id')
    .option('--weight <n>', 'share of the scheduler while everyone is busy', positiveNumber)
    .option('--rate <n>', 'jobs a second (token bucket rate)', positiveNumber)
    .option('--burst <n>', 'token bucket size', positiveInteger)
    .option('--max-in-flight <n>', 'jobs running at once', positiveInteger)
    .option('--clear <fields...>', `reset fields to the default: ${QUOTA_FIELDS.join(', ')}`)
    .action(async (id: string, o: Partial<Record<(typeof QUOTA_FIELDS)[number], number>> & { clear?: string[] }, cmd: Command) => {
      const patch: Record<string, unknown> = {};
      for (const field of QUOTA_FIELDS) if (o[field] !== undefined) patch[field] = o[field];
      if (o.clear) {
        const unknown = o.clear.filter((f) => !(QUOTA_FIELDS as readonly string[]).includes(f));
        if (unknown.length > 0) throw new CliError(`--clear takes ${QUOTA_FIELDS.join(', ')} (got ${unknown.join(', ')})`, ExitCode.usage);
        patch['clear'] = o.clear;
      }
      if (Object.keys(patch).length === 0) throw new CliError('give at least one of --weight, --rate, --burst, --max-in-flight, --clear', ExitCode.usage);
      const quota = await client(cmd).request<QuotaView>('PUT', `/tenants/${encodeURIComponent(id)}/quota`, patch);
      print(cmd, quota, () => `quota of ${id} updated\n${quotaText(quota)}`);
    });

  // top
  sub(program, 'top', 'live table of tenants (queue depth, in flight, wait p99, share vs entitlement) and the workers\' capacity in use')
    .option('--once', 'print one frame and exit')
    .option('--interval <duration>', 'refresh interval, e.g. 2s', durationMs, 2_000)
    .addOption(new Option('--sort <key>', 'sort by').choices(TOP_SORT_KEYS).default('queued'))
    .option('--limit <n>', 'show at most n tenants', positiveInteger, 20)
    .action(async (o: { once?: boolean; interval: number; sort: TopSortKey; limit: number }, cmd: Command) => {
      const api = client(cmd);
      let stop = false;
      void io.interrupted?.then(() => (stop = true));
      do {
        const stats = await api.request<{ tenants: TenantStatsRow[]; capacity?: CapacityView }>('GET', '/stats');
        if (globals(cmd).json) io.out(JSON.stringify(stats));
        else {
          const frame = renderTopFrame(stats.tenants ?? [], { sort: o.sort, limit: o.limit, at: new Date(), capacity: stats.capacity });
          io.out(io.isTTY && !o.once ? `\x1b[2J\x1b[H${frame}\n\n(refreshing every ${o.interval / 1000}s; Ctrl-C to quit)` : frame);
        }
        if (o.once) return;
        await sleep(o.interval, io.interrupted);
      } while (!stop);
    });

  // explain
  sub(program, 'explain', 'why a tenant is (not) running: the scheduler explains its state')
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, _o, cmd: Command) => {
      const e = await client(cmd).request<{ tenantId: string; state: string; reason: string; details: unknown }>('GET', `/tenants/${encodeURIComponent(id)}/explain`);
      print(cmd, e, () => {
        const details = e.details && typeof e.details === 'object' ? Object.entries(e.details as Record<string, unknown>) : [];
        return keyValues([['tenant', e.tenantId], ['state', e.state], ['reason', e.reason], ...details.map(([k, v]) => [`  ${k}`, v] as const)]);
      });
    });

  // migrate
  sub(program, 'migrate', "migrate tenants' data to the latest schema, with a progress bar")
    .option('--tenant <tenant>', 'only this tenant')
    .option('--dry-run', 'report what would run')
    .option('--poll <duration>', 'how often to poll progress', durationMs, 500)
    .action(async (o: { tenant?: string; dryRun?: boolean; poll: number }, cmd: Command) => {
      const result = await runMigration(client(cmd), { ...o, adminUrl: globals(cmd).adminUrl, io, json: Boolean(globals(cmd).json) });
      print(cmd, result, () => `migration ${result.id} ${result.state}: ${result.done}/${result.total} tenants`);
      if (result.state !== 'succeeded') throw new CliError(`migration ${result.id} ${result.state}${result.error ? `: ${result.error}` : ''}`, ExitCode.failure);
    });

  // simulate
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

  // audit
  const audit = sub(program, 'audit', 'read and verify the tamper-evident audit trail');
  sub(audit, 'verify', 'check every hash link of the audit chains, and that no chain was deleted or cut back since a signed checkpoint')
    .option('--tenant <tenant>', "only this tenant's chain")
    .option('--checkpoints <file>', 'the signed checkpoint file (JSON lines) the control plane writes (AUDIT_CHECKPOINT_FILE); needs --key and --database-url')
    .option('--key <file>', "the checkpoints' Ed25519 public key, PEM (env: AUDIT_CHECKPOINT_PUBLIC_KEY, a path or the PEM itself)")
    .option('--database-url <url>', 'read the chains directly, read-only (fairway_app suffices), instead of through the admin API (env: AUDIT_DATABASE_URL)')
    .addHelpText('after', '\nExample: npm run -s tenantctl -- audit verify --checkpoints /backup/audit-checkpoints.jsonl --key audit-checkpoint.pub.pem --database-url postgres://fairway_app@db/fairway')
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
