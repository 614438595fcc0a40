import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { prepareDatabase, type PreparedDatabase } from '@fairway/db';
import { clientCredentials, loadTenantCatalogProto, transportSecurityFromEnv, type TenantCatalogClient, type TenantMessage__Output } from '@fairway/grpc';
import { createKafka, topicNames } from '@fairway/kafka';
import { dropTestDatabase, eventually, testAdminUrl } from '@fairway/db/testing';
import type { E2eStack } from '../global-setup';

/** The running stack (started by global-setup). */
export function stack(): E2eStack {
  const raw = process.env['FAIRWAY_E2E'];
  if (!raw) throw new Error('FAIRWAY_E2E is not set: run the end-to-end tier with `npm test`');
  return JSON.parse(raw) as E2eStack;
}

/** The stack's Kafka topics and a client on its broker. */
export function stackKafka() {
  const s = stack();
  return { kafka: createKafka({ brokers: s.brokers, clientId: 'fairway-e2e' }), topics: topicNames(s.topicPrefix) };
}

/** A development bearer token for `tenant` (or a forged one, with options). */
export async function token(tenant: string, options: { secret?: string; expiresIn?: string; audience?: string } = {}): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- shared with `npm run -s token`
  const { devToken } = require('../../../scripts/lib/token.cjs') as { devToken: (t: string, o: object) => Promise<string> };
  return devToken(tenant, options);
}

/**
 * Client credentials of a test acting as Fairway service `identity` (its development certificate),
 * expecting to reach `server`; plaintext when the stack runs with FAIRWAY_GRPC_INSECURE=true.
 */
export function serviceCredentials(identity: string, server: string): grpc.ChannelCredentials {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- shared with the stack scripts
  const { transportEnv } = require('../../../scripts/lib/services.cjs') as { transportEnv: () => (s: string) => NodeJS.ProcessEnv };
  return clientCredentials(transportSecurityFromEnv(transportEnv()(identity)), { expectServer: server });
}

/** A TenantCatalog client on the stack's control plane, calling as the operators' CLI would. */
export function catalogClient(): TenantCatalogClient {
  const TenantCatalog = loadTenantCatalogProto().fairway.tenancy.v1.TenantCatalog;
  return new TenantCatalog(stack().controlPlane, serviceCredentials('tenantctl', 'control-plane'));
}

/** Creates a tenant through the control plane's gRPC API. */
export function createTenant(client: TenantCatalogClient, id: string): Promise<TenantMessage__Output> {
  return new Promise((resolve, reject) =>
    client.createTenant({ id, displayName: `E2E ${id}` }, (err, tenant) => (err || !tenant ? reject(err ?? new Error('no tenant')) : resolve(tenant))),
  );
}

/**
 * Onboards tenants through the control plane's gRPC API and returns a bearer token for each, in
 * the same order.
 */
export async function onboard(...tenantIds: string[]): Promise<string[]> {
  const client = catalogClient();
  try {
    for (const id of tenantIds) await createTenant(client, id);
  } finally {
    client.close();
  }
  return Promise.all(tenantIds.map((id) => token(id)));
}

/** Calls the edge. */
export async function api(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(`${stack().edgeUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls GET /v1/jobs/{id} until the job reaches a terminal state, or fails after `timeoutMs`. */
export async function waitForJob(id: string, bearer: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const res = await eventually(`job ${id} to finish`, () => api('GET', `/v1/jobs/${id}`, { token: bearer }), {
    until: (r) => r.status === 200 && ['succeeded', 'failed', 'dead', 'cancelled'].includes(String(r.body['state'])),
    timeoutMs,
  });
  return res.body;
}

/**
 * A database of the test's own on the test server (its scheduler must not meet the shared stack's
 * jobs), prepared as the stack's is, named `<prefix>_<random>`; `drop()` removes it (afterAll), so
 * that no run leaves one behind.
 */
export async function ownDatabase(prefix: string): Promise<PreparedDatabase & { drop: () => Promise<void> }> {
  const adminUrl = new URL(testAdminUrl());
  const database = `${prefix}_${randomBytes(4).toString('hex')}`;
  adminUrl.pathname = `/${database}`;
  const prepared = await prepareDatabase(adminUrl.toString());
  return {
    ...prepared,
    drop: () => dropTestDatabase(adminUrl.toString(), database),
  };
}
