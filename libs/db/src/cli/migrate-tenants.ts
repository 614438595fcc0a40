/**
 * Applies the tenant migrations to every schema and database tenant, with a progress bar.
 *
 *   node scripts/run-ts.cjs libs/db/src/cli/migrate-tenants.ts [--dry-run] [--canary a,b] [--to VERSION]
 *        [--concurrency N] [--tenants a,b] [--json]
 *
 * DATABASE_URL: the catalog database as its owner or a superuser (default the local `fairway`
 * database as postgres). TENANT_DB_SERVERS: JSON {name: url} of other servers holding tenant
 * databases. Exit codes: 0 every tenant at the target, 1 some failed, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { migrateTenants, type TenantMigrationProgress } from '../tenant-data/tenant-migrations';

const USAGE = 'usage: migrate-tenants [--dry-run] [--canary a,b] [--to VERSION] [--concurrency N] [--tenants a,b] [--json]';

function list(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function bar(event: TenantMigrationProgress): string {
  const width = 30;
  const filled = event.total === 0 ? width : Math.round((event.completed / event.total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${event.completed}/${event.total} ${event.phase} ${event.tenantId} ${event.status}`;
}

async function main(argv: readonly string[]): Promise<number> {
  let values: { 'dry-run'?: boolean; canary?: string; to?: string; concurrency?: string; tenants?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'dry-run': { type: 'boolean' },
        canary: { type: 'string' },
        to: { type: 'string' },
        concurrency: { type: 'string' },
        tenants: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    console.error(`--concurrency must be an integer >= 1 (got ${values.concurrency})\n${USAGE}`);
    return 2;
  }
  let servers: Record<string, string> = {};
  try {
    servers = JSON.parse(process.env['TENANT_DB_SERVERS'] ?? '{}') as Record<string, string>;
  } catch {
    console.error('TENANT_DB_SERVERS must be JSON: {"name": "postgres://..."}');
    return 2;
  }
  const interactive = process.stderr.isTTY === true;
  const result = await migrateTenants(
    {
      ownerUrl: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/fairway',
      servers,
      concurrency,
      dryRun: values['dry-run'] ?? false,
      ...(values.to === undefined ? {} : { to: values.to }),
      ...(values.canary === undefined ? {} : { canary: list(values.canary) ?? [] }),
      ...(values.tenants === undefined ? {} : { tenants: list(values.tenants) ?? [] }),
    },
    (event) => {
      const line =
        bar(event) +
        (event.error ? `: ${event.error}` : '') +
        (event.step && event.step.migrations.length ? ` (${event.step.direction} ${event.step.migrations.join(', ')})` : '');
      process.stderr.write(interactive ? `\r\x1b[2K${line}` : `${line}\n`);
    },
  );
  if (interactive) process.stderr.write('\n');
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(
      `target ${result.target}: ${result.migrated} migrated, ${result.skipped} already there, ${result.failed.length} failed of ${result.total}` +
        (result.haltedAfterCanary ? ' (a canary failed: the fleet was not touched)' : '') +
        (values['dry-run'] ? `; dry run, ${result.plan.filter((p) => p.direction !== 'none').length} would change` : ''),
    );
    for (const failure of result.failed) console.log(`  ${failure.tenantId}: ${failure.error}`);
  }
  return result.failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`migrate-tenants failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
