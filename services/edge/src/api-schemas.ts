import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorCatalog } from '@fairway/errors';
import { JOB_CLASSES, JOB_STATES, JOB_TYPE_NAMES } from '@fairway/jobs';
import { listQuerySchema, recordInputSchema, recordPatchSchema, type BusinessRecord, type RecordPage } from '@fairway/records';

// Adds .openapi() to zod types. The request schemas below are the ones the routes validate with,
// so the published document cannot drift from what the edge accepts.
extendZodWithOpenApi(z);

/** The body of POST /v1/jobs. */
export const createJobBody = z
  .object({
    type: z
      .string()
      .min(1)
      .max(100)
      .openapi({ description: `The job type: one of ${JOB_TYPE_NAMES.join(', ')}`, example: 'synthetic' }),
    params: z
      .record(z.unknown())
      .default({})
      .openapi({ description: "The job type's parameters", example: { ms: 50 } }),
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
export const jobIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'id', in: 'path' }, example: '00000000-0000-4000-8000-000000000000' }),
});

/** Text PostgreSQL can compare with: no NUL character (it refuses one in any text value). */
const hasNoNul = (value: string): boolean => !value.includes('\u0000');

/** The query of GET /v1/jobs. */
export const listJobsQuery = z
  .object({
    state: z.enum(JOB_STATES).optional(),
    type: z.string().min(1).max(100).refine(hasNoNul, 'must not contain a NUL character').optional(),
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

/** A record, as /v1/records returns it (libs/records' BusinessRecord; checked against it below). */
export const recordSchema = z
  .object({
    id: z.string().uuid(),
    title: z.string(),
    body: z.string(),
    amount: z.string().openapi({ description: 'A decimal with at most 2 places, as a string: money is never a float', example: '12.50' }),
    tags: z.array(z.string()),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi('Record');

/** A page of records. */
export const recordPage = z.object({ items: z.array(recordSchema), nextCursor: z.string().optional() }).openapi('RecordPage');

// The published record and page must be what the repository returns, field for field.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const recordShapeAgrees: Same<z.infer<typeof recordSchema>, BusinessRecord> & Same<z.infer<typeof recordPage>, RecordPage> = true;
void recordShapeAgrees;

/** A record id in a path. */
const recordIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'id', in: 'path' }, example: '01890a5d-ac96-774b-bcce-b302099a8057' }),
});

/** The errors of every operation that needs a credential. */
const authenticatedErrors = {
  401: problem('UNAUTHENTICATED: no valid credential'),
  403: problem('TENANT_MISMATCH, TENANT_SUSPENDED or FORBIDDEN'),
  429: problem('RATE_LIMITED or CONCURRENCY_LIMITED (the tenant), or AUTHENTICATION_THROTTLED (this client failed authentication too often); see Retry-After'),
  500: problem('INTERNAL: an unexpected error, logged with the request'),
  503: problem('UPSTREAM_UNAVAILABLE or DATABASE_UNAVAILABLE; see Retry-After'),
};
const badPath = problem('VALIDATION_FAILED: the path is not valid percent-encoded UTF-8');
const badBody = problem('VALIDATION_FAILED, MALFORMED_JSON (also a body that is not what its Content-Encoding says)');

