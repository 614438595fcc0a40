import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { TestEdge } from './testing';

interface Operation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: 'path' | 'query' | 'header' }>;
  hasBody: boolean;
}

interface RawResponse {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Sends exactly these bytes (a path and headers no client library would let through) and reads the
 * status line, content type and body of the answer.
 */
function send(port: number, method: string, path: string, headers: Record<string, string>, body: Buffer = Buffer.alloc(0)): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const head = [
      `${method} ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      `Content-Length: ${body.length}`,
      'Connection: close',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ].join('\r\n');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${path}`)));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [headPart = '', ...rest] = text.split('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headPart)?.[1] ?? 0),
        contentType: /\r\ncontent-type: ([^\r\n]*)/i.exec(headPart)?.[1] ?? '',
        body: rest.join('\r\n\r\n'),
      });
    });
    // write(), not end(): a client that half-closes its side is a client that went away, and the
    // server drops the answers it has not written yet. `Connection: close` ends the exchange.
    socket.write(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]));
  });
}

/** A base64url cursor that decodes to JSON the list endpoints must refuse, not pass to PostgreSQL. */
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const BAD_CURSOR = cursorOf(['1', '-'.repeat(36)]);

/** Path segments whose percent-encoding does not decode, or decodes to what no id is. */
const BAD_SEGMENTS = ['%', '%C3%28', '%E0%A4%A', '%FF', '%00', '%2F..%2F', '%ZZ', 'a%', encodeURIComponent('\u0000'), 'x'.repeat(2_000)];
/** Query values of every kind of trouble, already percent-encoded. */
const BAD_QUERY_VALUES = [
  '%00',
  'a%00b',
  '%',
  '%C3%28',
  BAD_CURSOR,
  cursorOf(['0000-01-01T00:00:00.000000Z', randomUUID()]),
  cursorOf([1, 2]),
  '-1',
  '1e400',
  'NaN',
  '',
  '%20',
  'x'.repeat(5_000),
];
const BAD_HEADER_VALUES = ['', ' ', 'é', '%00', '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-00', 'tenant.id=victim,other=%FF', 'x'.repeat(4_000)];

