import type { SetTenantQuotaRequest, SetTenantQuotaRequest__Output, TenantQuotaMessage, TenantQuotaMessage__Output } from '@fairway/grpc';
import { parseQuotaPatch, QUOTA_DEFAULTS, QUOTA_FIELDS, tenantQuotaSchema, type QuotaPatch, type TenantQuota } from './quota';

// The generated messages and the schema name the same fields, or this file does not compile (the
// `_field` keys are proto-loader's presence markers of proto3 `optional` fields). contract.test.ts
// checks the same against the .proto at run time.
type Fields<T> = Exclude<keyof T, `_${string}`>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const quotaFieldsMatch: Same<Fields<TenantQuotaMessage__Output>, keyof TenantQuota> = true;
const patchFieldsMatch: Same<Fields<SetTenantQuotaRequest__Output>, keyof QuotaPatch | 'tenantId' | 'actor'> = true;
void quotaFieldsMatch;
void patchFieldsMatch;

/**
 * Whether a proto3 field is present: the `_field` marker of an `optional` scalar when the message
 * was decoded, else the value itself (an empty string, map or list is absent: proto3 sends no default).
 */
function present(message: object, field: string): boolean {
  const m = message as Record<string, unknown>;
  const marker = m[`_${field}`];
  if (marker !== undefined) return marker === field;
  const value = m[field];
  if (value === undefined || value === null || value === '') return false;
  return typeof value !== 'object' || Object.keys(value).length > 0;
}

/** The fields of `source` that are set (not null), as a proto message wants them: unset is absent. */
function setFields(source: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(QUOTA_FIELDS.filter((f) => source[f] !== undefined && source[f] !== null).map((f) => [f, source[f]]));
}

/** A quota as SchedulerAdmin sends it. */
export function quotaToMessage(quota: TenantQuota): TenantQuotaMessage {
  return { tenantId: quota.tenantId, updatedAt: quota.updatedAt, updatedBy: quota.updatedBy, ...setFields(quota) };
}

/** A quota SchedulerAdmin sent, validated: an absent limit is its default. */
export function quotaFromMessage(message: TenantQuotaMessage__Output): TenantQuota {
  const m = message as unknown as Record<string, unknown>;
  return tenantQuotaSchema.parse({
    tenantId: message.tenantId,
    updatedAt: message.updatedAt,
    updatedBy: message.updatedBy,
    ...Object.fromEntries(QUOTA_FIELDS.map((f) => [f, present(message, f) ? m[f] : QUOTA_DEFAULTS[f]])),
  });
}

/** The SetTenantQuota request of a validated change. */
export function patchToMessage(tenantId: string, patch: QuotaPatch, actor: string): SetTenantQuotaRequest {
  return { tenantId, actor, clear: [...patch.clear], ...setFields(patch) };
}

/** The change a SetTenantQuota request asks for, validated (a ValidationError names every bad field). */
export function patchFromMessage(request: SetTenantQuotaRequest__Output): QuotaPatch {
  const r = request as unknown as Record<string, unknown>;
  return parseQuotaPatch(
    { clear: request.clear, ...Object.fromEntries(QUOTA_FIELDS.filter((f) => present(request, f)).map((f) => [f, r[f]])) },
    `the quota of '${request.tenantId}'`,
  );
}
