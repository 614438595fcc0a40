import { Option, type Command } from 'commander';
import type { IsolationModel } from '@fairway/db';
import { CliError, ExitCode } from '../exit-codes';
import { table, text } from '../render';
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

/** `tenants list|show|create|suspend|resume|delete`. */
export function tenantsCommands(program: Command, { sub, client, print }: CommandContext): void {
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