describe('the public edge answers malformed input with 4xx problem+json, never 5xx', () => {
  const edge = new TestEdge();
  let authorization = '';
  let operations: Operation[] = [];

  beforeAll(async () => {
    await edge.start({ records: true });
    ({ authorization } = await edge.tenant());
    const doc = (await (await fetch(`${edge.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Operation['parameters']; requestBody?: unknown }>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        hasBody: op.requestBody !== undefined,
      })),
    );
  });

  afterAll(() => edge.close());

  const auth = () => ({ authorization, 'content-type': 'application/json' });

  it.each([
    ['a lone % in a job id', 'GET', '/v1/jobs/%'],
    ['bytes that are not UTF-8 in a job id', 'GET', '/v1/jobs/%C3%28'],
    ['bytes that are not UTF-8 in a job id to cancel', 'DELETE', '/v1/jobs/%C3%28'],
    ['a lone % in the job id of a result', 'GET', '/v1/jobs/%/result'],
    ['bytes that are not UTF-8 in the job id of a result', 'GET', '/v1/jobs/%C3%28/result'],
    ['a lone % in a record id', 'GET', '/v1/records/%'],
    ['bytes that are not UTF-8 in a record id', 'GET', '/v1/records/%C3%28'],
    ['bytes that are not UTF-8 in a record id to delete', 'DELETE', '/v1/records/%C3%28'],
    ['a NUL in the type filter', 'GET', '/v1/jobs?type=a%00b'],
    ['a NUL in the tag filter', 'GET', '/v1/records?tag=%00'],
    ['a jobs cursor of ["1","---…"]', 'GET', `/v1/jobs?cursor=${BAD_CURSOR}`],
    ['a jobs cursor dated year 0000', 'GET', `/v1/jobs?cursor=${cursorOf(['0000-01-01T00:00:00.000000Z', randomUUID()])}`],
    ['a jobs cursor dated 30 February', 'GET', `/v1/jobs?cursor=${cursorOf(['2024-02-30T00:00:00.000000Z', randomUUID()])}`],
    ['a records cursor of ["1","---…"]', 'GET', `/v1/records?cursor=${BAD_CURSOR}`],
  ])('400 for %s (%s %s)', async (_name, method, path) => {
    const res = await send(edge.port, method, path, auth());
    expect(res.status).toBe(400);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it.each([
    ['a job', 'POST', '/v1/jobs'],
    ['a record', 'POST', '/v1/records'],
    ['a record change', 'PATCH', `/v1/records/${randomUUID()}`],
  ])('400 MALFORMED_JSON for %s sent with Content-Encoding: gzip that is not gzip, 415 for an unknown encoding', async (_name, method, path) => {
    const notGzip = await send(edge.port, method, path, { ...auth(), 'content-encoding': 'gzip' }, Buffer.from('{"type":"synthetic"}'));
    expect(notGzip.status).toBe(400);
    expect(notGzip.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(notGzip.body)).toMatchObject({ code: 'MALFORMED_JSON' });
    const unknown = await send(edge.port, method, path, { ...auth(), 'content-encoding': 'x-unheard-of' }, Buffer.from('{}'));
    expect(unknown.status).toBe(415);
    expect(JSON.parse(unknown.body)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('takes a body that really is gzip', async () => {
    const res = await send(edge.port, 'POST', '/v1/jobs', { ...auth(), 'content-encoding': 'gzip' }, gzipSync('{"type":"synthetic","params":{"ms":1}}'));
    expect(res.status).toBe(202);
  });

  it.each([
    ['a NUL in a record title', 'POST', '/v1/records', { title: 'a\u0000b' }],
    ['a NUL in a record body', 'POST', '/v1/records', { title: 'ok', body: '\u0000' }],
    ['a NUL in a changed record title', 'PATCH', `/v1/records/${randomUUID()}`, { title: '\u0000' }],
  ])('400 VALIDATION_FAILED for %s (PostgreSQL would refuse it)', async (_name, method, path, body) => {
    const res = await send(edge.port, method, path, auth(), Buffer.from(JSON.stringify(body)));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('never answers 5xx to any documented operation driven with malformed path, query, header and body values (property)', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(13);
    const stringWithTrouble = fc.oneof(
      fc.constantFrom('\u0000', 'a\u0000', '\ud800', '\udfff', '', ' ', 'x'.repeat(20_000)),
      fc.fullUnicodeString({ maxLength: 30 }),
      fc.string({ maxLength: 30 }),
    );
    // JSON bodies shaped like the operations' (the fields they read) with troubled values.
    const jsonBody = fc.record(
      {
        type: fc.oneof(fc.constant('synthetic'), stringWithTrouble),
        params: fc.oneof(fc.constant({ ms: 1 }), fc.dictionary(stringWithTrouble, fc.oneof(stringWithTrouble, fc.integer(), fc.double()), { maxKeys: 3 })),
        priority: fc.oneof(fc.integer(), fc.double(), stringWithTrouble),
        title: stringWithTrouble,
        body: stringWithTrouble,
        amount: fc.oneof(fc.double(), stringWithTrouble, fc.constantFrom('1e400', '99999999999999999.99', '-0.001')),
        tags: fc.array(stringWithTrouble, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      jsonBody.map((value) => ({ bytes: Buffer.from(JSON.stringify(value)), encoding: undefined as string | undefined })),
      fc
        .tuple(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'gzip, gzip', 'x-unheard-of'))
        .map(([bytes, encoding]) => ({ bytes: Buffer.from(bytes), encoding })),
      jsonBody.map((value) => ({ bytes: gzipSync(JSON.stringify(value)).subarray(0, 12), encoding: 'gzip' as string | undefined })),
    );
    const requests = fc.record({
      operation: fc.constantFrom(...operations),
      segment: fc.oneof(fc.constantFrom(...BAD_SEGMENTS), fc.constant(randomUUID())),
      query: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...BAD_QUERY_VALUES)), { maxLength: 3 }),
      headerValue: fc.constantFrom(...BAD_HEADER_VALUES),
      headerName: fc.constantFrom('x-tenant-id', 'idempotency-key', 'traceparent', 'tracestate', 'baggage', 'x-request-id', 'content-type'),
      body,
    });
    await fc.assert(
      fc.asyncProperty(requests, async ({ operation, segment, query, headerValue, headerName, body: payload }) => {
        const path = operation.path.replace(/\{[^}]+\}/g, segment);
        // Every query parameter the operation documents, and a name it does not.
        const names = [...operation.parameters.filter((p) => p.in === 'query').map((p) => p.name), 'unknown'];
        const search = query.map(([i, value]) => `${names[i % names.length] as string}=${value}`).join('&');
        const headers: Record<string, string> = { ...auth(), [headerName]: headerValue };
        if (payload.encoding !== undefined) headers['content-encoding'] = payload.encoding;
        const res = await send(edge.port, operation.method, search ? `${path}?${search}` : path, headers, operation.hasBody ? payload.bytes : Buffer.alloc(0));
        if (res.status === 0 || res.status >= 500)
          throw new Error(
            `${operation.method} ${path}?${search} [${headerName}: ${headerValue.slice(0, 40)}] answered ${res.status}: ${res.body.slice(0, 300)}`,
          );
        if (res.status >= 400 && res.contentType !== '') expect(res.contentType).toMatch(/^application\/problem\+json/);
      }),
      { numRuns: 400 },
    );
  });
});
