import { AsyncLocalStorage } from 'node:async_hooks';
import { TenantRequiredError } from '@fairway/errors';
import type { TenantId } from './tenant-id';

/** How the tenant of the current work was established. */
export type TenantSource = 'jwt' | 'api-key' | 'kafka' | 'grpc' | 'job' | 'system';

/**
 * Who the current work is for. Immutable: a new scope gets a new value, so nothing downstream can
 * change the tenant of work already in flight.
 */
export interface TenantContext {
  readonly tenantId: TenantId;
  readonly source: TenantSource;
  /** The request or job that started this work, for logs. */
  readonly correlationId?: string;
}

const storage = new AsyncLocalStorage<TenantContext>();

/** Builds a frozen TenantContext. */
export function tenantContext(tenantId: TenantId, source: TenantSource, correlationId?: string): TenantContext {
  return Object.freeze(correlationId === undefined ? { tenantId, source } : { tenantId, source, correlationId });
}

/** Runs `fn` with `ctx` as the current tenant context. */
export function runWithTenant<T>(ctx: TenantContext, fn: () => T): T {
  return storage.run(Object.isFrozen(ctx) ? ctx : Object.freeze({ ...ctx }), fn);
}

/** The current tenant context, or undefined outside any tenant scope. */
export function currentTenant(): TenantContext | undefined {
  return storage.getStore();
}

/** The current tenant context; throws TenantRequiredError outside any tenant scope. */
export function requireTenant(what = 'this operation'): TenantContext {
  const ctx = storage.getStore();
  if (!ctx) throw new TenantRequiredError(what);
  return ctx;
}