/** The OpenAPI 3.1 document of the public API, generated from the schemas the routes use. */
export function openApiDocument(): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A JWT whose tenant_id claim names the tenant',
  });
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: 'ApiKey <key>: a key an operator issued for the tenant',
  });
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { apiKey: [] }];
  const tenantHeader = z.object({ 'x-tenant-id': z.string().optional().openapi({ description: "Optional; must name the credential's tenant" }) });
  const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });

  registry.registerPath({
    method: 'post',
    path: '/v1/jobs',
    operationId: 'createJob',
    tags: ['jobs'],
    summary: 'Submit a job (accepted once Kafka stored the command)',
    security,
    request: {
      headers: tenantHeader.extend({ 'idempotency-key': idempotencyKeyHeader.optional() }),
      body: { required: true, content: json(createJobBody) },
    },
    responses: {
      202: { description: 'Accepted: stored in Kafka', content: json(jobAccepted) },
      400: badBody,
      413: problem('PAYLOAD_TOO_LARGE'),
      415: problem('UNSUPPORTED_MEDIA_TYPE: not JSON, or a Content-Encoding that is not gzip, deflate or br'),
      422: problem('UNKNOWN_JOB_TYPE or IDEMPOTENCY_KEY_REUSED'),
      ...authenticatedErrors,
      503: problem('BROKER_UNAVAILABLE: the command was not stored; or UPSTREAM_UNAVAILABLE'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/jobs',
    operationId: 'listJobs',
    tags: ['jobs'],
    summary: "List the tenant's jobs, newest first",
    security,
    request: { query: listJobsQuery, headers: tenantHeader },
    responses: {
      200: { description: 'A page of jobs', content: json(jobPage) },
      400: problem('VALIDATION_FAILED: a query parameter or the cursor'),
      ...authenticatedErrors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}',
    operationId: 'getJob',
    tags: ['jobs'],
    summary: 'Read one job',
    security,
    request: { params: jobIdParam, headers: tenantHeader },
    responses: { 200: { description: 'The job', content: json(jobSchema) }, 400: badPath, 404: problem('NOT_FOUND'), ...authenticatedErrors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/jobs/{id}',
    operationId: 'cancelJob',
    tags: ['jobs'],
    summary: 'Cancel a job that has not started',
    security,
    request: { params: jobIdParam, headers: tenantHeader },
    responses: {
      200: { description: 'The cancelled job', content: json(jobSchema) },
      400: badPath,
      404: problem('NOT_FOUND'),
      409: problem('JOB_NOT_CANCELLABLE: it already started or finished'),
      ...authenticatedErrors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}/result',
    operationId: 'getJobResult',
    tags: ['jobs'],
    summary: 'Download the result of a finished export or report job',
    security,
    request: { params: jobIdParam, headers: tenantHeader },
    responses: {
      // The worker stores an export as CSV and a report as JSON (services/worker/src/executor.ts);
      // the result is served with the content type it was stored with, so both are listed.
      200: {
        description: 'The artifact, as an attachment, with the content type it was stored with',
        headers: { 'Content-Disposition': { description: 'attachment; filename="<job id>"', schema: { type: 'string' } } },
        content: {
          'text/csv': { schema: z.string().openapi({ description: 'An export: RFC 4180 CSV, UTF-8' }) },
          'application/json': { schema: z.record(z.unknown()).openapi({ description: 'A report' }) },
        },
      },
      400: badPath,
      404: problem('NOT_FOUND: no such job, or no stored result'),
      410: problem("TENANT_KEYS_DESTROYED: the tenant's data keys were destroyed"),
      ...authenticatedErrors,
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/v1/records',
    operationId: 'listRecords',
    tags: ['records'],
    summary: "List the tenant's records in creation order",
    security,
    request: { query: listQuerySchema.openapi({ description: 'cursor: nextCursor of the previous page' }), headers: tenantHeader },
    responses: {
      200: { description: 'A page of records', content: json(recordPage) },
      400: problem('VALIDATION_FAILED: a query parameter or the cursor'),
      410: problem('TENANT_KEYS_DESTROYED'),
      ...authenticatedErrors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/records',
    operationId: 'createRecord',
    tags: ['records'],
    summary: 'Create a record',
    security,
    request: { headers: tenantHeader, body: { required: true, content: json(recordInputSchema.openapi('RecordInput')) } },
    responses: {
      201: {
        description: 'The record; Location names it',
        headers: { Location: { description: 'The path of the new record', schema: { type: 'string' } } },
        content: json(recordSchema),
      },
      400: badBody,
      410: problem('TENANT_KEYS_DESTROYED'),
      413: problem('PAYLOAD_TOO_LARGE'),
      415: problem('UNSUPPORTED_MEDIA_TYPE'),
      ...authenticatedErrors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/records/{id}',
    operationId: 'getRecord',
    tags: ['records'],
    summary: 'Read one record',
    security,
    request: { params: recordIdParam, headers: tenantHeader },
    responses: {
      200: { description: 'The record', content: json(recordSchema) },
      400: badPath,
      404: problem('NOT_FOUND'),
      410: problem('TENANT_KEYS_DESTROYED'),
      ...authenticatedErrors,
    },
  });
  registry.registerPath({
    method: 'patch',
    path: '/v1/records/{id}',
    operationId: 'updateRecord',
    tags: ['records'],
    summary: 'Change some fields of a record',
    security,
    request: { params: recordIdParam, headers: tenantHeader, body: { required: true, content: json(recordPatchSchema.openapi('RecordPatch')) } },
    responses: {
      200: { description: 'The changed record', content: json(recordSchema) },
      400: problem('VALIDATION_FAILED, MALFORMED_JSON, or a path that is not valid percent-encoded UTF-8'),
      404: problem('NOT_FOUND'),
      410: problem('TENANT_KEYS_DESTROYED'),
      413: problem('PAYLOAD_TOO_LARGE'),
      415: problem('UNSUPPORTED_MEDIA_TYPE'),
      ...authenticatedErrors,
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/records/{id}',
    operationId: 'deleteRecord',
    tags: ['records'],
    summary: 'Delete a record',
    security,
    request: { params: recordIdParam, headers: tenantHeader },
    responses: { 204: { description: 'Deleted' }, 400: badPath, 404: problem('NOT_FOUND'), ...authenticatedErrors },
  });

  // The operations below are public on purpose: `security: []` says so, rather than leaving it unsaid.
  const notFound = problem('ROUTE_NOT_FOUND: only GET is served here');
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tags: ['meta'],
    summary: 'This document',
    security: [],
    responses: { 200: { description: 'OpenAPI 3.1', content: json(z.record(z.unknown())) }, 404: notFound },
  });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    operationId: 'getHealth',
    tags: ['meta'],
    summary: 'Liveness: the process serves HTTP',
    security: [],
    responses: { 200: { description: 'Alive', content: json(z.object({ status: z.literal('ok') })) }, 404: notFound },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    operationId: 'getReadiness',
    tags: ['meta'],
    summary: 'Readiness: the edge can take requests',
    security: [],
    responses: {
      200: { description: 'Ready', content: json(z.object({ status: z.enum(['ready', 'not ready']) })) },
      404: notFound,
      503: { description: 'Not ready (shutting down, or its dependencies are not)', content: json(z.object({ status: z.enum(['ready', 'not ready']) })) },
    },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Fairway public API',
      version: '1.0.0',
      description: 'Errors are RFC 9457 problem+json; codes in docs/errors.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // Relative: the document describes the edge that serves it, wherever that is deployed.
    servers: [{ url: '/', description: 'The edge that serves this document' }],
    tags: [
      { name: 'jobs', description: 'Submit, list, read and cancel jobs, and download their results' },
      { name: 'records', description: "The tenant's records, in whichever isolation model the tenant lives" },
      { name: 'meta', description: 'This document and the probes; no credential needed' },
    ],
  });
}

/** Paths the public API serves, as written in the OpenAPI document. */
export const PUBLIC_ROUTES = [
  ['post', '/v1/jobs'],
  ['get', '/v1/jobs'],
  ['get', '/v1/jobs/{id}'],
  ['delete', '/v1/jobs/{id}'],
  ['get', '/v1/jobs/{id}/result'],
  ['get', '/v1/records'],
  ['post', '/v1/records'],
  ['get', '/v1/records/{id}'],
  ['patch', '/v1/records/{id}'],
  ['delete', '/v1/records/{id}'],
  ['get', '/openapi.json'],
  ['get', '/healthz'],
  ['get', '/readyz'],
] as const;
