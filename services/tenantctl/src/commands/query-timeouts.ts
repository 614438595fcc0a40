import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '@fairway/config';
import {
  QUERY_TIMEOUT_FIELDS,
  QUERY_WORKLOADS,
  queryTimeoutLimitsSchema,
  queryTimeoutsPatchSchema,
  type QueryTimeoutField,
  type QueryWorkload,
} from '@fairway/quota';
import { CliError, ExitCode } from '../exit-codes';
import { keyValues } from '../render';
import type { CommandContext } from './context';

/** The flag of a limit: `statementTimeoutMs` is `--statement-timeout`, written as a duration. */
const flagOf = (field: QueryTimeoutField) => field.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (flag: string) => `${flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}Ms`;

type Limits = Record<QueryTimeoutField, number | null>;

interface StoredTimeouts {
  scope: 'plan' | 'tenant';
  name: string;
  interactive: Limits;
  heavy: Limits;
  updatedAt: string;
  updatedBy: string;
  effective?: Record<QueryWorkload, Limits>;
}

/** A duration flag ('2s', '500ms', '0' for off), checked with the field's own rule before any request. */
function durationFlag(field: QueryTimeoutField): (raw: string) => number {
  return (raw) => {
    let ms: number;
    try {
      ms = parseDuration(raw);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    const parsed = queryTimeoutLimitsSchema.shape[field].safeParse(ms);
    if (!parsed.success) throw new InvalidArgumentError(`${parsed.error.issues.map((i) => i.message).join('; ')} (got '${raw}')`);
    return ms;
  };
}

const shown = (ms: number | null | undefined) => (ms === null || ms === undefined ? 'inherited' : ms === 0 ? 'off' : `${ms} ms`);

function timeoutsText(t: StoredTimeouts): string {
  return keyValues([
    [t.scope, t.name],
    ...QUERY_WORKLOADS.flatMap((w) =>
      QUERY_TIMEOUT_FIELDS.map(
        (f) => [`${w} ${flagOf(f).replace(/-/g, ' ')}`, `${shown(t[w][f])}${t.effective ? ` (in force: ${shown(t.effective[w][f])})` : ''}`] as const,
      ),
    ),
    ['updated', t.updatedAt ? `${t.updatedAt} by ${t.updatedBy || '?'}` : 'never'],
  ]);
}

/**
 * `query-timeouts get|set`: a plan's (`--plan`, `*` the default plan) or a tenant's query time
 * limits per workload. The body is checked with @fairway/quota's patch schema, as the admin API
 * checks it.
 */
export function queryTimeoutsCommands(program: Command, { sub, client, print }: CommandContext): void {
  const group = sub(program, 'query-timeouts', "read and change a plan's or a tenant's database time limits (statement, lock, idle in transaction)");
  const path = (target: string | undefined, o: { plan?: string }) => {
    if ((target === undefined) === (o.plan === undefined)) throw new CliError('name a tenant, or a plan with --plan (not both)', ExitCode.usage);
    return o.plan === undefined ? `/tenants/${encodeURIComponent(target ?? '')}/query-timeouts` : `/plans/${encodeURIComponent(o.plan)}/query-timeouts`;
  };
  sub(group, 'get', "show a tenant's limits (stored and in force) or a plan's")
    .argument('[tenant]', 'tenant id')
    .option('--plan <plan>', "a plan instead of a tenant ('*' is the default plan)")
    .action(async (tenant: string | undefined, o: { plan?: string }, cmd: Command) => {
      const timeouts = await client(cmd).request<StoredTimeouts>('GET', path(tenant, o));
      print(cmd, timeouts, () => timeoutsText(timeouts));
    });
  const set = sub(group, 'set', 'change limits of one workload (only the ones given)')
    .argument('[tenant]', 'tenant id')
    .option('--plan <plan>', "a plan instead of a tenant ('*' is the default plan)")
    .option('--workload <workload>', `${QUERY_WORKLOADS.join(' or ')}: API requests or jobs`, (raw: string) => {
      if (!(QUERY_WORKLOADS as readonly string[]).includes(raw)) throw new InvalidArgumentError(`one of ${QUERY_WORKLOADS.join(', ')} (got '${raw}')`);
      return raw;
    });
  for (const field of QUERY_TIMEOUT_FIELDS) {
    set.option(`--${flagOf(field)} <duration>`, `${queryTimeoutLimitsSchema.shape[field].description ?? field} (e.g. 2s, 500ms; 0 = off)`, durationFlag(field));
  }
  set
    .option('--inherit <limits...>', `limits to inherit again: ${QUERY_TIMEOUT_FIELDS.map(flagOf).join(', ')}`)
    .action(async (tenant: string | undefined, o: { plan?: string; workload?: string; inherit?: string[] }, cmd: Command) => {
      const workload = o.workload;
      if (workload === undefined) throw new CliError(`--workload is required (${QUERY_WORKLOADS.join(' or ')})`, ExitCode.usage);
      const inherit = (o.inherit ?? []).map(camel);
      const unknown = inherit.filter((f) => !(QUERY_TIMEOUT_FIELDS as readonly string[]).includes(f));
      if (unknown.length > 0) throw new CliError(`--inherit takes ${QUERY_TIMEOUT_FIELDS.map(flagOf).join(', ')}`, ExitCode.usage);
      // commander names an option's value after its flag: --statement-timeout is `statementTimeout`.
      const given = (f: QueryTimeoutField) => (o as Record<string, unknown>)[f.replace(/Ms$/, '')] as number | undefined;
      const limits: Record<string, number | null> = Object.fromEntries(
        QUERY_TIMEOUT_FIELDS.filter((f) => given(f) !== undefined).map((f) => [f, given(f) as number]),
      );
      for (const f of inherit) limits[f] = null;
      const body = { [workload]: limits };
      const checked = queryTimeoutsPatchSchema.safeParse(body);
      if (!checked.success) throw new CliError(checked.error.issues.map((i) => i.message).join('; '), ExitCode.usage);
      const target = path(tenant, { ...(o.plan === undefined ? {} : { plan: String(o.plan) }) });
      const timeouts = await client(cmd).request<StoredTimeouts>('PUT', target, body);
      print(cmd, timeouts, () => `query timeouts of ${timeouts.scope} ${timeouts.name} updated\n${timeoutsText(timeouts)}`);
    });
}
