import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { quotaLimitsSchema } from '@fairway/quota';
import { traceWindowSchema, WHAT_IF_MAX_JOBS, whatIfBodySchema } from './what-if-schemas';

// Adds .openapi() to zod types; the request schemas documented are the ones the routes validate with.
extendZodWithOpenApi(z);

const waits = z.object({ waitP50Ms: z.number(), waitP99Ms: z.number() }).openapi('WaitFigures');
const tenantWhatIf = z
  .object({
    tenant: z.string(),
    jobs: z.number().int(),
    quota: z.object({ recorded: quotaLimitsSchema, proposed: quotaLimitsSchema }),
    recorded: waits.describe('started_at - accepted_at of the jobs table'),
    simulated: waits.describe("the fair core's simulator replaying the trace with the recorded quotas"),
    proposed: waits.describe('the same replay with the proposed changes'),
    ideal: waits.describe('the fluid ideal (water-filled GPS) with the proposed changes'),
    idealRecorded: waits.describe('the fluid ideal with the recorded quotas'),
  })
  .openapi('TenantWhatIf');
const whatIfReport = z
  .object({
    from: z.string(),
    to: z.string(),
    jobs: z.number().int(),
    unfinished: z.number().int().describe('jobs that arrived in the window but had not finished: left out'),
    tiers: z.record(z.object({ slots: z.number().int(), lendTo: z.array(z.string()).optional() })),
    changes: z.record(z.record(z.unknown())),
    tenants: z.array(tenantWhatIf),
    fidelity: z
      .object({ worstP50ErrorMs: z.number(), worstP99ErrorMs: z.number() })
      .describe('how far the replay of the recorded quotas lands from the recorded waits'),
    dispatchOverheadMs: z
      .record(z.number())
      .describe('per tier, slot time per job beyond the measured cost, estimated from the trace and added in the replays'),
  })
  .openapi('WhatIfReport');
const problem = (description: string) => ({
  description,
  content: {
    'application/problem+json': { schema: z.object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string(), code: z.string() }) },
  },
});

/**
 * The OpenAPI 3.1 document of the admin API's what-if operations (GET /trace, POST /what-if),
 * generated from the zod schemas the routes validate with, served at GET /admin/v1/what-if/openapi.json.
 */
export function whatIfOpenApiDocument(): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'operator', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An operator token (OPERATOR_JWT_*): role "operator", no tenant_id',
  });
  const security = [{ operator: [] }];
  const errors = {
    400: problem('VALIDATION_FAILED, naming the parameter or the change'),
    401: problem('UNAUTHENTICATED'),
    403: problem('FORBIDDEN'),
    503: problem('the scheduler did not answer'),
  };
  registry.registerPath({
    method: 'get',
    path: '/admin/v1/trace',
    operationId: 'exportTrace',
    tags: ['what-if'],
    summary:
      "The finished jobs of a window of the jobs table as a trace (JSON lines), streamed, then an end line with the tiers, every tenant's quota and the count",
    security,
    request: { query: traceWindowSchema },
    responses: {
      200: {
        description: 'One job a line (id, t, tenant, class, cost, priority, wait, attempts, state; times in ms), the end line last',
        content: { 'application/x-ndjson': { schema: z.string() } },
      },
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/admin/v1/what-if',
    operationId: 'whatIf',
    tags: ['what-if'],
    summary:
      'Replays a recorded trace with proposed quota changes beside the recorded waits and the fluid ideal: a window of the jobs table (JSON), or a trace GET /trace wrote (JSON lines, ?set=tenant:field=value)',
    security,
    request: {
      query: z.object({ set: z.array(z.string()).optional().describe('with a JSON-lines body: tenant:field=value, e.g. acme:weight=3 (repeat)') }),
      body: {
        required: true,
        content: {
          'application/json': { schema: whatIfBodySchema },
          'application/x-ndjson': { schema: z.string().describe(`a trace of at most ${WHAT_IF_MAX_JOBS} jobs`) },
        },
      },
    },
    responses: { 200: { description: 'The per-tenant comparison', content: { 'application/json': { schema: whatIfReport } } }, ...errors },
  });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Fairway admin API: what-if on recorded traffic', version: '1' },
  });
}
