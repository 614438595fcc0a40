import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import { quotaLimitsSchema, quotaPatchSchema, QUOTA_FIELDS, type QuotaField, type TenantQuota } from '@fairway/quota';
import { CliError, ExitCode } from '../exit-codes';
import { keyValues } from '../render';
import type { CommandContext } from './context';

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
const words = (field: string) => field.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);

/** The rule of a field's value, without its "may be unset" (that is what --clear is for). */
function valueSchema(field: QuotaField): z.ZodTypeAny {
  const schema: z.ZodTypeAny = quotaLimitsSchema.shape[field];
  return schema instanceof z.ZodNullable ? (schema.unwrap() as z.ZodTypeAny) : schema;
}

/** The kind of value under a schema's refinements and nullability (a number, an enum, a record). */
function kindOf(schema: z.ZodTypeAny): z.ZodTypeAny {
  if (schema instanceof z.ZodEffects) return kindOf(schema.innerType() as z.ZodTypeAny);
  if (schema instanceof z.ZodNullable || schema instanceof z.ZodOptional) return kindOf(schema.unwrap() as z.ZodTypeAny);
  return schema;
}

/** How a field's value is written on the command line, from the kind of its schema. */
function flagSyntax(schema: z.ZodTypeAny): string {
  const kind = kindOf(schema);
  if (kind instanceof z.ZodEnum) return `<${(kind.options as string[]).join('|')}>`;
  if (kind instanceof z.ZodRecord) return '<key=n,...>';
  return '<n>';
}

/**
 * Parses a flag's text into the field's value and checks it with the field's own rule, so a bad
 * value is a usage error before any request: a number, one of an enum's values, or `key=n` pairs.
 */
function flagValue(field: QuotaField): (raw: string) => unknown {
  const schema = valueSchema(field);
  const kind = kindOf(schema);
  return (raw) => {
    let value: unknown = raw;
    if (kind instanceof z.ZodNumber) value = raw.trim() === '' ? Number.NaN : Number(raw);
    if (kind instanceof z.ZodRecord) {
      value = Object.fromEntries(
        raw.split(',').map((pair) => {
          const [key = '', n] = pair.split('=');
          return [key.trim(), n === undefined || n.trim() === '' ? Number.NaN : Number(n)];
        }),
      );
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(`${parsed.error.issues.map((i) => [...i.path, i.message].join(': ')).join('; ')} (got '${raw}')`);
    return parsed.data;
  };
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'unset';
  if (typeof value === 'object')
    return (
      Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ') || 'unset'
    );
  return String(value);
}

function quotaText(quota: TenantQuota): string {
  return keyValues([
    ['tenant', quota.tenantId],
    ...QUOTA_FIELDS.map((f) => [words(f), formatValue(quota[f])] as const),
    ['updated', quota.updatedAt ? `${quota.updatedAt} by ${quota.updatedBy || '?'}` : 'never (defaults)'],
  ]);
}

/**
 * `quotas get|set`. The flags of `set` are derived from @fairway/quota's schema (one per field,
 * its rule and its description), and the patch is checked with the same schema as the admin API
 * checks it: a field the API gains, tenantctl offers; a value the API refuses, tenantctl refuses.
 */
export function quotasCommands(program: Command, { sub, client, print }: CommandContext): void {
  const quotas = sub(program, 'quotas', "read and change a tenant's scheduling quota");
  sub(quotas, 'get', "show a tenant's quota")
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, _o, cmd: Command) => {
      const quota = await client(cmd).request<TenantQuota>('GET', `/tenants/${encodeURIComponent(id)}/quota`);
      print(cmd, quota, () => quotaText(quota));
    });
  const set = sub(quotas, 'set', "change a tenant's quota (only the fields given)").argument('<tenant>', 'tenant id');
  for (const field of QUOTA_FIELDS) {
    set.option(`--${kebab(field)} ${flagSyntax(valueSchema(field))}`, quotaLimitsSchema.shape[field].description ?? field, flagValue(field));
  }
  set
    .option('--clear <fields...>', `put fields back to their defaults: ${QUOTA_FIELDS.join(', ')}`)
    .action(async (id: string, o: Partial<Record<QuotaField, unknown>> & { clear?: string[] }, cmd: Command) => {
      const clear = (o.clear ?? []).map(camel);
      const unknown = clear.filter((f) => !(QUOTA_FIELDS as readonly string[]).includes(f));
      if (unknown.length > 0) throw new CliError(`--clear takes ${QUOTA_FIELDS.join(', ')} (got ${unknown.join(', ')})`, ExitCode.usage);
      const body: Record<string, unknown> = Object.fromEntries(QUOTA_FIELDS.filter((f) => o[f] !== undefined).map((f) => [f, o[f]]));
      if (clear.length > 0) body['clear'] = clear;
      const checked = quotaPatchSchema.safeParse(body);
      if (!checked.success) throw new CliError(checked.error.issues.map((i) => i.message).join('; '), ExitCode.usage);
      const quota = await client(cmd).request<TenantQuota>('PUT', `/tenants/${encodeURIComponent(id)}/quota`, body);
      print(cmd, quota, () => `quota of ${id} updated\n${quotaText(quota)}`);
    });
}
