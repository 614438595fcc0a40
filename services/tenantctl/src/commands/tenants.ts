import { Option, type Command } from 'commander';
import type { IsolationModel } from '@fairway/db';
import { CliError, ExitCode } from '../exit-codes';
import { StreamingTable, table, text, type Column } from '../render';
import type { CommandContext } from './context';

/** The isolation models the admin API accepts (POST /tenants `isolationModel`). */
const ISOLATION_MODELS = ['pooled', 'schema', 'database'] as const satisfies readonly IsolationModel[];
// Every model the catalog knows is offered, or this does not compile.
const allModelsOffered: [Exclude<IsolationModel, (typeof ISOLATION_MODELS)[number]>] extends [never] ? true : never = true;
void allModelsOffered;

/** A tenant as the admin API returns it. */
interface TenantView {
  id: string;
  displayName?: string;
  status?: string;
  plan?: string;
  isolationModel?: string;
  createdAt?: string;
}

const TENANT_COLUMNS: ReadonlyArray<Column<TenantView>> = [
  { header: 'TENANT', value: (t) => t.id },
  { header: 'STATUS', value: (t) => text(t.status) },
  { header: 'PLAN', value: (t) => text(t.plan) },
  { header: 'ISOLATION', value: (t) => text(t.isolationModel) },
  { header: 'NAME', value: (t) => text(t.displayName) },
  { header: 'CREATED', value: (t) => text(t.createdAt) },
];

function tenantsTable(tenants: readonly TenantView[]): string {
  return table(tenants, TENANT_COLUMNS);
}

/** Tenants `tenants list` asks the admin API for at a time (its most is 1000). */
export const TENANT_LIST_PAGE = 500;

/**
 * `tenants list`: follows the admin API's pages and prints each as it arrives, waiting for the
 * reader between pages, so 50,000 tenants cost one page of memory. The JSON is the same array as
 * one JSON.stringify(list, null, 2) would print: each page's last element is held back until the
 * next page says whether a comma follows it.
 */
async function listTenants(ctx: CommandContext, cmd: Command): Promise<void> {
  const { io } = ctx;
  const json = ctx.globals(cmd).json;
  const rows = new StreamingTable(TENANT_COLUMNS);
  let held: string | undefined;
  for await (const page of ctx.client(cmd).pages<TenantView>('/tenants', 'tenants', TENANT_LIST_PAGE)) {
    if (json) {
      const elements = page.map((t) => JSON.stringify(t, null, 2).replace(/^/gm, '  '));
      if (elements.length === 0) continue;
      const lines = held === undefined ? ['['] : [`${held},`];
      held = elements.pop();
      for (const element of elements) lines.push(`${element},`);
      io.out(lines.join('\n'));
    } else if (page.length > 0) io.out(rows.page(page));
    await io.drain?.();
  }
  if (json) io.out(held === undefined ? '[]' : `${held}\n]`);
  else if (!rows.started) io.out('no tenants');
}

/** `tenants list|show|create|suspend|resume|delete`. */
export function tenantsCommands(program: Command, context: CommandContext): void {
  const { sub, client, print } = context;
  const tenants = sub(program, 'tenants', 'list, create, suspend, resume and delete tenants');
  sub(tenants, 'list', 'list every tenant (a page at a time: the output starts at once and stays complete on a pipe)').action((_o, cmd: Command) =>
    listTenants(context, cmd),
  );
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
    .addOption(
      new Option('--isolation-model <model>', 'where its data lives: shared tables (pooled), its own schema, or its own database').choices(ISOLATION_MODELS),
    )
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
}
