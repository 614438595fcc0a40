import { z } from 'zod';
import { ValidationError } from '@fairway/errors';
import { parseQuotaPatch, quotaLimitsSchema, QUOTA_FIELDS, type QuotaField, type QuotaPatch } from '@fairway/quota';
import { isTenantId } from '@fairway/tenant-context';

/** Proposed quota changes, by tenant: each a @fairway/quota patch (fields set, fields cleared). */
export type QuotaChanges = Readonly<Record<string, QuotaPatch>>;

/** The words that put a field back to its default in an assignment (`acme:maxInFlight=unset`). */
const CLEAR_WORDS = new Set(['unset', 'default']);

const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The field's own rule without its nullability (clearing is spelt `unset`), and the kind of value under it. */
function fieldRule(field: QuotaField): { rule: z.ZodTypeAny; kind: z.ZodTypeAny } {
  const schema: z.ZodTypeAny = quotaLimitsSchema.shape[field];
  const rule = schema instanceof z.ZodNullable ? (schema.unwrap() as z.ZodTypeAny) : schema;
  let kind = rule;
  while (kind instanceof z.ZodEffects) kind = kind.innerType() as z.ZodTypeAny;
  return { rule, kind };
}

/** The text of an assignment's value as the field's kind: a number, an enum's value, or `key=n,...` pairs. */
function valueOf(kind: z.ZodTypeAny, text: string): unknown {
  if (kind instanceof z.ZodNumber) return text.trim() === '' ? Number.NaN : Number(text);
  if (kind instanceof z.ZodRecord) {
    return Object.fromEntries(
      text.split(',').map((pair) => {
        const [key = '', n] = pair.split('=');
        return [key.trim(), n === undefined || n.trim() === '' ? Number.NaN : Number(n)];
      }),
    );
  }
  return text;
}

/**
 * Parses operators' quota assignments, `<tenant>:<field>=<value>` each (`acme:weight=3`,
 * `globex:maxInFlight=2`, `acme:maxInFlightByClass=heavy=1,standard=4`, `acme:rate=unset`), into one
 * patch per tenant checked by @fairway/quota's own rules, as `quotas set` and the admin API check
 * them. Field names are the quota's (`maxInFlight`) or their flag spelling (`max-in-flight`).
 *
 * @param label how the caller names an assignment in messages (`--set`, `the query's set`).
 * @throws ValidationError naming the assignment and what is wrong with it.
 */
export function parseQuotaAssignments(assignments: readonly string[], label = '--set'): QuotaChanges {
  const drafts = new Map<string, { values: Record<string, unknown>; clear: QuotaField[]; given: Set<QuotaField> }>();
  for (const assignment of assignments) {
    const bad = (why: string) => new ValidationError(`${label} '${assignment}': ${why}`, [{ path: label, message: `'${assignment}': ${why}` }]);
    const colon = assignment.indexOf(':');
    const equals = assignment.indexOf('=', colon + 1);
    if (colon <= 0 || equals < 0) throw bad('expected <tenant>:<field>=<value>, e.g. acme:weight=3');
    const tenant = assignment.slice(0, colon);
    const name = camel(assignment.slice(colon + 1, equals).trim());
    const text = assignment.slice(equals + 1).trim();
    if (!isTenantId(tenant)) throw bad(`'${tenant}' is not a tenant id`);
    if (!(QUOTA_FIELDS as readonly string[]).includes(name)) throw bad(`'${name}' is not a quota field (one of ${QUOTA_FIELDS.join(', ')})`);
    const field = name as QuotaField;
    const draft = drafts.get(tenant) ?? { values: {}, clear: [], given: new Set<QuotaField>() };
    drafts.set(tenant, draft);
    if (draft.given.has(field)) throw bad(`${field} of ${tenant} is given twice`);
    draft.given.add(field);
    if (CLEAR_WORDS.has(text)) {
      draft.clear.push(field);
      continue;
    }
    const { rule, kind } = fieldRule(field);
    const parsed = rule.safeParse(valueOf(kind, text));
    if (!parsed.success) throw bad(`${field} ${parsed.error.issues.map((i) => [...i.path, i.message].join(': ')).join('; ')} (got '${text}')`);
    draft.values[field] = parsed.data;
  }
  const changes: Record<string, QuotaPatch> = {};
  for (const [tenant, draft] of drafts) changes[tenant] = parseQuotaPatch({ ...draft.values, clear: draft.clear }, `the change of ${tenant}`);
  return changes;
}

/**
 * Checks a JSON object of changes (`{"acme": {"weight": 3}, "globex": {"clear": ["maxInFlight"]}}`),
 * each with @fairway/quota's patch schema: what the admin API takes in a body.
 *
 * @throws ValidationError naming the tenant and the field.
 */
export function parseQuotaChanges(value: unknown): QuotaChanges {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('changes must be an object of tenant id -> quota change', [{ path: 'changes', message: 'expected an object' }]);
  }
  const changes: Record<string, QuotaPatch> = {};
  for (const [tenant, patch] of Object.entries(value)) {
    if (!isTenantId(tenant)) throw new ValidationError(`changes: '${tenant}' is not a tenant id`, [{ path: `changes.${tenant}`, message: 'not a tenant id' }]);
    changes[tenant] = parseQuotaPatch(patch, `the change of ${tenant}`);
  }
  return changes;
}
