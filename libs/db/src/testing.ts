import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { TenantId } from '@fairway/tenant-context';
import { createPool } from './pool';
import { upsertTenant, type IsolationModel } from './tenants';
import { deprovisionTenant, provisionTenant } from './tenant-data/tenant-provisioning';

/** Connection URLs of the test database, one per role (set by the test tier's global setup). */
export function testDatabaseUrls(): { owner: string; app: string; scheduler: string } {
  const raw = process.env['FAIRWAY_TEST_DATABASE_URLS'];
  if (!raw) throw new Error('FAIRWAY_TEST_DATABASE_URLS is not set: run the suite with `npm test`');
  return JSON.parse(raw) as { owner: string; app: string; scheduler: string };
}

/** The admin URL of the test database (superuser: for tests that act "behind the application's back"). */
export function testAdminUrl(): string {
  const url = process.env['FAIRWAY_TEST_DATABASE_ADMIN_URL'];
  if (!url) throw new Error('FAIRWAY_TEST_DATABASE_ADMIN_URL is not set: run the suite with `npm test`');
  return url;
}

/**
 * Drops a database a test made for itself on the server of `adminUrl` (any database's URL there, as
 * a superuser), ending its sessions first. `name` is a test's own identifier, never user input.
 */
export async function dropTestDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = createPool({ connectionString: new URL('/postgres', adminUrl).toString(), applicationName: 'fairway-test-drop', max: 1 });
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end());
}

/** Pools on the test database for each role; `end()` closes them all. */
export function testPools(): { owner: Pool; app: Pool; scheduler: Pool; end: () => Promise<void> } {
  const urls = testDatabaseUrls();
  const owner = createPool({ connectionString: urls.owner, applicationName: 'fairway-test-owner', max: 4 });
  const app = createPool({ connectionString: urls.app, applicationName: 'fairway-test-app', max: 4 });
  const scheduler = createPool({ connectionString: urls.scheduler, applicationName: 'fairway-test-scheduler', max: 4 });
  return { owner, app, scheduler, end: async () => void (await Promise.all([owner.end(), app.end(), scheduler.end()])) };
}

/** A tenant id no other test uses. */
export function uniqueTenantId(prefix = 't'): TenantId {
  return `${prefix}-${randomBytes(5).toString('hex')}` as TenantId;
}

/** Creates a uniquely named active tenant in the catalog and returns its id. */
export async function createTestTenant(owner: Pool, prefix = 't'): Promise<TenantId> {
  const id = uniqueTenantId(prefix);
  await upsertTenant(owner, { id });
  return id;
}

/** Removes test tenants (and, by cascade, their jobs) and any query time limits set for them. */
export async function dropTestTenants(owner: Pool, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await owner.query("DELETE FROM query_timeouts WHERE scope = 'tenant' AND name = ANY($1::text[])", [ids]);
  await owner.query('DELETE FROM tenants WHERE id = ANY($1::text[])', [ids]);
}

/**
 * Onboards a uniquely named tenant in `model` through provisionTenant (schema and database tenants
 * get their schema or database, migrated), as the owner of the test database.
 */
export async function createIsolatedTestTenant(owner: Pool, model: IsolationModel, prefix = 't'): Promise<TenantId> {
  const id = uniqueTenantId(prefix);
  await provisionTenant({ ownerPool: owner, ownerUrl: testDatabaseUrls().owner }, { id, isolationModel: model });
  return id;
}

/** Offboards test tenants of any model (drops their schema or database) and removes their catalog rows. */
export async function dropIsolatedTestTenants(owner: Pool, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await deprovisionTenant({ ownerPool: owner, ownerUrl: testDatabaseUrls().owner }, id as TenantId).catch(() => undefined);
  }
  await dropTestTenants(owner, ids);
}

/** A promise with its settle functions, for tests that settle a write or a call by hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/** A {@link Deferred} (Node 20 has no Promise.withResolvers). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** How long and how often {@link eventually} polls. */
export interface EventuallyOptions {
  /** Give up after this long, ms (10 s by default). */
  timeoutMs?: number;
  /** Pause between two probes, ms (100 by default; 0 yields to the event loop once). */
  intervalMs?: number;
}

/** Characters of the last value an {@link eventually} timeout shows. */
const LAST_VALUE_CHARS = 500;

function describeValue(value: unknown): string {
  let text: string;
  try {
    text = value instanceof Map ? JSON.stringify([...value.entries()]) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > LAST_VALUE_CHARS ? `${text.slice(0, LAST_VALUE_CHARS)}...` : text;
}

/**
 * The one polling wait of the test suites: probes until the awaited state is there, and fails
 * with a message naming it (`what`) after `timeoutMs`, instead of a bare sleep or a hand-written
 * deadline loop. The probe runs at least once, each probe finishes before the next starts, and an
 * error it throws is not retried (it fails the wait at once).
 *
 * Without `until`, the probe returns `undefined` for "not yet" and the value it finally returns is
 * the result:
 * ```ts
 * const spans = await eventually('three spans of the job', async () => { const s = await read(); return s.length >= 3 ? s : undefined; }, { timeoutMs: 30_000 });
 * ```
 * With `until`, the first value that satisfies it is the result, and a timeout shows the last value read:
 * ```ts
 * const res = await eventually('the edge to refuse the suspended tenant', () => api('GET', '/v1/jobs'), { until: (r) => r.status === 403 });
 * ```
 */
export async function eventually<T>(what: string, probe: () => Promise<T> | T, options: EventuallyOptions & { until: (value: T) => boolean }): Promise<T>;
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, options?: EventuallyOptions): Promise<T>;
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: EventuallyOptions & { until?: (value: T) => boolean } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 100, until } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (until ? until(value as T) : value !== undefined) return value as T;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${until ? `; last value: ${describeValue(value)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
