import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorCatalog } from '@fairway/errors';
import { JOB_CLASSES, JOB_STATES, JOB_TYPE_NAMES } from '@fairway/jobs';

// Adds .openapi() to zod types. The request schemas below are the ones the routes validate with,
// so the published document cannot drift from what the edge accepts.
extendZodWithOpenApi(z);

/** The body of POST /v1/jobs. */
export const createJobBody = z
  .object({
    type: z.string().min(1).max(100).openapi({ description: `The job type: one of ${JOB_TYPE_NAMES.join(', ')}`, example: 'synthetic' }),
    params: z.record(z.unknown()).default({}).openapi({ description: "The job type's parameters", example: { ms: 50 } }),
    priority: z.number().int().min(-100).max(100).default(0).openapi({ description: 'Higher runs first within the tenant' }),
  })
  .strict()
  .openapi('CreateJobRequest');

/** The Idempotency-Key header. */
export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .openapi({ description: 'The same key with the same body returns the same job; with another body, 422 IDEMPOTENCY_KEY_REUSED' });

/** A job id in a path. */
export const jobIdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' }, example: '00000000-0000-4000-8000-000000000000' }) });

/** The query of GET /v1/jobs. */
export const listJobsQuery = z
  .object({
    state: z.enum(JOB_STATES).optional(),
    type: z.string().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
  })
  .strict();

const jobStateSchema = z.enum(JOB_STATES);

/** 202 of POST /v1/jobs. */
export const jobAccepted = z
  .object({
    id: z.string().uuid(),
    state: z.literal('accepted'),
    type: z.string(),
    jobClass: z.enum(JOB_CLASSES),
    acceptedAt: z.string().datetime(),
  })
  .openapi('JobAccepted');

/** A job as GET /v1/jobs/{id} returns it. */
export const jobSchema = z
  .object({
    id: z.string().uuid(),
    tenantId: z.string(),
    type: z.string(),
    jobClass: z.string(),
    state: jobStateSchema,
    priority: z.number().int(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    result: z.unknown().nullable(),
    acceptedAt: z.string().datetime(),
    queuedAt: z.string().datetime(),
    startedAt: z.string().datetime().nullable(),
    finishedAt: z.string().datetime().nullable(),
  })
  .openapi('Job');

/** A page of jobs. */
export const jobPage = z.object({ items: z.array(jobSchema), nextCursor: z.string().nullable() }).openapi('JobPage');

/** RFC 9457 problem details with Fairway's stable code. */
export const problemSchema = z
  .object({
    type: z.string().url(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(errorCatalog) as [keyof typeof errorCatalog, ...(keyof typeof errorCatalog)[]]),
    retriable: z.boolean(),
    instance: z.string().optional(),
  })
  .passthrough()
  .openapi('Problem');

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemSchema } } });
const commonErrors = {
  401: problem('No valid credential (UNAUTHENTICATED)'),
  403: problem('TENANT_MISMATCH, TENANT_SUSPENDED or FORBIDDEN'),
  429: problem('RATE_LIMITED or CONCURRENCY_LIMITED; see Retry-After and RateLimit'),
};

/** The OpenAPI 3.1 document of the public API, generated from the schemas the routes use. */
export function openApiDocument(): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'Authorization', description: 'ApiKey <key>' });
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { apiKey: [] }];
  const tenantHeader = z.object({ 'x-tenant-id': z.string().optional().openapi({ description: 'Optional; must name the credential\'s tenant' }) });

  registry.registerPath({
    method: 'post',
    path: '/v1/jobs',
    summary: 'Submit a job (accepted once Kafka stored the command)',
    security,
    request: {
      headers: tenantHeader.extend({ 'idempotency-key': idempotencyKeyHeader.optional() }),
      body: { required: true, content: { 'application/json': { schema: createJobBody } } },
    },
    responses: {
      202: { description: 'Accepted: stored in Kafka', content: { 'application/json': { schema: jobAccepted } } },
      400: problem('VALIDATION_FAILED or MALFORMED_JSON'),
      413: problem('PAYLOAD_TOO_LARGE'),
      415: problem('UNSUPPORTED_MEDIA_TYPE'),
      422: problem('UNKNOWN_JOB_TYPE or IDEMPOTENCY_KEY_REUSED'),
      503: problem('BROKER_UNAVAILABLE: the command was not stored'),
      ...commonErrors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/jobs',
    summary: "List the tenant's jobs, newest first",
    security,
    request: { query: listJobsQuery, headers: tenantHeader },
    responses: { 200: { description: 'A page of jobs', content: { 'application/json': { schema: jobPage } } }, 400: problem('VALIDATION_FAILED'), ...commonErrors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}',
    summary: 'Read one job',
    security,
    request: { params: jobIdParam, headers: tenantHeader },
    responses: { 200: { description: 'The job', content: { 'application/json': { schema: jobSchema } } }, 404: problem('NOT_FOUND'), ...commonErrors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/jobs/{id}',
    summary: 'Cancel a job that has not started',
    security,
    request: { params: jobIdParam, headers: tenantHeader },
    responses: {
      200: { description: 'The cancelled job', content: { 'application/json': { schema: jobSchema } } },
      404: problem('NOT_FOUND'),
      409: problem('JOB_NOT_CANCELLABLE: it already started or finished'),
      ...commonErrors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}/result',
    summary: 'Download the result of a finished export or report job',
    security,
    request: { params: jobIdParam, headers: tenantHeader },
    responses: {
      200: { description: 'The artifact, with the content type it was stored with', content: { 'application/octet-stream': { schema: z.string() } } },
      404: problem('NOT_FOUND: no such job, or no stored result'),
      ...commonErrors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.object({}).passthrough() } } } },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Fairway public API', version: '1.0.0', description: 'Errors are RFC 9457 problem+json; codes in docs/errors.md.' },
    servers: [{ url: '/' }],
  });
}

/** Paths the public API serves, as written in the OpenAPI document. */
export const PUBLIC_ROUTES = [
  ['post', '/v1/jobs'],
  ['get', '/v1/jobs'],
  ['get', '/v1/jobs/{id}'],
  ['delete', '/v1/jobs/{id}'],
  ['get', '/v1/jobs/{id}/result'],
  ['get', '/openapi.json'],
] as const;
