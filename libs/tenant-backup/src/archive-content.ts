import type { IsolationModel, TenantStatus } from '@fairway/db';

/**
 * The archive's plaintext: UTF-8 lines. A line starting with `@` is a control line (`@` + JSON);
 * any other line is one row, the JSON of the row as PostgreSQL's to_jsonb writes it, with
 * `tenant_id` left out (a restore writes its own) and numeric and bigint columns as strings (so
 * that no value passes through a JavaScript number).
 *
 *   @{"k":"meta", ...ArchiveMeta}
 *   @{"k":"section","name":"audit_log"}     the tenant's audit chain, first: a restore verifies it before any data
 *   {...row} ...
 *   @{"k":"end","name":"audit_log","rows":n,"sha256":"..."}   sha256 over the section's row lines, newlines included
 *   ... one section per table of SECTIONS
 *   @{"k":"manifest","sections":[{name, rows, sha256}, ...]}
 */
export const CONTROL_PREFIX = '@';

/** A data key of the tenant, unwrapped from the KEK: the archive carries it sealed for the backup key. */
export interface ArchivedKey {
  version: number;
  /** base64 of the 32-byte key. */
  key: string;
}

/** The first line: who was backed up, from where, and the key material its sealed values need. */
export interface ArchiveMeta {
  k: 'meta';
  format: 1;
  tenant: {
    id: string;
    slug: string;
    displayName: string;
    status: TenantStatus;
    isolationModel: IsolationModel;
    plan: string;
    createdAt: string;
  };
  keys: ArchivedKey[];
  /** The head of the tenant's audit chain when the snapshot was taken (null: no entries). */
  auditHead: { seq: string; hash: string } | null;
}

/** A section's count and checksum. */
export interface SectionDigest {
  name: string;
  rows: number;
  sha256: string;
}

/**
 * One table of a tenant in the archive.
 * - `store`: `catalog` tables hold the tenant's rows with a `tenant_id` column; `data` is the
 *   tenant's own store (its pooled rows, its schema or its database), where the isolation model says.
 * - `key`: the order rows are written in (the primary key).
 * - `remap`: uuid columns given new values when restoring under another tenant id (ids are unique
 *   across tenants in the shared tables, so a copy next to its original cannot keep them).
 * - `sealed`: a column sealed with the tenant's data key, re-sealed under the new tenant's key when
 *   restoring under another id (`lines`: one ciphertext per line of the value).
 * - `omit`: columns the restoring database assigns itself (a bigserial id).
 * - `sameTenantOnly`: restored only under the tenant's own id: API keys are credentials of that
 *   tenant, and a copy must not answer to the original's keys.
 */
export interface SectionSpec {
  name: string;
  store: 'catalog' | 'data';
  key: readonly string[];
  remap?: readonly string[];
  sealed?: { column: string; lines: boolean };
  omit?: readonly string[];
  sameTenantOnly?: boolean;
}

/** The audit chain's section: verified on restore, never written back (see restore.ts). */
export const AUDIT_SECTION = 'audit_log';

/**
 * Everything of a tenant besides its catalog row and keys, in the order it is written and restored
 * (parents before children: jobs before their effects, artifacts and result chunks).
 */
export const SECTIONS: readonly SectionSpec[] = [
  { name: 'tenant_quotas', store: 'catalog', key: ['tenant_id'] },
  { name: 'tenant_quota_history', store: 'catalog', key: ['id'], omit: ['id'] },
  { name: 'api_keys', store: 'catalog', key: ['id'], sameTenantOnly: true },
  { name: 'records', store: 'data', key: ['id'], remap: ['id'], sealed: { column: 'body', lines: false } },
  { name: 'jobs', store: 'catalog', key: ['id'], remap: ['id'] },
  { name: 'job_effects', store: 'catalog', key: ['job_id'], remap: ['job_id'] },
  { name: 'job_artifacts', store: 'catalog', key: ['job_id'], remap: ['job_id'], sealed: { column: 'body', lines: true } },
  { name: 'job_result_chunks', store: 'catalog', key: ['job_id', 'attempt', 'seq'], remap: ['job_id'], sealed: { column: 'body', lines: false } },
];

/** A control line's bytes. */
export function controlLine(value: object): Buffer {
  return Buffer.from(`${CONTROL_PREFIX}${JSON.stringify(value)}\n`, 'utf8');
}

/** `name` quoted as an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
